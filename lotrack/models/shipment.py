"""Shipments of units to a trial site, and the units on each."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import ShipmentStatus

if TYPE_CHECKING:
    from lotrack.models.cold_chain import ColdChainLog
    from lotrack.models.lot import Unit
    from lotrack.models.user import Site, User


class Shipment(Base):
    __tablename__ = "shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    status: Mapped[ShipmentStatus] = mapped_column(
        state_column_type(ShipmentStatus, name="status", length=12),
        default=ShipmentStatus.IN_TRANSIT,
        index=True,
    )
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
    # Its temperature logger's record, once attached at receipt (one per shipment).
    cold_chain_log: Mapped[ColdChainLog | None] = relationship(viewonly=True, uselist=False)


class ShipmentUnit(Base):
    __tablename__ = "shipment_unit"

    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), primary_key=True)
    # A unit leaves the manufacturer once: it is on one shipment, ever (parallel sends: one wins).
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id"), primary_key=True, index=True, unique=True
    )
    received: Mapped[bool | None] = mapped_column(Boolean)  # None until the site reconciles

    unit: Mapped[Unit] = relationship()
