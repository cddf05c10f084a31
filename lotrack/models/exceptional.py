"""Exceptional releases (EU GMP Part IV §11.5)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import ExceptionalStatus

if TYPE_CHECKING:
    from lotrack.models.lot import Lot
    from lotrack.models.patient import Patient
    from lotrack.models.user import User


class ExceptionalRelease(Base):
    """A lot released although it does not meet every criterion (EU GMP Part IV §11.5): the treating
    physician's request, the manufacturer's risk assessment, QA's and the medical director's
    signatures, and who was told."""

    __tablename__ = "exceptional_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    physician: Mapped[str] = mapped_column(String(200))
    patient: Mapped[str] = mapped_column(String(64))  # the wristband as requested
    # The one patient the lot may go to (None only on requests made before revision 0009).
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    request: Mapped[str] = mapped_column(Text)
    requested_on: Mapped[dt.date] = mapped_column(Date)
    risk_assessment: Mapped[str] = mapped_column(Text)
    blockers: Mapped[str] = mapped_column(Text)  # JSON list: what the lot failed when requested
    # JSON [[kind, subject], ...] of those blockers: what the release accepts (domain/release.py).
    blocker_keys: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    status: Mapped[ExceptionalStatus] = mapped_column(
        state_column_type(ExceptionalStatus, name="status", length=12),
        default=ExceptionalStatus.PENDING,
        index=True,
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lot: Mapped[Lot] = relationship()
    created_by: Mapped[User] = relationship()
    for_patient: Mapped[Patient | None] = relationship()
