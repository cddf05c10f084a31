"""Production runs started from WCB vials, and their passages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, utcnow
from lotrack.models.cellbank import CellBank, VialWithdrawal
from lotrack.models.spec import SpecVersion

if TYPE_CHECKING:
    from lotrack.models.lot import Lot


class ProductionRun(Base):
    __tablename__ = "production_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    product: Mapped[str] = mapped_column(String(32))
    bank_id: Mapped[int] = mapped_column(ForeignKey("cell_bank.id"), index=True)
    started_on: Mapped[dt.date] = mapped_column(Date, index=True)  # the run list's order
    # The in-process specification in effect when the run started: its limits apply to the run.
    spec_version_id: Mapped[int | None] = mapped_column(ForeignKey("spec_version.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bank: Mapped[CellBank] = relationship()
    spec_version: Mapped[SpecVersion | None] = relationship()
    withdrawals: Mapped[list[VialWithdrawal]] = relationship(
        back_populates="run", order_by="VialWithdrawal.id"
    )
    lots: Mapped[list[Lot]] = relationship(back_populates="run", order_by="Lot.lot_number")
    passages: Mapped[list[Passage]] = relationship(back_populates="run", order_by="Passage.number")


class Passage(Base):
    __tablename__ = "passage"
    __table_args__ = (
        UniqueConstraint("run_id", "number"),
        CheckConstraint("cells_seeded > 0", name="seeded_positive"),
        CheckConstraint("cells_harvested > 0", name="harvested_positive"),
        CheckConstraint("viability_percent >= 0 AND viability_percent <= 100", name="viability"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("production_run.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    seeded_on: Mapped[dt.date] = mapped_column(Date)
    harvested_on: Mapped[dt.date] = mapped_column(Date)
    cells_seeded: Mapped[int] = mapped_column(BigInteger)
    cells_harvested: Mapped[int] = mapped_column(BigInteger)
    viability_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    run: Mapped[ProductionRun] = relationship(back_populates="passages")
