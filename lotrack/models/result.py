"""QC results as entered, judged against the subject's pinned specification."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.specs import Verdict
from lotrack.models.spec import SpecVersion

if TYPE_CHECKING:
    from lotrack.models.attachment import Attachment
    from lotrack.models.cellbank import CellBank
    from lotrack.models.lot import Lot
    from lotrack.models.production import Passage
    from lotrack.models.user import User


class Result(Base):
    """One QC result as entered; append-only (triggers refuse edits of what was entered)."""

    __tablename__ = "result"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN lot_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN bank_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN passage_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
        CheckConstraint("verified_by_id IS NULL OR verified_by_id <> analyst_id", name="four_eyes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("cell_bank.id"), index=True)
    passage_id: Mapped[int | None] = mapped_column(ForeignKey("passage.id"), index=True)
    spec_version_id: Mapped[int] = mapped_column(ForeignKey("spec_version.id"), index=True)
    test_code: Mapped[str] = mapped_column(String(40), index=True)
    analyte: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(60))
    unit: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(200))
    instrument: Mapped[str] = mapped_column(String(120), default="")
    reagent_lot: Mapped[str] = mapped_column(String(60), default="")
    performed_on: Mapped[dt.date] = mapped_column(Date)
    analyst_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verdict: Mapped[Verdict] = mapped_column(state_column_type(Verdict, name="verdict", length=10))
    rounded: Mapped[str | None] = mapped_column(String(60))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("result.id"), unique=True)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    invalidated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    invalidated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    invalidation_reason: Mapped[str | None] = mapped_column(Text)

    spec_version: Mapped[SpecVersion] = relationship()
    lot: Mapped[Lot | None] = relationship()
    bank: Mapped[CellBank | None] = relationship()
    passage: Mapped[Passage | None] = relationship()
    analyst: Mapped[User] = relationship(foreign_keys=[analyst_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    invalidated_by: Mapped[User | None] = relationship(foreign_keys=[invalidated_by_id])
    attachment: Mapped[Attachment | None] = relationship()
    replaces: Mapped[Result | None] = relationship(remote_side=[id], foreign_keys=[replaces_id])

    @property
    def shown_verdict(self) -> Verdict:
        return Verdict.INVALID if self.invalidated_at is not None else self.verdict
