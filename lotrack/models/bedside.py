"""Bedside scans: every check of a unit against a patient, GO or NO-GO."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import ScanMethod


class BedsideScan(Base):
    """Every scan attempt, GO or NO-GO, with the reasons given."""

    __tablename__ = "bedside_scan"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    patient_text: Mapped[str] = mapped_column(String(200))
    scan_text: Mapped[str] = mapped_column(String(400))
    # The label's expiry bar code (005) as scanned beside the DIN or QR code ("" when not scanned).
    expiry_text: Mapped[str] = mapped_column(String(200), default="", server_default="")
    method: Mapped[ScanMethod] = mapped_column(
        state_column_type(ScanMethod, name="method", length=12)
    )
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    go: Mapped[bool] = mapped_column(Boolean)
    # The physician acknowledged an exceptional release at this scan (kept for the reports).
    exceptional_acknowledged: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    reasons: Mapped[str] = mapped_column(Text)  # JSON list of sentences
    scanned_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    scanned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
