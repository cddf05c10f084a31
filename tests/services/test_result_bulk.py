"""Many results of a lot at once: verified in one confirmation (one audited verification per
result, never one's own), entered in a grid, or imported from the specification's template; and
a pending sterility result finished with its reading date, on or after its due date."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.domain.specs import Verdict
from lotrack.models import AuditEvent, Result
from lotrack.services import clock, evaluation, import_template, lot, result_bulk, result_import
from lotrack.services.result_reading import complete_pending
from tests.conftest import user
from tests.services.test_results import HARVEST, fresh_lot, rec

TESTS = ("VIAB", "CD105", "CD73", "CD90")


def verifications(s: Session, ids: list[int]) -> dict[str, int]:
    """How many audit events record a verification, per result id (sealed at commit; a create
    event sealed in the same commit shows the record as it then stands, so only updates count)."""
    s.commit()
    events = s.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "result", AuditEvent.entity_id.in_([str(i) for i in ids])
        )
    )
    found = {str(i): 0 for i in ids}
    for e in events:
        if e.action == "update" and "verified_by_id" in json.loads(e.changes):
            found[e.entity_id] += 1
    return found


def audit_rows(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_a_lots_results_are_verified_in_one_confirmation_one_audit_event_each(session):
    s = session
    new = fresh_lot(s)
    entered = [rec(s, new, t) for t in TESTS]
    s.flush()
    ids = [r.id for r in entered]
    done = result_bulk.verify_results(s, user(s, "tech2"), new, ids)
    assert [r.id for r in done] == ids
    tech2 = user(s, "tech2")
    assert all(r.verified_by_id == tech2.id and r.verified_at for r in done)
    assert verifications(s, ids) == {str(i): 1 for i in ids}


def test_a_selection_holding_ones_own_result_is_refused_whole_naming_it(session):
    s = session
    new = fresh_lot(s)
    others = [rec(s, new, t) for t in TESTS[:2]]
    mine = rec(s, new, "CD90", actor=user(s, "tech2"))
    s.flush()
    ids = [others[0].id, mine.id, others[1].id]
    s.commit()
    before = audit_rows(s)
    with pytest.raises(Forbidden) as refused:
        result_bulk.verify_results(s, user(s, "tech2"), new, ids)
    assert f"#{mine.id} CD90" in refused.value.message
    assert f"result {mine.id}" in refused.value.fields
    s.rollback()
    assert all(s.get(Result, i).verified_at is None for i in ids)
    assert audit_rows(s) == before


@pytest.mark.parametrize("spoiler", ["pending", "verified", "other lot", "unknown"])
def test_one_unverifiable_result_refuses_the_whole_selection(session, spoiler):
    s = session
    new = fresh_lot(s)
    good = [rec(s, new, t) for t in TESTS[:2]]
    s.flush()
    if spoiler == "pending":
        bad = rec(s, new, "STERILITY", "pending", unit="").id
    elif spoiler == "verified":
        bad = rec(s, new, "CD90").id
        result_bulk.verify_results(s, user(s, "qa"), new, [bad])
    elif spoiler == "other lot":
        other = lot.get_lot(s, "CFM-2025-0002")
        bad = next(r.id for r in evaluation.evaluate_lot(s, other).results)
    else:
        bad = 2_000_000_000
    s.commit()
    before = audit_rows(s)
    with pytest.raises((Conflict, ValidationFailed)) as refused:
        result_bulk.verify_results(s, user(s, "tech2"), new, [good[0].id, bad, good[1].id])
    assert "nothing was verified" in refused.value.message
    s.rollback()
    assert [s.get(Result, r.id).verified_at for r in good] == [None, None]
    assert audit_rows(s) == before


def test_an_empty_selection_is_refused(session):
    s = session
    with pytest.raises(ValidationFailed) as refused:
        result_bulk.verify_results(s, user(s, "tech2"), fresh_lot(s), [])
    assert refused.value.fields == {"results": "required"}


def test_a_grid_records_every_filled_row_with_its_verdict(session):
    s = session
    new = fresh_lot(s)
    rows = [
        result_bulk.GridRow("VIAB", "93.4", "%"),
        result_bulk.GridRow("CD105", "94.0", "%"),  # below 95 %: out of specification
        result_bulk.GridRow("CD14", "0.6", "%"),  # a panel's alternative
        result_bulk.GridRow("CD73", "", "%"),  # left empty: not recorded
    ]
    done = result_bulk.record_grid(
        s, user(s, "tech"), new, rows, result_bulk.GridDefaults(performed_on=HARVEST)
    )
    assert [(r.analyte, r.verdict) for r in done] == [
        ("VIAB", Verdict.PASS),
        ("CD105", Verdict.FAIL),
        ("CD14", Verdict.PASS),
    ]
    s.commit()  # the audit trail is sealed at commit
    grid = s.scalars(select(AuditEvent).where(AuditEvent.action == "results_entered_in_grid"))
    assert [json.loads(e.changes)["rows"][1] for e in grid] == [3]


def test_one_refused_cell_writes_nothing_and_each_bad_cell_is_named(session):
    s = session
    new = fresh_lot(s)
    s.commit()
    before = s.scalar(select(func.count()).select_from(Result))
    rows = [
        result_bulk.GridRow("VIAB", "93.4", "%"),
        result_bulk.GridRow("CD105", "lots", "%"),
        result_bulk.GridRow("CD90", "99.4", "mL"),
        result_bulk.GridRow("CD73", "99.1", "%", performed_on=clock.today(s) + dt.timedelta(1)),
        result_bulk.GridRow("CD34", "0.3", "%"),
    ]
    with pytest.raises(ValidationFailed) as refused:
        result_bulk.record_grid(
            s, user(s, "tech"), new, rows, result_bulk.GridDefaults(performed_on=HARVEST)
        )
    assert set(refused.value.fields) == {"CD105.value", "CD90.unit", "CD73.performed_on"}
    assert "nothing was recorded" in refused.value.message
    s.rollback()
    assert s.scalar(select(func.count()).select_from(Result)) == before


def test_a_grid_row_without_a_date_is_refused_naming_the_cell(session):
    s = session
    with pytest.raises(ValidationFailed) as refused:
        result_bulk.record_grid(
            s,
            user(s, "tech"),
            fresh_lot(s),
            [result_bulk.GridRow("VIAB", "93.4", "%")],
            result_bulk.GridDefaults(),
        )
    assert refused.value.fields == {"VIAB.performed_on": "required"}


def test_the_import_template_filled_in_is_imported_as_it_is(session):
    s = session
    new = fresh_lot(s)
    assert new.spec_version is not None
    text = import_template.template_csv(new.spec_version, new.lot_number)
    lines = text.splitlines()
    assert lines[0].split(",")[:5] == ["lot", "test", "test_name", "criterion", "value"]
    # Fill in two rows as a technician would in a spreadsheet: value and date; leave the rest.
    filled = {"VIAB": "93.4", "CD105": "98.7"}
    out = [lines[0]]
    for line in lines[1:]:
        test = line.split(",")[1]
        if test in filled:
            cells = next(iter(__import__("csv").reader([line])))
            cells[4], cells[6] = filled[test], str(HARVEST)
            out.append(",".join(f'"{c}"' for c in cells))
        else:
            out.append(line)
    done = result_import.import_results(s, user(s, "tech"), "\n".join(out) + "\n", lot=new)
    assert {(r.analyte, r.value, r.verdict) for r in done.results} == {
        ("VIAB", "93.4", Verdict.PASS),
        ("CD105", "98.7", Verdict.PASS),
    }


def test_an_unfilled_template_is_refused(session):
    s = session
    new = fresh_lot(s)
    text = import_template.template_csv(new.spec_version)
    with pytest.raises(ValidationFailed) as refused:
        result_import.import_results(s, user(s, "tech"), text, lot=new)
    assert refused.value.fields == {"file": "no value entered"}


def pending_sterility(s: Session, days_ago: int) -> Result:
    new = fresh_lot(s)
    start = clock.today(s) - dt.timedelta(days=days_ago)
    return rec(s, new, "STERILITY", "pending", unit="", performed_on=start)


def test_a_pending_sterility_shows_its_due_date_and_refuses_an_early_reading(session):
    s = session
    pending = pending_sterility(s, 3)
    today = clock.today(s)
    assert pending.due_on == pending.performed_on + dt.timedelta(days=14)
    with pytest.raises(ValidationFailed) as early:
        complete_pending(s, user(s, "tech"), pending, value="No growth", read_on=today)
    assert early.value.fields == {"read_on": f"on or after {pending.due_on} (the due date)"}
    with pytest.raises(ValidationFailed) as future:
        complete_pending(
            s, user(s, "tech"), pending, value="No growth", read_on=today + dt.timedelta(days=30)
        )
    assert "read_on" in future.value.fields


def test_a_due_sterility_is_completed_with_its_reading_date(session):
    s = session
    pending = pending_sterility(s, 15)
    read_on = pending.due_on
    final = complete_pending(s, user(s, "tech"), pending, value="No growth", read_on=read_on)
    assert (final.verdict, final.replaces, final.performed_on) == (
        Verdict.PASS,
        pending,
        pending.performed_on,
    )
    assert final.note == f"read on {read_on}"
    with pytest.raises(Conflict):
        complete_pending(s, user(s, "tech"), pending, value="No growth", read_on=read_on)
    with pytest.raises(ValidationFailed) as still:
        complete_pending(s, user(s, "tech"), pending_sterility(s, 20), value="pending",
                         read_on=clock.today(s))  # fmt: skip
    assert "value" in still.value.fields


def test_the_demo_pending_lot_can_be_finished_today(session):
    """CFM-2025-0002: the reading is due today; entered, verified with CELLS, it is releasable."""
    s = session
    demo = lot.get_lot(s, "CFM-2025-0002")
    ev = evaluation.evaluate_lot(s, demo)
    pending = next(r for r in ev.results if r.verdict == Verdict.PENDING)
    assert pending.due_on == clock.today(s)
    final = complete_pending(s, user(s, "tech"), pending, value="No growth", read_on=clock.today(s))
    s.flush()
    awaiting = [r.id for r in evaluation.evaluate_lot(s, demo).results
                if r.verified_at is None and r.verdict != Verdict.PENDING
                and r.invalidated_at is None]  # fmt: skip
    assert final.id in awaiting and len(awaiting) == 2  # the reading and CELLS
    result_bulk.verify_results(s, user(s, "tech2"), demo, awaiting)
    s.flush()
    assert evaluation.evaluate_lot(s, demo).releasable
