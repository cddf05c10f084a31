"""Prescriptions (a dose for one infusion) and the units allocated to them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Numeric
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import PrescriptionStatus

if TYPE_CHECKING:
    from lotrack.models.lot import Unit
    from lotrack.models.patient import Patient


class Prescription(Base):
    """A dose in cells/kg for one infusion; cells needed = dose × the weight at prescribing."""

    __tablename__ = "prescription"
    __table_args__ = (CheckConstraint("cells_needed > 0", name="cells_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    dose_per_kg: Mapped[int] = mapped_column(BigInteger)
    weight_kg: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    cells_needed: Mapped[int] = mapped_column(BigInteger)
    tolerance: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("0.10"))
    planned_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[PrescriptionStatus] = mapped_column(
        state_column_type(PrescriptionStatus, name="status", length=12),
        default=PrescriptionStatus.OPEN,
        index=True,
    )
    prescribed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    prescribed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship()
    allocations: Mapped[list[Allocation]] = relationship(back_populates="prescription")


class Allocation(Base):
    """A unit set aside for one prescription; a unit is allocated to one patient only."""

    __tablename__ = "allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescription.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), unique=True)
    allocated_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    allocated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    prescription: Mapped[Prescription] = relationship(back_populates="allocations")
    unit: Mapped[Unit] = relationship()
