"""Adverse events graded by CTCAE v4.03."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.clinical import AdverseOutcome, Attribution

if TYPE_CHECKING:
    from lotrack.models.infusion import Infusion
    from lotrack.models.patient import Patient
    from lotrack.models.user import User


class AdverseEvent(Base):
    """An adverse event graded by CTCAE v4.03, with attribution, seriousness and outcome."""

    __tablename__ = "adverse_event"
    __table_args__ = (CheckConstraint("grade BETWEEN 1 AND 5", name="grade_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    infusion_id: Mapped[int | None] = mapped_column(ForeignKey("infusion.id"), index=True)
    term: Mapped[str] = mapped_column(String(120))
    meddra: Mapped[str] = mapped_column(String(12))
    grade: Mapped[int] = mapped_column(Integer)
    onset_on: Mapped[dt.date] = mapped_column(Date, index=True)
    attribution: Mapped[Attribution] = mapped_column(
        state_column_type(Attribution, name="attribution", length=12)
    )
    serious: Mapped[bool] = mapped_column(Boolean)
    seriousness: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of criteria met
    report_due_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[AdverseOutcome] = mapped_column(
        state_column_type(AdverseOutcome, name="outcome", length=24)
    )
    description: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship()
    infusion: Mapped[Infusion | None] = relationship()
    reported_by: Mapped[User] = relationship(foreign_keys=[reported_by_id], viewonly=True)
