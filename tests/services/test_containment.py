"""Holds and recalls of one lot or of every lot from a bank: each lot reached moves under its own
signature (released → RECALLED, quarantined → ON_HOLD, rejected untouched), the record lists every
unit and where it is stored, and a containment that reaches nothing or has no reason is refused.
A hold or recall leaves earlier signatures valid (the dossier did not change); the database refuses
to change or delete a signature or a containment link."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.decisions import Action
from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.domain.states import USABLE_LOT_STATES
from lotrack.models import CellBank, Containment, Signature, Unit
from lotrack.services import audit, cellbank, containment, deviation
from lotrack.services import lot as lots
from lotrack.services.release import SignIn
from lotrack.services.signature import SignatureRefused, signatures_of
from tests.conftest import PASSWORDS, execute_as_owner, user
from tests.services.test_release import (
    LOCKOUT,
    new_lot,
    qa_contains,
    qa_decides,
    signature_count,
    signing,
)

YEAR = utcnow().year
DEMO_UNITS = {"CFM-2025-0001": 4, "CFM-2025-0002": 3, "CFM-2025-0003": 5, "CFM-2025-0004": 2}


def bank(s: Session, code: str) -> CellBank:
    return cellbank.get_bank(s, code)


def states(s: Session) -> dict[str, str]:
    return {n: lots.get_lot(s, n).state for n in DEMO_UNITS}


def reached(record: Containment) -> dict[str, tuple[str, str]]:
    return {link.lot.lot_number: (link.from_state, link.to_state) for link in record.lots}


def test_a_hold_of_one_released_lot_is_signed_recorded_and_lists_its_units(session):
    s = session
    lot = lots.get_lot(s, "CFM-2025-0001")
    record = qa_contains(s, "hold", reason="complaint: bag leaking", lot=lot)
    assert (record.number, record.kind, record.lot, record.bank) == (
        f"HLD-{YEAR}-001",
        "hold",
        lot,
        None,
    )
    assert (lot.state, lot.held_from) == ("ON_HOLD", "RELEASED")
    assert lot.state not in USABLE_LOT_STATES  # its units are blocked wherever they are
    assert reached(containment.get_containment(s, f" hld-{YEAR}-001 ")) == {
        "CFM-2025-0001": ("RELEASED", "ON_HOLD")
    }
    sig = s.scalars(select(Signature).where(Signature.containment_id == record.id)).one()
    assert (sig.lot_id, sig.action, sig.meaning, sig.reason) == (
        lot.id,
        "hold",
        "placed on hold",
        "complaint: bag leaking",
    )
    units = containment.affected_units(s, record)
    assert [u.unit.din for u in units] == [u.din for u in lot.units] and len(units) == 4
    assert {(u.unit.freezer, u.unit.rack, u.unit.box) for u in units} == {("LN2-2", "C", "1")}
    assert {(u.lot_number, u.lot_state) for u in units} == {("CFM-2025-0001", "ON_HOLD")}
    assert containment.containments_of(s, lot) == [record]
    s.commit()
    assert audit.verify(s).ok


def test_a_recall_of_a_wcb_reaches_every_lot_made_from_it(session):
    s = session
    rejected = new_lot(s)
    qa_decides(s, rejected, Action.REJECT, reason="failed visual inspection")
    record = qa_contains(
        s, "recall", reason="WCB-001-A mycoplasma positive", bank=bank(s, "WCB-001-A")
    )
    assert (record.number, record.bank.code, record.lot) == (f"RCL-{YEAR}-001", "WCB-001-A", None)
    assert reached(record) == {
        "CFM-2025-0001": ("RELEASED", "RECALLED"),
        "CFM-2025-0002": ("QUARANTINE", "ON_HOLD"),
    }
    # From WCB-001-B: untouched.
    assert (states(s)["CFM-2025-0003"], states(s)["CFM-2025-0004"]) == ("QUARANTINE",) * 2
    assert rejected.state == "REJECTED"
    sigs = s.scalars(select(Signature).where(Signature.containment_id == record.id)).all()
    assert sorted(sig.meaning for sig in sigs) == [
        "placed on hold",
        "recalled",
    ]
    units = containment.affected_units(s, record)
    assert len(units) == 4 + 3
    assert {u.lot_number for u in units} == {"CFM-2025-0001", "CFM-2025-0002"}
    every = s.scalars(
        select(Unit.din).where(Unit.lot_id.in_([link.lot_id for link in record.lots]))
    ).all()
    assert sorted(u.unit.din for u in units) == sorted(every)
    assert all(u.unit.freezer and u.unit.rack and u.unit.box for u in units)  # where to look
    with pytest.raises(Conflict) as err:  # nothing left to recall there
        qa_contains(s, "recall", bank=bank(s, "WCB-001-A"))
    assert err.value.fields == {"scope": "nothing to recall"}


def test_a_recall_of_the_mcb_reaches_the_lots_of_every_wcb(session):
    s = session
    record = qa_contains(s, "recall", bank=bank(s, "MCB-001"))
    assert states(s) == {
        "CFM-2025-0001": "RECALLED",
        "CFM-2025-0002": "ON_HOLD",
        "CFM-2025-0003": "ON_HOLD",
        "CFM-2025-0004": "ON_HOLD",
    }
    assert len(containment.affected_units(s, record)) == sum(DEMO_UNITS.values())
    s.commit()
    for number in DEMO_UNITS:
        lot = lots.get_lot(s, number)
        assert containment.containments_of(s, lot) == [record]
    assert audit.verify(s).ok


def test_a_hold_of_the_mcb_then_a_recall_reaches_only_what_was_released(session):
    s = session
    held = qa_contains(s, "hold", bank=bank(s, "MCB-001"))
    assert set(reached(held)) == set(DEMO_UNITS)
    assert {lots.get_lot(s, n).held_from for n in DEMO_UNITS} == {"RELEASED", "QUARANTINE"}
    with pytest.raises(Conflict) as err:
        qa_contains(s, "hold", bank=bank(s, "MCB-001"))
    assert err.value.fields == {"scope": "nothing to hold"}
    recall = qa_contains(s, "recall", bank=bank(s, "MCB-001"))
    assert reached(recall) == {"CFM-2025-0001": ("ON_HOLD", "RECALLED")}
    assert list(states(s).values()).count("ON_HOLD") == 3


def test_a_lot_held_in_quarantine_is_never_recalled(session):
    s = session
    lot = lots.get_lot(s, "CFM-2025-0002")
    record = qa_contains(s, "recall", lot=lot)  # never distributed: kept from release instead
    assert (record.kind, reached(record)) == ("recall", {lot.lot_number: ("QUARANTINE", "ON_HOLD")})
    with pytest.raises(Conflict) as err:
        qa_contains(s, "recall", lot=lot)
    assert "ON_HOLD" in err.value.message
    qa_decides(s, lot, Action.UNHOLD, reason="investigation closed")
    assert lot.state == "QUARANTINE"  # lifting the hold never releases it


@pytest.mark.parametrize("number", ["CFM-2025-0001", "CFM-2025-0002"])
def test_nothing_to_contain_is_refused_and_writes_nothing(session, number):
    s = session
    lot = lots.get_lot(s, number)
    if number == "CFM-2025-0001":
        qa_contains(s, "recall", lot=lot)
    else:
        qa_decides(s, lot, Action.REJECT, reason="out of specification")
    before = s.scalar(select(func.count()).select_from(Containment))
    for kind in ("hold", "recall"):
        with pytest.raises(Conflict) as err:
            qa_contains(s, kind, lot=lot)
        assert err.value.fields == {"scope": f"nothing to {kind}"}
    assert s.scalar(select(func.count()).select_from(Containment)) == before


def test_a_containment_needs_a_reason_a_scope_a_kind_and_the_right_meaning(session):
    s = session
    lot, qa = lots.get_lot(s, "CFM-2025-0001"), user(s, "qa")

    def attempt(sign_in: SignIn, kind: str = "recall", **scope) -> None:
        containment.contain(s, qa, kind=kind, sign_in=sign_in, lockout=LOCKOUT, **scope)

    refusals = [
        (ValidationFailed, {"reason": "required"}, signing("qa", Action.RECALL), {"lot": lot}),
        (
            ValidationFailed,
            {"scope": "lot, bank or material lot"},
            signing("qa", Action.RECALL, reason="r"),
            {},
        ),
        (
            ValidationFailed,
            {"scope": "lot, bank or material lot"},
            signing("qa", Action.RECALL, reason="r"),
            {"lot": lot, "bank": bank(s, "MCB-001")},
        ),
        (
            Conflict,
            {"meaning": "one of: recalled"},
            SignIn("qa", PASSWORDS["qa"], "placed on hold", "r"),
            {"lot": lot},
        ),
    ]
    for error, fields, sign_in, scope in refusals:
        with pytest.raises(error) as err:
            attempt(sign_in, **scope)
        assert err.value.fields == fields
    with pytest.raises(ValidationFailed) as err:
        attempt(signing("qa", Action.RECALL, reason="r"), kind="quarantine", lot=lot)
    assert err.value.fields == {"kind": "hold or recall"}
    with pytest.raises(Forbidden):
        containment.contain(
            s, user(s, "tech"), kind="hold", sign_in=signing("tech", Action.HOLD, reason="r"),
            lockout=LOCKOUT, lot=lot,
        )  # fmt: skip
    with pytest.raises(SignatureRefused):
        attempt(SignIn("qa", "wrong-password", "recalled", "r"), lot=lot)
    assert s.scalar(select(func.count()).select_from(Containment)) == 0
    assert lot.state == "RELEASED"


def test_containment_records_are_numbered_in_sequence_and_audited(session):
    s = session
    first = qa_contains(s, "hold", lot=lots.get_lot(s, "CFM-2025-0003"))
    second = qa_contains(s, "hold", lot=lots.get_lot(s, "CFM-2025-0004"))
    recall = qa_contains(s, "recall", lot=lots.get_lot(s, "CFM-2025-0001"))
    assert [first.number, second.number, recall.number] == [
        f"HLD-{YEAR}-001",
        f"HLD-{YEAR}-002",
        f"RCL-{YEAR}-001",
    ]
    s.commit()
    created = audit.history(s, "containment", str(recall.id))[0]
    assert created.action == "create" and created.actor == "qa"
    assert json.loads(created.changes)["reason"] == [None, "customer complaint"]
    link = audit.history(s, "containment_lot", f"{recall.id}:{recall.lots[0].lot_id}")
    assert [e.action for e in link] == ["create"]


def test_a_signature_stays_valid_through_hold_and_recall_and_voids_on_a_new_deviation(session):
    s = session
    lot = new_lot(s)
    qa_decides(s, lot, Action.RELEASE)
    for kind in ("hold", "recall"):
        qa_contains(s, kind, lot=lot)
    assert lot.state == "RECALLED"
    shown = signatures_of(s, lot)
    assert [(x.signature.action, x.void) for x in shown] == [
        ("release", False),
        ("hold", False),
        ("recall", False),
    ]
    deviation.open_deviation(s, user(s, "qa"), lot=lot, description="found later: cold chain")
    s.flush()
    assert [x.void for x in signatures_of(s, lot)] == [True, True, True]


GUARDED = [
    "UPDATE signature SET meaning = 'rejected' WHERE lot_id = :lot",
    "UPDATE signature SET dossier_sha256 = :fake WHERE lot_id = :lot",
    "DELETE FROM signature WHERE lot_id = :lot",
    "UPDATE containment_lot SET to_state = 'RELEASED' WHERE lot_id = :lot",
    "DELETE FROM containment_lot WHERE lot_id = :lot",
]


@pytest.mark.parametrize("statement", GUARDED)
def test_the_database_keeps_every_signature_and_containment_row(demo_app, session, statement):
    """The triggers refuse even the owner (the application's role has no such privilege)."""
    s = session
    lot = new_lot(s)
    qa_decides(s, lot, Action.RELEASE)
    qa_contains(s, "hold", lot=lot)
    s.commit()
    params = {"lot": lot.id, "fake": "0" * 64}
    with pytest.raises(DBAPIError) as err:
        execute_as_owner(demo_app, statement, params)
    assert "never overwritten or deleted" in str(err.value)
    s.rollback()
    assert [x.void for x in signatures_of(s, lot)] == [False, False]
    assert signature_count(s, lot) == 2
