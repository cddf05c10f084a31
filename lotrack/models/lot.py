"""Drug-product lots: a production run's harvest, judged and released as one."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import LotState
from lotrack.models.production import ProductionRun
from lotrack.models.spec import SpecVersion

if TYPE_CHECKING:
    from lotrack.models.unit import Unit


class Lot(Base):
    __tablename__ = "lot"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_number: Mapped[str] = mapped_column(String(32), unique=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("production_run.id"), index=True)
    state: Mapped[LotState] = mapped_column(
        state_column_type(LotState, name="state", length=24),
        default=LotState.QUARANTINE,
        index=True,
    )
    # While ON_HOLD: the state the hold interrupted, which lifting the hold returns to.
    held_from: Mapped[LotState | None] = mapped_column(
        state_column_type(LotState, name="held_from", length=24)
    )
    harvested_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    # The specification in effect when this record was created; its results are judged by it.
    spec_version_id: Mapped[int | None] = mapped_column(ForeignKey("spec_version.id"), index=True)
    # The lot list's order (newest first): indexed so a page reads only its rows.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    run: Mapped[ProductionRun] = relationship(back_populates="lots")
    spec_version: Mapped[SpecVersion | None] = relationship()
    units: Mapped[list[Unit]] = relationship(back_populates="lot", order_by="Unit.din")
