"""Electronic signatures on lot decisions (21 CFR 11.50)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.decisions import Action

if TYPE_CHECKING:
    from lotrack.models.user import User


class Signature(Base):
    """An electronic signature (21 CFR 11.50): who, when (UTC), what it means, and the SHA-256 of
    the lot dossier signed. It is void when the dossier no longer hashes to `dossier_sha256`."""

    __tablename__ = "signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    action: Mapped[Action] = mapped_column(state_column_type(Action, name="action", length=24))
    meaning: Mapped[str] = mapped_column(String(60))
    signer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_username: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dossier_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    exceptional_release_id: Mapped[int | None] = mapped_column(
        ForeignKey("exceptional_release.id"), index=True
    )
    containment_id: Mapped[int | None] = mapped_column(ForeignKey("containment.id"), index=True)

    signer: Mapped[User] = relationship()
