"""Issued documents: certificates of analysis (kept byte for byte) and the log of label prints."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.label_output import LabelOutput
from lotrack.domain.states import LotState

if TYPE_CHECKING:
    from lotrack.models.lot import Lot, Unit
    from lotrack.models.user import User


class Certificate(Base):
    """One version of a lot's certificate of analysis; a re-issue supersedes it, never edits it."""

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("lot_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    document_number: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[str] = mapped_column(Text)  # the canonical JSON the PDF was rendered from
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    token: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    lot: Mapped[Lot] = relationship()
    issued_by: Mapped[User] = relationship()


class LabelPrint(Base):
    """Every print of a unit label; a reprint carries its reason. What was printed: a PDF, or
    ZPL for a thermal printer at the dpi it was laid out for."""

    __tablename__ = "label_print"
    __table_args__ = (
        CheckConstraint(
            # NOT NULL spelled out: a CHECK whose condition is NULL passes.
            "(output = 'pdf' AND dpi IS NULL)"
            " OR (output = 'zpl' AND dpi IS NOT NULL AND dpi IN (203, 300))",
            name="dpi_of_output",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    printed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    printed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reprint: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    stock: Mapped[str] = mapped_column(String(20))
    # What the label showed when printed.
    lot_state: Mapped[LotState] = mapped_column(
        state_column_type(LotState, name="lot_state", length=24)
    )
    # Prints logged before revision 0018 were all PDFs (the server default says so).
    output: Mapped[LabelOutput] = mapped_column(
        state_column_type(LabelOutput, name="output", length=3),
        default=LabelOutput.PDF,
        server_default=LabelOutput.PDF.value,
    )
    dpi: Mapped[int | None] = mapped_column(Integer)

    unit: Mapped[Unit] = relationship()
    printed_by: Mapped[User] = relationship()
