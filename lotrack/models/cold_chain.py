"""A shipment's temperature-logger file as judged at receipt, and QA's decision on an excursion."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.cold_chain import ExcursionOutcome

if TYPE_CHECKING:
    from lotrack.models.attachment import Attachment
    from lotrack.models.shipment import Shipment
    from lotrack.models.user import User


class ColdChainLog(Base):
    """The logger file of one shipment (kept byte for byte, with its SHA-256) and its judgement,
    with everything the judgement used (the mapping, the range and its source, the window), so
    that it can be read again the same way. Append-only: triggers refuse an update or delete."""

    __tablename__ = "cold_chain_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), unique=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    mapping: Mapped[str] = mapped_column(String(40))
    mapping_spec: Mapped[str] = mapped_column(Text)  # the mapping's fields, JSON
    max_c: Mapped[str | None] = mapped_column(String(12))  # exact, as configured
    min_c: Mapped[str | None] = mapped_column(String(12))
    allowed_minutes: Mapped[int] = mapped_column(Integer)
    max_gap_minutes: Mapped[int] = mapped_column(Integer)
    range_source: Mapped[str] = mapped_column(Text)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # dispatch
    window_end: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # receipt
    judged: Mapped[int] = mapped_column(Integer)
    ignored: Mapped[int] = mapped_column(Integer)
    blanks: Mapped[int] = mapped_column(Integer)
    highest: Mapped[str | None] = mapped_column(String(12))
    lowest: Mapped[str | None] = mapped_column(String(12))
    excursion: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[str] = mapped_column(Text)  # JSON list, as judged
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    shipment: Mapped[Shipment] = relationship(viewonly=True)
    attachment: Mapped[Attachment] = relationship(viewonly=True)
    recorded_by: Mapped[User] = relationship(viewonly=True)
    decision: Mapped[ExcursionDecision | None] = relationship(viewonly=True, uselist=False)


class ExcursionDecision(Base):
    """QA's signed decision on an excursion: the units released back for use, or rejected (and
    destroyed). One per log; append-only. The signature is a record signature on this row."""

    __tablename__ = "excursion_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    log_id: Mapped[int] = mapped_column(ForeignKey("cold_chain_log.id"), unique=True)
    outcome: Mapped[ExcursionOutcome] = mapped_column(
        state_column_type(ExcursionOutcome, name="outcome", length=10)
    )
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    log: Mapped[ColdChainLog] = relationship(viewonly=True)
    decided_by: Mapped[User] = relationship(viewonly=True)
