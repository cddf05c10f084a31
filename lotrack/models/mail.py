"""The mail outbox: one row per notice per recipient, written in the transaction of the event it
tells of (so a rolled-back event tells no one) and sent after that transaction commits."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.mail import MailEvent, MailStatus

if TYPE_CHECKING:
    from lotrack.models.user import User


class MailOutbox(Base):
    """A notice to one person of one event, with its delivery's status and last error."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # (event, record, stage, recipient): unique, so a retry or a second scan never sends twice.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[MailEvent] = mapped_column(
        state_column_type(MailEvent, name="event", length=24), index=True
    )
    subject_id: Mapped[int] = mapped_column(Integer)  # the record's key in its own table
    number: Mapped[str] = mapped_column(String(40), index=True)  # the record's number or code
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    address: Mapped[str] = mapped_column(String(254), default="")
    language: Mapped[str | None] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(
        state_column_type(MailStatus, name="status", length=12), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    recipient: Mapped[User | None] = relationship()
