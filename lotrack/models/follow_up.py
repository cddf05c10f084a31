"""The one-month visit (the trial's secondary outcome)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.clinical import Response

if TYPE_CHECKING:
    from lotrack.models.patient import Patient


class FollowUp(Base):
    """The one-month visit: response improved, stable or worse (the secondary outcome)."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), unique=True)
    visit_on: Mapped[dt.date] = mapped_column(Date)
    response: Mapped[Response] = mapped_column(
        state_column_type(Response, name="response", length=12)
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship()
