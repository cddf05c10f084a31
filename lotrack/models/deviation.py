"""Deviations: departures from procedure on a run or a lot."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import DeviationStatus

if TYPE_CHECKING:
    from lotrack.models.lot import Lot
    from lotrack.models.production import ProductionRun
    from lotrack.models.user import User


class Deviation(Base):
    """A departure from procedure on a run or a lot; an open one blocks release."""

    __tablename__ = "deviation"
    __table_args__ = (CheckConstraint("(run_id IS NULL) <> (lot_id IS NULL)", name="one_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("production_run.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    impact_assessment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DeviationStatus] = mapped_column(
        state_column_type(DeviationStatus, name="status", length=10),
        default=DeviationStatus.OPEN,
        index=True,
    )
    closure: Mapped[str | None] = mapped_column(Text)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    run: Mapped[ProductionRun | None] = relationship()
    lot: Mapped[Lot | None] = relationship()
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
