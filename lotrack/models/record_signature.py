"""Electronic signatures on QA decisions about records other than a lot (21 CFR 11.50)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.record_signatures import RecordMeaning, SubjectKind

if TYPE_CHECKING:
    from lotrack.models.user import User


class RecordSignature(Base):
    """Who signed which decision on which record, when (UTC), meaning what, and the SHA-256 of the
    record's signed content. Append-only: database triggers refuse an update or a delete."""

    __tablename__ = "record_signature"
    __table_args__ = (Index("ix_record_signature_subject", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[SubjectKind] = mapped_column(
        state_column_type(SubjectKind, name="subject_kind", length=20)
    )
    subject_id: Mapped[int] = mapped_column()
    meaning: Mapped[RecordMeaning] = mapped_column(
        state_column_type(RecordMeaning, name="meaning", length=20)
    )
    signer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_username: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")

    signer: Mapped[User] = relationship()
