"""Specification versions: the canonical content of one spec file, immutable once approved."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.specs import Stage

if TYPE_CHECKING:
    from lotrack.models.user import User


class SpecVersion(Base):
    """One version of a product's specification for one stage.

    The tests live in `content`, the canonical JSON whose SHA-256 is `content_hash`, so anyone can
    recompute the hash and see that an approved version is exactly what QA approved.
    """

    __tablename__ = "spec_version"
    __table_args__ = (UniqueConstraint("product", "stage", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(String(32))
    stage: Mapped[Stage] = mapped_column(state_column_type(Stage, name="stage", length=16))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    approved_by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        return f"{self.product} {self.stage} v{self.version}"
