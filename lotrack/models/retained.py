"""Retained samples of lots and cell banks, and their withdrawals (both append-only)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.retained import QuantityUnit, SampleContainer, SampleType, WithdrawalReason

if TYPE_CHECKING:
    from lotrack.models.cellbank import CellBank
    from lotrack.models.deviation import Deviation
    from lotrack.models.investigation import Investigation
    from lotrack.models.lot import Lot
    from lotrack.models.result import Result
    from lotrack.models.user import User


class RetainedSample(Base):
    """Reserve samples of one lot or one cell bank laid down in one place. Append-only: what is
    left is the quantity laid down less the withdrawals (domain/retained.py `remaining`)."""

    __tablename__ = "retained_sample"
    __table_args__ = (
        CheckConstraint("(lot_id IS NULL) <> (bank_id IS NULL)", name="one_subject"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # RS-2026-001
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("cell_bank.id"), index=True)
    sample_type: Mapped[SampleType] = mapped_column(
        state_column_type(SampleType, name="sample_type", length=12)
    )
    container: Mapped[SampleContainer] = mapped_column(
        state_column_type(SampleContainer, name="container", length=12)
    )
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    unit: Mapped[QuantityUnit] = mapped_column(
        state_column_type(QuantityUnit, name="unit", length=8)
    )
    freezer: Mapped[str] = mapped_column(String(40))
    rack: Mapped[str] = mapped_column(String(20))
    box: Mapped[str] = mapped_column(String(20))
    position: Mapped[str] = mapped_column(String(20))
    laid_down_on: Mapped[dt.date] = mapped_column(Date)
    # Fixed when laid down, by the retention setting then in force (NULL: a bank's, kept with it).
    retain_until: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    laid_down_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    lot: Mapped[Lot | None] = relationship()
    bank: Mapped[CellBank | None] = relationship()
    laid_down_by: Mapped[User] = relationship()
    withdrawals: Mapped[list[RetainedSampleWithdrawal]] = relationship(
        back_populates="sample", order_by="RetainedSampleWithdrawal.id"
    )

    @property
    def location(self) -> str:
        return f"{self.freezer} / rack {self.rack} / box {self.box} / {self.position}"

    @property
    def subject(self) -> str:
        """The lot number or bank code the sample is of."""
        return self.lot.lot_number if self.lot is not None else self.bank.code if self.bank else ""


class RetainedSampleWithdrawal(Base):
    """A quantity taken from a retained sample, for what and by whom. Append-only."""

    __tablename__ = "retained_sample_withdrawal"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # A retest names the result it re-examines; an investigation its OOS or deviation record.
        CheckConstraint(
            "(reason <> 'retest' OR result_id IS NOT NULL) AND (reason <> 'investigation' OR"
            " investigation_id IS NOT NULL OR deviation_id IS NOT NULL)",
            name="linked",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("retained_sample.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    reason: Mapped[WithdrawalReason] = mapped_column(
        state_column_type(WithdrawalReason, name="reason", length=16)
    )
    result_id: Mapped[int | None] = mapped_column(ForeignKey("result.id"), index=True)
    investigation_id: Mapped[int | None] = mapped_column(ForeignKey("investigation.id"), index=True)
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviation.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    withdrawn_on: Mapped[dt.date] = mapped_column(Date)
    withdrawn_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sample: Mapped[RetainedSample] = relationship(back_populates="withdrawals")
    result: Mapped[Result | None] = relationship()
    investigation: Mapped[Investigation | None] = relationship()
    deviation: Mapped[Deviation | None] = relationship()
    withdrawn_by: Mapped[User] = relationship()
