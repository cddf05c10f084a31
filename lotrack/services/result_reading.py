"""The final reading of a pending (incubating) result, e.g. sterility: it keeps the inoculation
date as the test date, and is read on or after the due date (inoculation + incubation days),
not in the future by the facility's calendar. The reading date is judged and kept on the result."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.specs import PENDING_WORDS, Verdict
from lotrack.domain.text import N_, said
from lotrack.models import Result, User
from lotrack.services import clock
from lotrack.services.raw_data import RawFile
from lotrack.services.result import record_result


def reading_refusal(pending: Result, read_on: dt.date, today: dt.date) -> ValidationFailed | None:
    """Why the reading cannot be dated `read_on`: before the due date, or in the future."""
    if read_on > today:
        return ValidationFailed(
            said(
                "%(test)s: the reading date %(date)s is in the future; today is %(today)s at the"
                " facility.",
                test=pending.analyte,
                date=read_on,
                today=today,
            ),
            {"read_on": said("in the future (today is %(today)s)", today=today)},
        )
    due = pending.due_on
    if due is not None and read_on < due:
        return ValidationFailed(
            said(
                "%(test)s: the incubation started %(started)s and runs until %(due)s; a reading"
                " dated %(date)s is too early. Record the reading on or after %(due)s.",
                test=pending.analyte,
                started=pending.performed_on,
                due=due,
                date=read_on,
            ),
            {"read_on": said("on or after %(due)s (the due date)", due=due)},
        )
    return None


def complete_pending(
    session: Session,
    actor: User,
    pending: Result,
    *,
    value: str,
    read_on: dt.date,
    method: str = "",
    instrument: str = "",
    reagent_lot: str = "",
    raw_file: RawFile | None = None,
    material_lots: list[str] | None = None,
) -> Result:
    """Record the final reading that completes `pending`, judged against the same pinned test;
    it is dated from the inoculation (`performed_on`) and read on `read_on`."""
    require(actor.role, "results.write")
    if pending.verdict != Verdict.PENDING or pending.invalidated_at is not None:
        raise Conflict(
            said("Result %(id)s is not a pending result awaiting its reading.", id=pending.id),
            {"result": N_("not pending")},
        )
    successor = session.scalar(select(Result.id).where(Result.replaces_id == pending.id))
    if successor is not None:
        raise Conflict(
            said(
                "Result %(id)s was completed already by result %(successor)s.",
                id=pending.id,
                successor=successor,
            ),
            {"result": said("completed by result %(successor)s", successor=successor)},
        )
    if " ".join((value or "").split()).casefold() in PENDING_WORDS:
        raise ValidationFailed(
            N_("Enter the final reading; the result is pending already."),
            {"value": N_("the final reading, not 'pending'")},
        )
    refusal = reading_refusal(pending, read_on, clock.today(session))
    if refusal is not None:
        raise refusal
    subject = pending.lot or pending.bank or pending.passage
    assert subject is not None
    return record_result(
        session,
        actor,
        subject,
        test=pending.analyte,
        value=value,
        unit=pending.unit,
        performed_on=pending.performed_on,
        method=method or pending.method,
        instrument=instrument or pending.instrument,
        reagent_lot=reagent_lot or pending.reagent_lot,
        raw_file=raw_file,
        material_lots=material_lots,
        read_on=read_on,
    )
