"""Instruments and their calibration and maintenance records."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.materials import EquipmentEventKind

if TYPE_CHECKING:
    from lotrack.models.user import User


class Instrument(Base):
    """An instrument results are measured on; a result names it by its code."""

    __tablename__ = "instrument"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    events: Mapped[list[EquipmentEvent]] = relationship(
        order_by="(EquipmentEvent.performed_on, EquipmentEvent.id)", viewonly=True
    )


class EquipmentEvent(Base):
    """A calibration (passed: found within tolerance) or a maintenance, with the next due date.
    Append-only: a wrong entry is followed by a new one, never changed."""

    __tablename__ = "equipment_event"
    __table_args__ = (CheckConstraint("due_on >= performed_on", name="due_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"), index=True)
    kind: Mapped[EquipmentEventKind] = mapped_column(
        state_column_type(EquipmentEventKind, name="kind", length=12)
    )
    performed_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    passed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User] = relationship()
