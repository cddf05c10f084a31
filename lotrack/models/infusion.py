"""Thaws and infusions at the bedside."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from lotrack.models.lot import Unit
    from lotrack.models.patient import Patient
    from lotrack.models.user import User


class Thaw(Base):
    """When a unit was thawed at the bedside: the post-thaw use window runs from here."""

    __tablename__ = "thaw"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), unique=True)
    thawed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


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
    volume_ml: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))  # given
    # Revision 0021: the dose achieved (domain/dose.py, from the volume given) and what was left
    # in the container and discarded. None only on infusions recorded before it.
    achieved_cells: Mapped[int | None] = mapped_column(BigInteger)
    achieved_per_kg: Mapped[int | None] = mapped_column(BigInteger)
    discarded_ml: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
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
