"""Who was told of an exceptional release or a recall."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import RecipientRole

if TYPE_CHECKING:
    from lotrack.models.user import User


class Notification(Base):
    """Who was told of an exceptional release or a recall, when and how."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(
            "(exceptional_release_id IS NULL) <> (containment_id IS NULL)", name="one_subject"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exceptional_release_id: Mapped[int | None] = mapped_column(
        ForeignKey("exceptional_release.id"), index=True
    )
    containment_id: Mapped[int | None] = mapped_column(ForeignKey("containment.id"), index=True)
    recipient_role: Mapped[RecipientRole] = mapped_column(
        state_column_type(RecipientRole, name="recipient_role", length=20)
    )
    recipient: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(60))
    notified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User] = relationship()
