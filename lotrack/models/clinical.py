"""The clinical side: patients, prescriptions and allocations, shipments to sites, thaws, bedside
scans, infusions, adverse events and the one-month visit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from lotrack.models.lot import Unit
    from lotrack.models.user import Site, User


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
    cohort: Mapped[str] = mapped_column(String(24))
    consent_date: Mapped[dt.date | None] = mapped_column(Date)
    eligibility: Mapped[str] = mapped_column(Text, default="{}")  # JSON {criterion: answer}
    eligibility_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    eligibility_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    site: Mapped[Site] = relationship()


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
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
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


class Shipment(Base):
    __tablename__ = "shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="in_transit", index=True)
    shipped_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    shipped_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    condition: Mapped[str | None] = mapped_column(Text)
    temperature_record: Mapped[str | None] = mapped_column(Text)
    discrepancy: Mapped[str | None] = mapped_column(Text)

    site: Mapped[Site] = relationship()
    items: Mapped[list[ShipmentUnit]] = relationship(order_by="ShipmentUnit.unit_id")
    # Read-only: lists load who shipped and received in one query instead of one per row.
    shipped_by: Mapped[User] = relationship(foreign_keys=[shipped_by_id], viewonly=True)
    received_by: Mapped[User | None] = relationship(foreign_keys=[received_by_id], viewonly=True)


class ShipmentUnit(Base):
    __tablename__ = "shipment_unit"

    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), primary_key=True)
    # A unit leaves the manufacturer once: it is on one shipment, ever (parallel sends: one wins).
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id"), primary_key=True, index=True, unique=True
    )
    received: Mapped[bool | None] = mapped_column(Boolean)  # None until the site reconciles

    unit: Mapped[Unit] = relationship()


class Thaw(Base):
    """When a unit was thawed at the bedside: the post-thaw use window runs from here."""

    __tablename__ = "thaw"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), unique=True)
    thawed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BedsideScan(Base):
    """Every scan attempt, GO or NO-GO, with the reasons given."""

    __tablename__ = "bedside_scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    patient_text: Mapped[str] = mapped_column(String(200))
    scan_text: Mapped[str] = mapped_column(String(400))
    method: Mapped[str] = mapped_column(String(12))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    go: Mapped[bool] = mapped_column(Boolean)
    # The physician acknowledged an exceptional release at this scan (kept for the reports).
    exceptional_acknowledged: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of sentences
    scanned_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    scanned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Infusion(Base):
    __tablename__ = "infusion"
    __table_args__ = (
        CheckConstraint("witness_id <> operator_id", name="witness_is_another_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    prescription_id: Mapped[int] = mapped_column(ForeignKey("prescription.id"), index=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("bedside_scan.id"), index=True)
    thawed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    volume_ml: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    operator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    witness_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The witness's electronic signature (password re-entered): its meaning and UTC time. None
    # only on infusions recorded before revision 0009.
    witness_meaning: Mapped[str | None] = mapped_column(String(40))
    witness_signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    premedication: Mapped[str] = mapped_column(Text, default="")
    vital_signs: Mapped[str] = mapped_column(Text, default="")
    immediate_reactions: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[Unit] = relationship()
    patient: Mapped[Patient] = relationship()
    operator: Mapped[User] = relationship(foreign_keys=[operator_id], viewonly=True)
    witness: Mapped[User] = relationship(foreign_keys=[witness_id], viewonly=True)


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
    attribution: Mapped[str] = mapped_column(String(12))
    serious: Mapped[bool] = mapped_column(Boolean)
    seriousness: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of criteria met
    report_due_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship()
    infusion: Mapped[Infusion | None] = relationship()
    reported_by: Mapped[User] = relationship(foreign_keys=[reported_by_id], viewonly=True)


class FollowUp(Base):
    """The one-month visit: response improved, stable or worse (the secondary outcome)."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), unique=True)
    visit_on: Mapped[dt.date] = mapped_column(Date)
    response: Mapped[str] = mapped_column(String(12))
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship()
