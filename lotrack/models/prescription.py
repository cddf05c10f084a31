"""Prescriptions (a dose for one infusion) and the units allocated to them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.dose import DoseBasis
from lotrack.domain.states import PrescriptionStatus

if TYPE_CHECKING:
    from lotrack.models.lot import Unit
    from lotrack.models.patient import Patient


class DoseCohort(Base):
    """A protocol dose cohort and its dose level (cells/kg, or a fixed number of cells)."""

    __tablename__ = "dose_cohort"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)
    dose_basis: Mapped[DoseBasis] = mapped_column(
        state_column_type(DoseBasis, name="dose_basis", length=8)
    )
    amount: Mapped[int] = mapped_column(BigInteger)  # cells/kg, or cells for a fixed dose
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Prescription(Base):
    """A dose for one infusion, in cells/kg (cells needed = dose × the weight at prescribing) or
    fixed (cells needed = the fixed dose); tolerance ± (a protocol setting, kept per
    prescription as it stood when prescribed)."""

    __tablename__ = "prescription"
    __table_args__ = (CheckConstraint("cells_needed > 0", name="cells_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    dose_per_kg: Mapped[int | None] = mapped_column(BigInteger)  # None: a fixed dose
    # Revision 0021: the basis (rows before it are per kg), a fixed dose, the protocol cohort.
    dose_basis: Mapped[DoseBasis] = mapped_column(
        state_column_type(DoseBasis, name="dose_basis", length=8),
        default=DoseBasis.PER_KG,
        server_default=text("'per_kg'"),
    )
    fixed_cells: Mapped[int | None] = mapped_column(BigInteger)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("dose_cohort.id"), index=True)
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
    cohort: Mapped[DoseCohort | None] = relationship()
    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="prescription", order_by="Allocation.id"
    )


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
