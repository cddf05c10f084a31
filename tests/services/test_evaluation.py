"""A lot's evaluation: every blocker kind appears when its cause exists and goes when it is fixed;
the demo lots show real verdicts and blockers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict
from lotrack.domain.specs import Verdict
from lotrack.models import Lot
from lotrack.services import (
    audit,
    cellbank,
    clock,
    donor,
    evaluation,
    investigation,
    lot,
    production,
    qualification,
)
from lotrack.services import result as results
from lotrack.services.seed_quality import RELEASE_VALUES
from tests.conftest import user
from tests.record_signing import signs
from tests.services.test_results import fresh_lot, rec


def blockers(s: Session, subject: Lot) -> set[tuple[str, str]]:
    return {(b.kind, b.subject) for b in evaluation.evaluate_lot(s, subject).evaluation.blockers}


def verify(s: Session, r) -> None:
    results.verify_result(s, user(s, "tech2"), r)


def complete_lot(s: Session, skip: tuple[str, ...] = ()) -> Lot:
    """A fresh lot with a passing, verified result for every test but those skipped."""
    new = fresh_lot(s)
    for analyte, _value, _unit in RELEASE_VALUES:
        if analyte not in skip:
            verify(s, rec(s, new, analyte))
    s.flush()
    return new


def test_the_demo_lots_show_their_verdicts_and_blockers(session):
    s = session
    ev = {n: evaluation.evaluate_lot(s, lot.get_lot(s, n)) for n in
          ("CFM-2025-0001", "CFM-2025-0002", "CFM-2025-0003", "CFM-2025-0004")}  # fmt: skip
    first = ev["CFM-2025-0001"]
    assert first.releasable and first.evaluation.warnings == () and first.newer is None
    cd90 = next(o for o in first.evaluation.outcomes if o.test.code == "CD90")
    assert (cd90.result.value, cd90.verdict) == ("99.2", Verdict.PASS)  # the corrected value
    assert {(b.kind, b.subject) for b in ev["CFM-2025-0002"].evaluation.blockers} == {
        ("pending", "STERILITY"),
        ("unverified", "CELLS"),
    }
    due = clock.today(s)  # inoculated a full incubation before the demo was loaded: due today
    assert any(str(due) in b.message for b in ev["CFM-2025-0002"].evaluation.blockers)
    assert {(b.kind, b.subject) for b in ev["CFM-2025-0003"].evaluation.blockers} == {
        ("failing", "VIAB"),
        ("unverified", "VIAB"),
        ("investigation", f"OOS-{utcnow().year}-001"),
    }
    fourth = ev["CFM-2025-0004"].evaluation.blockers
    assert {b.kind for b in fourth} == {"passage", "missing", "investigation"}
    # 0003's open OOS reaches its sibling on the same WCB (not 0001 or 0002, on WCB-001-A).
    sibling = next(b for b in fourth if b.kind == "investigation")
    assert "on sibling lot CFM-2025-0003" in sibling.message


def test_a_complete_lot_is_releasable_and_informational_tests_never_block(session):
    s = session
    new = complete_lot(s, skip=("BSA",))
    assert blockers(s, new) == set()
    rec(s, new, "BSA", "Detected")  # informational, failing, unverified
    ev = evaluation.evaluate_lot(s, new)
    assert ev.releasable and ev.evaluation.warnings == ("Residual BSA (informational) is fail.",)


def test_missing_goes_when_the_result_is_recorded_and_verified(session):
    s = session
    new = complete_lot(s, skip=("MYCO",))
    assert blockers(s, new) == {("missing", "MYCO")}
    r = rec(s, new, "MYCO")
    assert blockers(s, new) == {("unverified", "MYCO")}
    verify(s, r)
    assert blockers(s, new) == set()


def test_pending_shows_its_due_date_and_goes_with_the_final_reading(session):
    s = session
    new = complete_lot(s, skip=("STERILITY",))
    started = utcnow().date() - dt.timedelta(days=20)
    rec(s, new, "STERILITY", "pending", performed_on=started)
    (b,) = evaluation.evaluate_lot(s, new).evaluation.blockers
    assert (b.kind, b.subject) == ("pending", "STERILITY")
    assert f"was due on {started + dt.timedelta(days=14)}" in b.message
    verify(s, rec(s, new, "STERILITY", "No growth", performed_on=started))
    assert blockers(s, new) == set()


def test_failing_and_investigation_go_when_the_oos_is_invalidated_and_the_retest_passes(session):
    s = session
    new = complete_lot(s, skip=("ENDOTOXIN",))
    verify(s, rec(s, new, "ENDOTOXIN", "0.495"))  # rounds to 0.50: not below 0.50
    (inv,) = investigation.open_for_lot(s, new)
    assert blockers(s, new) == {("failing", "ENDOTOXIN"), ("investigation", inv.number)}
    investigation.conclude(
        s, user(s, "qa"), inv, conclusion="invalidated", findings="gel clot read early",
        assignable_cause="tubes read before 60 minutes' incubation",
        **signs("qa", "concluded"),
    )  # fmt: skip
    assert blockers(s, new) == {("missing", "ENDOTOXIN")}
    verify(s, rec(s, new, "ENDOTOXIN", "<0.25"))
    assert blockers(s, new) == set()
    s.commit()
    assert audit.verify(s).ok


def test_an_ineligible_donor_blocks_until_determined_eligible(session):
    s = session
    new = complete_lot(s)
    fd = donor.get_donor(s, "FD-0001")
    for decision in ("ineligible", "eligible"):
        donor.determine_eligibility(
            s, user(s, "qa"), fd, determination=decision, responsible_person="Dr Demo",
            reason=f"re-determined {decision}",
        )  # fmt: skip
        expected = {("donor", "FD-0001")} if decision == "ineligible" else set()
        assert blockers(s, new) == expected


@pytest.mark.parametrize("bank", ["WCB-001-A", "MCB-001"])
def test_an_unqualified_bank_blocks_until_qualified_again(session, bank):
    s = session
    new = complete_lot(s)
    target = cellbank.get_bank(s, bank)
    qualification.qualify_bank(
        s, user(s, "qa"), target, decision="not_qualified", reason="review",
        **signs("qa", "not qualified"),
    )  # fmt: skip
    assert blockers(s, new) == {("bank", bank)}
    qualification.qualify_bank(
        s, user(s, "qa"), target, decision="qualified", reason="reviewed",
        **signs("qa", "qualified"),
    )  # fmt: skip
    assert blockers(s, new) == set()


def test_a_run_past_its_passage_limit_blocks_the_lots_it_made(session):
    s = session
    earlier = complete_lot(s)
    run = production.get_run(s, "RUN-2025-02")  # passages 6 to 8; the limit is 10
    day = run.passages[-1].harvested_on
    for _ in range(3):
        production.record_passage(
            s, user(s, "tech"), run, seeded_on=day, harvested_on=day + dt.timedelta(days=6),
            cells_seeded=2_000_000, cells_harvested=8_000_000, viability_percent=90,
        )  # fmt: skip
        day += dt.timedelta(days=7)
        s.flush()
    later = fresh_lot(s, harvested_on=run.passages[-1].harvested_on)
    for analyte, _value, _unit in RELEASE_VALUES:
        verify(s, rec(s, later, analyte, performed_on=later.harvested_on))
    s.flush()
    assert blockers(s, later) == {("passage", "RUN-2025-02 P11")}
    # A lot harvested before those passages was not made by them.
    assert blockers(s, earlier) == set()


def test_a_failing_in_process_result_blocks_the_runs_lots(session):
    s = session
    new = complete_lot(s)
    passage = production.get_run(s, "RUN-2025-02").passages[1]
    failing = rec(s, passage, "VIAB", "79.94")
    assert blockers(s, new) == {("in-process", "RUN-2025-02 P7")}
    results.invalidate_result(s, user(s, "qa"), failing, "wrong flask", by_investigation=True)
    assert blockers(s, new) == set()


def test_a_lot_without_a_pinned_specification_is_blocked(session):
    s = session
    new = complete_lot(s)
    pinned = new.spec_version_id
    s.execute(text("UPDATE lot SET spec_version_id = NULL WHERE id = :i"), {"i": new.id})
    s.expire_all()
    ev = evaluation.evaluate_lot(s, new)
    assert [(b.kind, b.subject) for b in ev.evaluation.blockers] == [
        ("spec", f"Lot {new.lot_number}")
    ]
    assert ev.evaluation.outcomes == () and not ev.releasable
    s.execute(text("UPDATE lot SET spec_version_id = :v WHERE id = :i"), {"v": pinned, "i": new.id})
    s.expire_all()
    assert blockers(s, new) == set()


def test_a_bank_is_qualified_only_without_blockers(session):
    s = session
    wcb = cellbank.get_bank(s, "WCB-001-B")
    assert evaluation.evaluate_bank(s, wcb).releasable
    mcb = cellbank.get_bank(s, "MCB-001")
    qualification.qualify_bank(
        s, user(s, "qa"), mcb, decision="not_qualified", reason="review",
        **signs("qa", "not qualified"),
    )  # fmt: skip
    qualification.qualify_bank(
        s, user(s, "qa"), wcb, decision="not_qualified", reason="review",
        **signs("qa", "not qualified"),
    )  # fmt: skip
    assert {b.kind for b in evaluation.evaluate_bank(s, wcb).evaluation.blockers} == {"bank"}
    with pytest.raises(Conflict) as err:
        qualification.qualify_bank(
            s, user(s, "qa"), wcb, decision="qualified", reason="again",
            **signs("qa", "qualified"),
        )  # fmt: skip
    assert "MCB-001" in err.value.message and wcb.qualification == "not_qualified"
