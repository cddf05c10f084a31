"""Out-of-specification investigations."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import Conclusion, InvestigationStatus

if TYPE_CHECKING:
    from lotrack.models.lot import Lot
    from lotrack.models.result import Result
    from lotrack.models.user import User


class Investigation(Base):
    """An out-of-specification investigation opened by a failing lot result."""

    __tablename__ = "investigation"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("result.id"), unique=True)
    phase: Mapped[str] = mapped_column(String(4), default="I")
    status: Mapped[InvestigationStatus] = mapped_column(
        state_column_type(InvestigationStatus, name="status", length=10),
        default=InvestigationStatus.OPEN,
        index=True,
    )
    conclusion: Mapped[Conclusion | None] = mapped_column(
        state_column_type(Conclusion, name="conclusion", length=20)
    )
    findings: Mapped[str] = mapped_column(Text, default="")
    assignable_cause: Mapped[str | None] = mapped_column(Text)
    siblings_reviewed: Mapped[str | None] = mapped_column(Text)  # JSON list of lot numbers
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    lot: Mapped[Lot] = relationship()
    result: Mapped[Result] = relationship()
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
