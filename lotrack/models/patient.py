"""Trial participants, coded per site."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.clinical import AgeBand, Sex

if TYPE_CHECKING:
    from lotrack.models.prescription import DoseCohort
    from lotrack.models.user import Site


class Patient(Base):
    """A trial participant: a site-scoped subject code, never a name or record number."""

    __tablename__ = "patient"
    __table_args__ = (
        UniqueConstraint("site_id", "subject_code"),
        CheckConstraint("weight_kg > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    subject_code: Mapped[str] = mapped_column(String(32))
    wristband: Mapped[str] = mapped_column(String(64), unique=True)  # "<site>/<subject>"
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    indication: Mapped[str] = mapped_column(String(24))
    cohort: Mapped[str] = mapped_column(String(24))  # the cohort's code as entered
    # Revision 0021: the protocol cohort, and age band and sex for enrolment (no date of birth).
    # None only on patients registered before it.
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("dose_cohort.id"), index=True)
    age_band: Mapped[AgeBand | None] = mapped_column(
        state_column_type(AgeBand, name="age_band", length=8)
    )
    sex: Mapped[Sex | None] = mapped_column(state_column_type(Sex, name="sex", length=8))
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    eligibility: Mapped[str] = mapped_column(Text, default="{}")  # JSON {criterion: answer}
    eligibility_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    eligibility_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    site: Mapped[Site] = relationship()
    dose_cohort: Mapped[DoseCohort | None] = relationship()
