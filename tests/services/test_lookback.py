"""Lookback: every fact that arises after release and would have blocked it puts the released lot
ON_HOLD in the same transaction, with a record naming the fact; its units then read ON HOLD and
scan NO-GO; QA lifts the hold only by a new signed decision once the lot is releasable again.

Each case is a write that reaches the released demo lot CFM-2025-0001 (RUN-2025-01, WCB-001-A,
MCB-001, donor FD-0001)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.documents.tokens import make_token
from lotrack.domain.decisions import Action
from lotrack.domain.errors import Conflict
from lotrack.models import Containment, Lot, Result
from lotrack.services import (
    audit,
    deviation,
    documents,
    donor,
    evaluation,
    exceptional,
    lookback,
    production,
    qualification,
    result,
    token_verification,
)
from lotrack.services import lot as lots
from lotrack.services.release import SignIn
from lotrack.services.signature import signatures_of
from tests.conftest import PASSWORDS, user
from tests.record_signing import signs
from tests.services.test_release import LOCKOUT, new_lot, qa_decides

DEMO = "CFM-2025-0001"


def demo(s: Session) -> Lot:
    return lots.get_lot(s, DEMO)


def a_result(s: Session, lot: Lot, analyte: str) -> Result:
    return next(
        r for r in result.results_of(s, lot) if r.analyte == analyte and r.invalidated_at is None
    )


def _donor_ineligible(s: Session) -> None:
    donor.determine_eligibility(
        s, user(s, "qa"), donor.get_donor(s, "FD-0001"), determination="ineligible",
        responsible_person="Demo Medical Director", reason="look-back: HBV NAT reactive",
    )  # fmt: skip


def _donor_incomplete(s: Session) -> None:
    donor.determine_eligibility(
        s, user(s, "qa"), donor.get_donor(s, "FD-0001"), determination="incomplete",
        responsible_person="Demo Medical Director", reason="HTLV result withdrawn by the lab",
    )  # fmt: skip


def _invalidated(s: Session) -> None:
    result.invalidate_result(
        s, user(s, "tech2"), a_result(s, demo(s), "MYCO"), "sample mix-up found on audit"
    )


def _corrected(s: Session) -> None:
    result.correct_result(
        s, user(s, "tech"), a_result(s, demo(s), "VIAB"), reason="transcription error",
        value="93.1", unit="%", performed_on=demo(s).harvested_on,
    )  # fmt: skip


def _sibling_oos(s: Session) -> None:
    # Another lot of the same run fails viability: its OOS reaches every sibling.
    new_lot(s, values={"VIAB": "70.0"}, harvested_on=dt.date(2025, 8, 18))


def _lot_deviation(s: Session) -> None:
    deviation.open_deviation(s, user(s, "tech"), lot=demo(s), description="label misprint")


def _run_deviation(s: Session) -> None:
    deviation.open_deviation(s, user(s, "tech"), run=demo(s).run, description="incubator alarm")


def _unqualified(code: str) -> Callable[[Session], None]:
    def act(s: Session) -> None:
        bank = s.scalar(select(Lot).where(Lot.lot_number == DEMO)).run.bank
        bank = bank if code == "WCB" else bank.parent
        qualification.qualify_bank(
            s, user(s, "qa"), bank, decision="not_qualified", reason="mycoplasma found",
            **signs("qa", "not qualified"),
        )  # fmt: skip

    return act


def _in_process_failure(s: Session) -> None:
    passage = demo(s).run.passages[-1]
    result.record_result(
        s, user(s, "tech"), passage, test="VIAB", value="60.0", unit="%",
        performed_on=passage.harvested_on,
    )  # fmt: skip


# case -> (the write, the blocker kinds it leaves, the audited entity that triggered the hold)
CASES: dict[str, tuple[Callable[[Session], None], set[str], str]] = {
    "donor made ineligible": (_donor_ineligible, {"donor"}, "donor"),
    "donor eligibility withdrawn": (_donor_incomplete, {"donor"}, "donor"),
    "result invalidated": (_invalidated, {"missing"}, "result"),
    "result corrected": (_corrected, {"unverified"}, "result"),
    "OOS opened on a sibling": (_sibling_oos, {"investigation"}, "investigation"),
    "deviation on the lot": (_lot_deviation, {"deviation"}, "deviation"),
    "deviation on its run": (_run_deviation, {"deviation"}, "deviation"),
    "WCB qualification withdrawn": (_unqualified("WCB"), {"bank"}, "cell_bank"),
    "MCB qualification withdrawn": (_unqualified("MCB"), {"bank"}, "cell_bank"),
    "in-process result out of specification": (_in_process_failure, {"in-process"}, "result"),
}


def holds_of(s: Session, lot: Lot) -> list[Containment]:
    return list(
        s.scalars(
            select(Containment)
            .where(Containment.lot_id == lot.id, Containment.kind == "lookback")
            .order_by(Containment.id)
        )
    )


@pytest.mark.parametrize("case", CASES)
def test_a_fact_after_release_holds_the_lot_at_once(demo_app, session, case):
    s = session
    act, kinds, trigger = CASES[case]
    assert demo(s).state == "RELEASED" and holds_of(s, demo(s)) == []
    act(s)
    s.flush()
    lot = demo(s)
    assert (lot.state, lot.held_from) == ("ON_HOLD", "RELEASED")
    [hold] = holds_of(s, lot)
    assert hold.trigger_entity == trigger and hold.trigger_id
    blockers = evaluation.evaluate_lot(s, lot).evaluation.blockers
    assert {b.kind for b in blockers} == kinds
    # The hold names what blocked the lot when it was held (a correction's replacement, recorded
    # right after, turns "missing VIAB" into "unverified VIAB").
    if case == "result corrected":
        assert "Viability: no valid result recorded." in hold.reason
    else:
        assert all(b.message in hold.reason for b in blockers)
    # The release signature is void where the fact is part of the lot's dossier (a sibling's OOS
    # and the run's in-process results are not: there the rule alone holds the lot).
    void = [x.void for x in signatures_of(s, lot) if x.signature.action == "release"]
    outside = ("OOS opened on a sibling", "in-process result out of specification")
    assert void == [case not in outside]
    # Its units read ON HOLD at once, and the bedside says NO-GO naming it.
    printing = documents.Printing(key=demo_app.extensions["lotrack_signing_key"], base_url="x")
    token = make_token(printing.key, "U", lot.units[0].din)
    assert token_verification.verify_token(s, printing.key, token, "cfMSC").status == "ON HOLD"
    s.commit()
    assert audit.verify(s).ok


def test_lookback_leaves_lots_that_were_never_released_alone(session):
    s = session
    quarantined = lots.get_lot(s, "CFM-2025-0002")
    deviation.open_deviation(s, user(s, "tech"), lot=quarantined, description="label misprint")
    _donor_ineligible(s)  # reaches every lot of FD-0001
    s.flush()
    assert quarantined.state == "QUARANTINE" and holds_of(s, quarantined) == []
    assert demo(s).state == "ON_HOLD" and len(holds_of(s, demo(s))) == 1


def test_a_held_lot_gets_one_hold_however_many_facts_follow(session):
    s = session
    _lot_deviation(s)
    _donor_ineligible(s)
    s.flush()
    assert len(holds_of(s, demo(s))) == 1
    kinds = {b.kind for b in evaluation.evaluate_lot(s, demo(s)).evaluation.blockers}
    assert kinds == {"deviation", "donor"}  # both in the dossier QA decides on


def test_the_hold_is_written_in_the_same_transaction_as_its_fact(session):
    s = session
    _invalidated(s)
    s.flush()
    assert demo(s).state == "ON_HOLD"
    s.rollback()  # the edge rolls back on any error after the write: neither stays
    s.expire_all()
    assert demo(s).state == "RELEASED" and holds_of(s, demo(s)) == []
    assert a_result(s, demo(s), "MYCO").invalidated_at is None


def unhold(s: Session, lot: Lot, reason: str = "deviation closed, no impact") -> None:
    qa_decides(s, lot, Action.UNHOLD, reason=reason)


def test_qa_lifts_a_lookback_hold_only_on_a_releasable_dossier(session):
    s = session
    _lot_deviation(s)
    s.flush()
    lot = demo(s)
    with pytest.raises(Conflict) as err:
        unhold(s, lot)
    assert "Deviation DEV-" in err.value.message and lot.state == "ON_HOLD"
    dev = deviation.open_for_lot(s, lot)[0]
    deviation.assess(s, user(s, "qa"), dev, "label reprinted; no product impact")
    deviation.close(s, user(s, "qa"), dev, "labels reprinted and checked", **signs("qa", "closed"))
    s.flush()
    assert lot.state == "ON_HOLD"  # closing the deviation decides nothing by itself
    unhold(s, lot)
    assert (lot.state, lot.held_from) == ("RELEASED", None)
    # The new decision is signed on the dossier as it stands: it is not void, nothing to hold.
    assert not lookback.release_signature_void(s, lot)
    assert lookback.reasons_to_hold(s, lot) == ()
    # A later fact holds it again.
    _run_deviation(s)
    s.flush()
    assert lot.state == "ON_HOLD" and len(holds_of(s, lot)) == 2


def test_a_later_passage_of_the_run_is_not_the_lots_and_does_not_hold_it(session):
    s = session
    lot = demo(s)
    production.record_passage(
        s, user(s, "tech"), lot.run, seeded_on=lot.harvested_on + dt.timedelta(days=1),
        harvested_on=lot.harvested_on + dt.timedelta(days=7), cells_seeded=2_000_000,
        cells_harvested=4_000_000, viability_percent=90,
    )  # fmt: skip
    s.flush()
    assert lot.state == "RELEASED" and holds_of(s, lot) == []


# Exceptional release --------------------------------------------------------------------------


def exceptional_lot(s: Session) -> Lot:
    """A lot released by exception while its sterility incubates (the reading is due today)."""
    lot = new_lot(s, skip=("STERILITY",), harvested_on=dt.date(2025, 8, 18))
    start = utcnow().date() - dt.timedelta(days=15)
    result.record_result(
        s, user(s, "tech"), lot, test="STERILITY", value="pending", performed_on=start
    )
    s.flush()
    er = exceptional.request_release(
        s, user(s, "qa"), lot, physician="Dr. Demo", patient="SZ-GIMI/SUBJ-001",
        request="no alternative treatment", requested_on=utcnow().date() - dt.timedelta(days=1),
        risk_assessment="sterility pending at release",
    )  # fmt: skip
    s.flush()
    for who, meaning in (
        ("qa", "exceptional release approved (QA)"),
        ("md", "exceptional release approved (medical director)"),
    ):
        sign_in = SignIn(who, PASSWORDS[who], meaning, "urgent")
        exceptional.sign_release(s, user(s, who), er, sign_in, LOCKOUT)
    s.flush()
    assert lot.state == "EXCEPTIONAL_RELEASE"
    return lot


def test_an_exceptional_release_stands_while_only_what_it_accepted_remains(session):
    s = session
    lot = exceptional_lot(s)
    # The sterility reading completes the pending entry: still unverified, which it accepted.
    final = result.record_result(
        s, user(s, "tech"), lot, test="STERILITY", value="No growth",
        performed_on=utcnow().date() - dt.timedelta(days=15),
    )  # fmt: skip
    s.flush()
    assert final.verdict == "pass" and lot.state == "EXCEPTIONAL_RELEASE"
    result.verify_result(s, user(s, "tech2"), final)
    s.flush()
    assert lot.state == "EXCEPTIONAL_RELEASE" and holds_of(s, lot) == []
    # Something the release never accepted holds it.
    deviation.open_deviation(s, user(s, "tech"), lot=lot, description="thaw log incomplete")
    s.flush()
    assert (lot.state, lot.held_from) == ("ON_HOLD", "EXCEPTIONAL_RELEASE")
    with pytest.raises(Conflict) as err:
        unhold(s, lot)
    assert "Deviation DEV-" in err.value.message


def test_a_failing_late_reading_holds_an_exceptional_release(session):
    s = session
    lot = exceptional_lot(s)
    result.record_result(
        s, user(s, "tech"), lot, test="STERILITY", value="Growth",
        performed_on=utcnow().date() - dt.timedelta(days=15),
    )  # fmt: skip
    s.flush()
    assert (lot.state, lot.held_from) == ("ON_HOLD", "EXCEPTIONAL_RELEASE")
    kinds = {b.kind for b in evaluation.evaluate_lot(s, lot).evaluation.blockers}
    assert {"failing", "investigation"} <= kinds
    assert len(holds_of(s, lot)) == 1
    # Its OOS reaches the released sibling on the same run too.
    assert demo(s).state == "ON_HOLD"
