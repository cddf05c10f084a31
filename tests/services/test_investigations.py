"""OOS investigations: opened by a failing lot result, blocking release and retests while open,
concluded by QA as confirmed (the failure stands) or invalidated with an assignable cause."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.models import Investigation, Lot
from lotrack.services import audit, evaluation, investigation, lot
from tests.conftest import user
from tests.record_signing import signs
from tests.services.test_results import fresh_lot, rec


def failed(s: Session) -> tuple[Lot, Investigation]:
    """A new lot whose viability failed, and the investigation that opened."""
    new = fresh_lot(s)
    r = rec(s, new, "VIAB", "70.0")
    s.flush()
    (inv,) = investigation.open_for_lot(s, new)
    assert inv.result is r
    return new, inv


def blockers(s: Session, subject: Lot) -> set[tuple[str, str]]:
    return {(b.kind, b.subject) for b in evaluation.evaluate_lot(s, subject).evaluation.blockers}


def conclude(s: Session, inv: Investigation, conclusion: str, cause: str = "", **kw):
    return investigation.conclude(
        s,
        kw.pop("actor", None) or user(s, "qa"),
        inv,
        conclusion=conclusion,
        findings=kw.pop("findings", "reviewed the raw data and the bench record"),
        assignable_cause=cause,
        **signs(kw.pop("signer", "qa"), "concluded"),
    )


def test_the_demo_lot_with_failed_viability_has_its_investigation_open(session):
    lot3 = lot.get_lot(session, "CFM-2025-0003")
    (inv,) = investigation.open_for_lot(session, lot3)
    assert (inv.number, inv.phase, inv.status) == (f"OOS-{utcnow().year}-001", "I", "open")
    assert (inv.result.test_code, inv.result.value) == ("VIAB", "78.9")


def test_a_failing_lot_result_opens_a_numbered_phase_i_investigation(session):
    s = session
    new, inv = failed(s)
    year = utcnow().year
    assert (inv.number, inv.phase, inv.status, inv.lot) == (f"OOS-{year}-002", "I", "open", new)
    assert inv.opened_by.username == "tech"
    assert investigation.get_investigation(s, f" oos-{year}-002 ") is inv
    assert inv in investigation.list_investigations(s, status="open").items
    _, second = failed(s)
    assert second.number == f"OOS-{year}-003"
    s.commit()
    (created,) = audit.history(s, "investigation", str(inv.id))
    assert created.reason == "VIAB 70.0 out of specification"
    assert audit.verify(s).ok


def test_an_open_investigation_blocks_release_and_refuses_a_retest(session):
    s = session
    new, inv = failed(s)
    assert {("investigation", inv.number), ("failing", "VIAB")} <= blockers(s, new)
    with pytest.raises(Conflict) as err:
        rec(s, new, "VIAB", "85.0")
    assert err.value.fields == {"test": f"{inv.number} is open"}
    rec(s, new, "CD105", "98.0")  # other tests go on


def test_escalation_to_phase_ii_keeps_the_phase_i_findings(session):
    s = session
    _, inv = failed(s)
    with pytest.raises(Forbidden):
        investigation.escalate(s, user(s, "tech"), inv, "no error found")
    with pytest.raises(ValidationFailed) as err:
        investigation.escalate(s, user(s, "qa"), inv, "  ")
    assert err.value.fields == {"findings": "required"}
    investigation.escalate(s, user(s, "qa"), inv, "no laboratory error found")
    assert (inv.phase, inv.findings) == ("II", "Phase I: no laboratory error found")
    with pytest.raises(Conflict):
        investigation.escalate(s, user(s, "qa"), inv, "again")
    conclude(s, inv, "confirmed_oos", findings="process deviation at harvest")
    assert inv.findings.endswith("Phase II: process deviation at harvest")


def test_a_confirmed_oos_keeps_the_failure_and_refuses_a_retest(session):
    s = session
    new, inv = failed(s)
    with pytest.raises(ValidationFailed) as err:
        conclude(s, inv, "confirmed_oos", cause="pipette out of calibration")
    assert "assignable_cause" in err.value.fields
    conclude(s, inv, "confirmed_oos")
    assert (inv.status, inv.conclusion, inv.closed_by.username) == ("closed", "confirmed_oos", "qa")
    assert inv.result.invalidated_at is None and inv.result.verdict == "fail"
    found = blockers(s, new)
    assert ("failing", "VIAB") in found and not any(k == "investigation" for k, _ in found)
    with pytest.raises(Conflict) as err:
        rec(s, new, "VIAB", "85.0")
    assert "out of specification" in err.value.fields["test"]
    with pytest.raises(Conflict):
        conclude(s, inv, "invalidated", cause="too late")


def test_an_invalidated_oos_needs_a_cause_and_then_permits_a_judged_retest(session):
    s = session
    new, inv = failed(s)
    with pytest.raises(ValidationFailed) as err:
        conclude(s, inv, "invalidated")
    assert err.value.fields == {"assignable_cause": "required to invalidate the result"}
    assert inv.status == "open"
    conclude(s, inv, "invalidated", cause="haemocytometer chamber cracked")
    assert inv.assignable_cause == "haemocytometer chamber cracked"
    assert inv.result.invalidated_at is not None
    assert inv.result.invalidation_reason == (
        f"{inv.number}: assignable cause: haemocytometer chamber cracked"
    )
    retest = rec(s, new, "VIAB", "79.94")
    assert retest.verdict == "fail"  # judged like any other entry: a second OOS
    (second,) = investigation.open_for_lot(s, new)
    assert second.result is retest and second.number != inv.number
    s.commit()
    assert audit.verify(s).ok


def test_a_passing_retest_clears_the_failure(session):
    s = session
    new, inv = failed(s)
    conclude(s, inv, "invalidated", cause="sample taken from the wrong bag")
    retest = rec(s, new, "VIAB", "84.94")
    assert retest.verdict == "alert"
    outcome = next(
        o for o in evaluation.evaluate_lot(s, new).evaluation.outcomes if o.test.code == "VIAB"
    )
    assert outcome.result.id == retest.id
    assert not {k for k, c in blockers(s, new) if c == "VIAB"} - {"unverified"}


@pytest.mark.parametrize(
    "conclusion, findings, field",
    [("dismissed", "x", "conclusion"), ("", "x", "conclusion"), ("confirmed_oos", " ", "findings")],
)
def test_a_conclusion_is_refused_by_field(session, conclusion, findings, field):
    _, inv = failed(session)
    with pytest.raises(ValidationFailed) as err:
        conclude(session, inv, conclusion, findings=findings)
    assert field in err.value.fields and inv.status == "open"


def test_only_qa_concludes(session):
    _, inv = failed(session)
    with pytest.raises(Forbidden):
        conclude(session, inv, "confirmed_oos", actor=user(session, "tech"))


def test_sibling_lots_from_the_same_run_or_bank_are_listed_and_recorded(session):
    s = session
    new, inv = failed(s)  # RUN-2025-02 on WCB-001-A
    siblings = [x.lot_number for x in investigation.sibling_lots(s, new)]
    assert siblings == ["CFM-2025-0001", "CFM-2025-0002"]  # 0003 and 0004: WCB-001-B
    lot4 = lot.get_lot(s, "CFM-2025-0004")
    assert [x.lot_number for x in investigation.sibling_lots(s, lot4)] == ["CFM-2025-0003"]
    conclude(s, inv, "confirmed_oos")
    assert json.loads(inv.siblings_reviewed) == siblings
