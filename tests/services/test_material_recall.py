"""A recall of a serum lot reaches every product lot made with it (through its runs and passages),
with the same impact list and bedside NO-GO as a bank recall, in a bounded number of queries; a
hold keeps a quarantined lot from release through the one release rule."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from lotrack.domain.decisions import Action
from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.services import bedside, containment, material_uses, materials, result, trace
from lotrack.services import lot as lots
from lotrack.services.evaluation import evaluate_lot
from lotrack.services.raw_data import RawFile
from lotrack.services.signature import SignIn
from tests import clinical_setup as cs
from tests.conftest import PASSWORDS, user
from tests.services.test_bedside_service import with_key
from tests.services.test_clinical import clinical_user
from tests.services.test_release import LOCKOUT, new_lot, signing
from tests.services.test_trace import World, statements, world

SERUM = "MAT-2025-003"  # FBS-01: every demo run and passage used it
ENZYME = "MAT-2025-004"  # TrypLE: the demo passages only
DEMO_LOTS = ["CFM-2025-0001", "CFM-2025-0002", "CFM-2025-0003", "CFM-2025-0004"]


@pytest.fixture
def s(session: Session, demo_app: Flask) -> Session:
    return with_key(session, demo_app)


@pytest.fixture
def staff(s: Session) -> None:
    """The clinical users `world` infuses and receives with."""
    clinical_user(s, "sznurse9")
    clinical_user(s, "bjnurse", "BJ-CIP")


def contain(s: Session, kind: str, number: str, reason: str = "supplier recall notice"):
    action = Action.RECALL if kind == "recall" else Action.HOLD
    record = containment.contain(
        s,
        user(s, "qa"),
        kind=kind,
        sign_in=signing("qa", action, reason=reason),
        lockout=LOCKOUT,
        material_lot=materials.get_lot(s, number),
    )
    s.flush()
    return record


def test_a_serum_recall_lists_every_lot_unit_site_and_patient_it_reached(s, staff):
    w: World = world(s, "M", units=9, patients=2)
    rec = contain(s, "recall", SERUM)
    s.commit()
    assert materials.get_lot(s, SERUM).state == "recalled"
    impact = trace.recall_impact(s, rec)
    assert [x.lot_number for x in impact.lots] == sorted([*DEMO_LOTS, w.lot.lot_number])
    assert w.lot.state == "RECALLED" and lots.get_lot(s, "CFM-2025-0001").state == "RECALLED"
    # never released: held, kept from release
    assert lots.get_lot(s, "CFM-2025-0002").state == "ON_HOLD"
    d = [u.din for u in w.lot.units]
    assert [r.patient for r in impact.patients] == [w.twice, *w.patients]
    assert [(p.unit.din, p.site) for p in impact.at_sites if p.unit.din in d] == [(d[5], "BJ-CIP")]
    assert [(p.unit.din, p.site) for p in impact.in_transit] == [(d[3], "BJ-ACH"), (d[4], "BJ-ACH")]
    assert [p.unit.din for p in impact.missing] == [d[6]]
    assert set(d[7:]) <= {p.unit.din for p in impact.at_manufacturer}
    # the demo's bag received at SZ-GIMI is to be quarantined there
    assert "SZ-GIMI" in {p.site for p in impact.at_sites}


def test_a_unit_of_a_lot_reached_by_a_serum_recall_scans_no_go(demo_app):
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    with cs.db(demo_app) as s:
        contain(s, "recall", SERUM)
        s.commit()
    with cs.db(demo_app) as s:
        _scan, verdict = bedside.check_scan(
            s,
            user(s, "nurse"),
            key=demo_app.extensions["lotrack_signing_key"],
            patient_text=cs.READY,
            scan_text=cs.label(demo_app, din),
        )
        s.commit()
    assert not verdict.go
    assert any("RECALLED" in r for r in verdict.reasons), verdict.reasons


def test_an_enzyme_hold_reaches_only_the_lots_its_passages_made(s):
    # RUN-2025-01's passages used the enzyme; a new run with no passages would not be reached.
    rec = contain(s, "hold", ENZYME)
    reached = {link.lot.lot_number for link in rec.lots}
    assert reached == set(DEMO_LOTS)
    assert materials.get_lot(s, ENZYME).state == "on_hold"


def test_a_held_material_blocks_the_release_of_a_lot_made_with_it(s):
    lot = new_lot(s)
    assert evaluate_lot(s, lot).releasable
    contain(s, "hold", SERUM)
    blockers = evaluate_lot(s, lot).evaluation.blockers
    assert [(b.kind, b.subject) for b in blockers] == [("material", SERUM)]
    assert "Material lot MAT-2025-003 (Foetal bovine serum) used for this lot is on_hold." in [
        b.message for b in blockers
    ]


def test_a_recalled_material_lot_cannot_be_recalled_again(s):
    contain(s, "recall", SERUM)
    with pytest.raises(Conflict, match="is recalled; it cannot become recalled"):
        contain(s, "recall", SERUM)


def approved_lot(s: Session, code: str) -> str:
    """A new material with one lot received and approved for use; its number."""
    tech = user(s, "tech")
    materials.register_material(
        s, tech, code=code, name="Sterility kit", category="reagent", supplier="bioMérieux",
        catalogue_number="410851",
    )  # fmt: skip
    s.flush()
    lot = materials.receive_lot(
        s, tech, material_code=code, supplier_lot="K-1", received_on=dt.date(2025, 4, 1),
        expires_on=dt.date(2027, 1, 1), certificate=RawFile("coa.pdf", b"%PDF-1.4 coa"),
    )  # fmt: skip
    s.flush()
    materials.inspect_lot(
        s, user(s, "qa"), lot, decision="approved",
        sign_in=SignIn("qa", PASSWORDS["qa"], "approved for use", "CoA reviewed"), lockout=LOCKOUT,
    )  # fmt: skip
    s.flush()
    return lot.number


def test_the_impact_of_a_material_recall_costs_the_same_queries_for_few_or_many_lots(
    s, demo_app, staff
):
    world(s, "Q", units=12, patients=3)
    for _ in range(6):
        new_lot(s)
    kit = approved_lot(s, "KIT-01")
    fourth = lots.get_lot(s, "CFM-2025-0004")
    one_result = result.results_of(s, fourth)[0]
    material_uses.record_uses(
        s, user(s, "tech"), [kit], used_on=fourth.harvested_on, result=one_result
    )

    def cost(number: str) -> tuple[int, int]:
        rec = contain(s, "recall", number)
        return statements(s, demo_app, lambda: trace.recall_impact(s, rec), rec), len(rec.lots)

    small, few = cost(kit)  # one lot, two units
    # eleven lots, their units, sites and patients; CFM-2025-0004, held already (never released),
    # has nothing left to move, as in a bank recall
    large, many = cost(SERUM)
    assert (few, many) == (1, 10)
    assert large == small and small <= 6


def test_finding_the_lots_a_material_lot_reached_takes_three_queries(s, demo_app):
    for _ in range(5):
        new_lot(s)
    lot = materials.get_lot(s, SERUM)
    found: list = []
    cost = statements(
        s, demo_app, lambda: found.append(material_uses.lots_of_material(s, lot)), lot
    )
    assert cost <= 3 and len(found[0]) == 9


def test_qa_lifts_a_material_hold_under_a_signature_and_the_blocker_goes(s):
    lot = new_lot(s)
    contain(s, "hold", SERUM)
    serum = materials.get_lot(s, SERUM)
    sign = SignIn("qa", PASSWORDS["qa"], "hold lifted", "")
    with pytest.raises(ValidationFailed, match="State why the hold is lifted"):
        materials.lift_hold(s, user(s, "qa"), serum, sign_in=sign, lockout=LOCKOUT)
    with pytest.raises(ValidationFailed, match="must be 'hold lifted'"):
        materials.lift_hold(
            s, user(s, "qa"), serum, sign_in=SignIn("qa", PASSWORDS["qa"], "rejected", "r"),
            lockout=LOCKOUT,
        )  # fmt: skip
    signed = materials.lift_hold(
        s, user(s, "qa"), serum, lockout=LOCKOUT,
        sign_in=SignIn("qa", PASSWORDS["qa"], "hold lifted", "supplier's investigation closed"),
    )  # fmt: skip
    assert (serum.state, signed.meaning, signed.subject_kind) == (
        "approved",
        "hold lifted",
        "material_lot",
    )
    # the product lot the hold reached stays held for QA's own decision, its blocker gone
    assert lot.state == "ON_HOLD"
    assert not [b for b in evaluate_lot(s, lot).evaluation.blockers if b.kind == "material"]
