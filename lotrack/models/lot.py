"""Drug-product lots, the units filled from them, and the DIN sequence per facility and year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, utcnow
from lotrack.models.production import ProductionRun
from lotrack.models.spec import SpecVersion


class Lot(Base):
    __tablename__ = "lot"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_number: Mapped[str] = mapped_column(String(32), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("production_run.id"), index=True)
    state: Mapped[str] = mapped_column(String(24), default="QUARANTINE", index=True)
    # While ON_HOLD: the state the hold interrupted, which lifting the hold returns to.
    held_from: Mapped[str | None] = mapped_column(String(24))
    harvested_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    # The specification in effect when this record was created; its results are judged by it.
    spec_version_id: Mapped[int | None] = mapped_column(ForeignKey("spec_version.id"), index=True)
    # The lot list's order (newest first): indexed so a page reads only its rows.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    run: Mapped[ProductionRun] = relationship(back_populates="lots")
    spec_version: Mapped[SpecVersion | None] = relationship()
    units: Mapped[list[Unit]] = relationship(back_populates="lot", order_by="Unit.din")


class Unit(Base):
    __tablename__ = "unit"
    __table_args__ = (
        CheckConstraint("cells > 0", name="cells_positive"),
        CheckConstraint("volume_ml > 0", name="volume_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    din: Mapped[str] = mapped_column(String(13), unique=True)
    check_character: Mapped[str] = mapped_column(String(1))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    container: Mapped[str] = mapped_column(String(8))
    cells: Mapped[int] = mapped_column(BigInteger)
    volume_ml: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    freezer: Mapped[str | None] = mapped_column(String(40))
    rack: Mapped[str | None] = mapped_column(String(20))
    box: Mapped[str | None] = mapped_column(String(20))
    position: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16), default="stored", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lot: Mapped[Lot] = relationship(back_populates="units")


class DinSequence(Base):
    """Last sequence issued per facility and nominal year; incremented by a guarded update."""

    __tablename__ = "din_sequence"

    facility_id: Mapped[str] = mapped_column(String(5), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class NumberSequence(Base):
    """Last number issued per record kind and year (OOS-2026-003, RCL-2026-001 ...); incremented by
    a guarded update so two people acting at once never get the same number."""

    __tablename__ = "number_sequence"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
