"""Units filled from a lot, each with its DIN, and the DIN sequence per facility and year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import Container, UnitState

if TYPE_CHECKING:
    from lotrack.models.lot import Lot


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
    container: Mapped[Container] = mapped_column(
        state_column_type(Container, name="container", length=8)
    )
    cells: Mapped[int] = mapped_column(BigInteger)
    volume_ml: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    freezer: Mapped[str | None] = mapped_column(String(40))
    rack: Mapped[str | None] = mapped_column(String(20))
    box: Mapped[str | None] = mapped_column(String(20))
    position: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[UnitState] = mapped_column(
        state_column_type(UnitState, name="state", length=16), default=UnitState.STORED, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lot: Mapped[Lot] = relationship(back_populates="units")


class DinSequence(Base):
    """Last sequence issued per facility and nominal year; incremented by a guarded update."""

    __tablename__ = "din_sequence"

    facility_id: Mapped[str] = mapped_column(String(5), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
