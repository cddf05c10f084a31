"""The dates a result may carry (domain/result_dates.py states the rule): not in the future, not
before its subject existed, and never shortening an incubation already on record."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.domain.result_dates import Start, check_test_date
from lotrack.domain.specs import SpecTest
from lotrack.domain.text import said
from lotrack.models import CellBank, Lot, Passage, Result

Subject = Lot | CellBank | Passage


def subject_start(subject: Subject) -> Start:
    """The day the subject came to be: no sample of it is tested before."""
    if isinstance(subject, Lot):
        return Start(
            subject.harvested_on, said("the harvest of lot %(lot)s", lot=subject.lot_number)
        )
    if isinstance(subject, CellBank):
        return Start(subject.banked_on, said("the banking of %(bank)s", bank=subject.code))
    return Start(
        subject.seeded_on,
        said(
            "the seeding of passage %(number)s of run %(run)s",
            number=subject.number,
            run=subject.run.code,
        ),
    )


def _incubation_on_record(
    session: Session, subject: Subject, spec_test: SpecTest, analyte: str, replaces: Result | None
) -> dt.date | None:
    """The latest inoculation date recorded for this test of the subject, invalidated entries
    included: otherwise invalidating an entry and recording afresh would re-date an incubation
    that correcting it may not."""
    column = {Lot: Result.lot_id, CellBank: Result.bank_id, Passage: Result.passage_id}
    latest = session.scalar(
        select(func.max(Result.performed_on)).where(
            column[type(subject)] == subject.id,
            Result.test_code == spec_test.code,
            Result.analyte == analyte,
        )
    )
    # The entry being replaced binds too, even when the correction names another analyte.
    dates = [d for d in (latest, replaces.performed_on if replaces else None) if d is not None]
    return max(dates, default=None)


def check_date(
    session: Session,
    subject: Subject,
    spec_test: SpecTest,
    analyte: str,
    performed_on: dt.date,
    *,
    today: dt.date,
    replaces: Result | None,
) -> None:
    """Refuse a test date in the future, before the subject existed, or that would shorten an
    incubation on record (domain/result_dates.py states the rule)."""
    incubated = spec_test.incubation_days is not None
    check_test_date(
        performed_on,
        today=today,
        start=subject_start(subject),
        test=spec_test.name,
        incubation_days=spec_test.incubation_days,
        # Only an incubated test pays for the query: other tests may be re-dated either way.
        incubation_on_record=(
            _incubation_on_record(session, subject, spec_test, analyte, replaces)
            if incubated
            else None
        ),
    )
