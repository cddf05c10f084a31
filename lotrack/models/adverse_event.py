"""Adverse events graded by CTCAE v4.03, their follow-ups and the reports made of them.

None of these rows is ever changed (migrations/guards.py): a follow-up is a new row, and an
event's current grade, outcome and reporting clock are computed from its history
(domain/adverse.py)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.adverse import ReportKind
from lotrack.domain.clinical import AdverseOutcome, Attribution

if TYPE_CHECKING:
    from lotrack.models.infusion import Infusion
    from lotrack.models.patient import Patient
    from lotrack.models.user import User


class AdverseEvent(Base):
    """An adverse event graded by CTCAE v4.03, with attribution, seriousness and outcome, as
    first reported."""

    __tablename__ = "adverse_event"
    __table_args__ = (CheckConstraint("grade BETWEEN 1 AND 5", name="grade_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    infusion_id: Mapped[int | None] = mapped_column(ForeignKey("infusion.id"), index=True)
    term: Mapped[str] = mapped_column(String(120))
    meddra: Mapped[str] = mapped_column(String(12))
    soc: Mapped[str] = mapped_column(String(120), default="")  # "" on events before 0019
    specify: Mapped[str] = mapped_column(String(200), default="")  # an "Other, specify" row's name
    grade: Mapped[int] = mapped_column(Integer)
    onset_on: Mapped[dt.date] = mapped_column(Date, index=True)
    # The day the site learned of the event: the reporting clock starts there (None before 0019:
    # the onset is taken, the earlier date).
    aware_on: Mapped[dt.date | None] = mapped_column(Date)
    attribution: Mapped[Attribution] = mapped_column(
        state_column_type(Attribution, name="attribution", length=12)
    )
    serious: Mapped[bool] = mapped_column(Boolean)
    seriousness: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of criteria met
    # Expected by the investigator's brochure when reported (None before 0019: unexpected).
    expected: Mapped[bool | None] = mapped_column(Boolean)
    report_due_on: Mapped[dt.date | None] = mapped_column(Date)  # the first report's SUSAR clock
    outcome: Mapped[AdverseOutcome] = mapped_column(
        state_column_type(AdverseOutcome, name="outcome", length=24)
    )
    description: Mapped[str] = mapped_column(Text, default="")
    # A measured grade: the measurement as entered (JSON), the grade it proposed, and the
    # investigator's reason when the grade recorded differs.
    measurement: Mapped[str] = mapped_column(Text, default="")
    proposed_grade: Mapped[int | None] = mapped_column(Integer)
    grade_reason: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship()
    infusion: Mapped[Infusion | None] = relationship()
    reported_by: Mapped[User] = relationship(foreign_keys=[reported_by_id], viewonly=True)


class AdverseEventUpdate(Base):
    """A follow-up of an adverse event: only what changed is filled in; never overwritten."""

    __tablename__ = "adverse_event_update"
    __table_args__ = (
        CheckConstraint("grade IS NULL OR grade BETWEEN 1 AND 5", name="grade_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    adverse_event_id: Mapped[int] = mapped_column(ForeignKey("adverse_event.id"), index=True)
    aware_on: Mapped[dt.date] = mapped_column(Date)  # the day the site learned this
    grade: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[AdverseOutcome | None] = mapped_column(
        state_column_type(AdverseOutcome, name="outcome", length=24)
    )
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    attribution: Mapped[Attribution | None] = mapped_column(
        state_column_type(Attribution, name="attribution", length=12)
    )
    seriousness: Mapped[str | None] = mapped_column(Text)  # JSON list; None: unchanged
    treatment: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")  # why the grade or attribution changed
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id], viewonly=True)


class AdverseEventReport(Base):
    """A report made of an adverse event: the site's notification to the sponsor, or the
    expedited report to the regulator. Who made it, when, to whom, under which reference."""

    __tablename__ = "adverse_event_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    adverse_event_id: Mapped[int] = mapped_column(ForeignKey("adverse_event.id"), index=True)
    kind: Mapped[ReportKind] = mapped_column(state_column_type(ReportKind, name="kind", length=12))
    reported_on: Mapped[dt.date] = mapped_column(Date)  # the site's date it was sent
    reported_by: Mapped[str] = mapped_column(String(120))  # the person who sent it
    recipient: Mapped[str] = mapped_column(String(200))  # e.g. the sponsor's safety desk, NMPA CDE
    reference: Mapped[str] = mapped_column(String(120))  # e.g. the submission's case number
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
