"""Master and working cell banks, their vials and vial withdrawals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import BankTier, Qualification, VialState
from lotrack.models.donor import Clone
from lotrack.models.spec import SpecVersion

if TYPE_CHECKING:
    from lotrack.models.production import ProductionRun
    from lotrack.models.user import User


class CellBank(Base):
    __tablename__ = "cell_bank"
    __table_args__ = (
        # An MCB descends from a clone, a WCB from an MCB: exactly one parent, of the right kind.
        CheckConstraint(
            "(tier = 'MCB' AND clone_id IS NOT NULL AND parent_bank_id IS NULL) OR "
            "(tier = 'WCB' AND parent_bank_id IS NOT NULL AND clone_id IS NULL)",
            name="one_parent",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    tier: Mapped[BankTier] = mapped_column(state_column_type(BankTier, name="tier", length=3))
    clone_id: Mapped[int | None] = mapped_column(ForeignKey("clone.id"), index=True)
    parent_bank_id: Mapped[int | None] = mapped_column(ForeignKey("cell_bank.id"), index=True)
    passage_at_banking: Mapped[int] = mapped_column(Integer)
    pdl_at_banking: Mapped[Decimal] = mapped_column(Numeric(8, 2))
    banked_on: Mapped[dt.date] = mapped_column(Date)
    qualification: Mapped[Qualification] = mapped_column(
        state_column_type(Qualification, name="qualification", length=20),
        default=Qualification.PENDING,
    )
    # The specification in effect when this record was created; its results are judged by it.
    spec_version_id: Mapped[int | None] = mapped_column(ForeignKey("spec_version.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    clone: Mapped[Clone | None] = relationship()
    spec_version: Mapped[SpecVersion | None] = relationship()
    parent: Mapped[CellBank | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[CellBank]] = relationship(back_populates="parent", order_by="CellBank.id")
    vials: Mapped[list[Vial]] = relationship(back_populates="bank", order_by="Vial.id")


class Vial(Base):
    __tablename__ = "vial"
    __table_args__ = (
        # One stored vial per storage position; a withdrawn vial frees its position.
        Index(
            "uq_vial_stored_position",
            "freezer",
            "rack",
            "box",
            "position",
            unique=True,
            sqlite_where=text("state = 'stored'"),
            postgresql_where=text("state = 'stored'"),
        ),
        Index("uq_vial_bank_number", "bank_id", "number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("cell_bank.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    freezer: Mapped[str] = mapped_column(String(40))
    rack: Mapped[str] = mapped_column(String(20))
    box: Mapped[str] = mapped_column(String(20))
    position: Mapped[str] = mapped_column(String(10))
    state: Mapped[VialState] = mapped_column(
        state_column_type(VialState, name="state", length=12), default=VialState.STORED
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    bank: Mapped[CellBank] = relationship(back_populates="vials")
    withdrawal: Mapped[VialWithdrawal | None] = relationship(back_populates="vial")

    @property
    def label(self) -> str:
        return f"{self.bank.code}-V{self.number:03d}"

    @property
    def location(self) -> str:
        return f"{self.freezer} / rack {self.rack} / box {self.box} / {self.position}"


class VialWithdrawal(Base):
    __tablename__ = "vial_withdrawal"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a vial is withdrawn once, enforced by the database as well as the service.
    vial_id: Mapped[int] = mapped_column(ForeignKey("vial.id"), unique=True)
    withdrawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    purpose: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("production_run.id"), index=True)

    vial: Mapped[Vial] = relationship(back_populates="withdrawal")
    withdrawn_by: Mapped[User] = relationship()
    run: Mapped[ProductionRun | None] = relationship(back_populates="withdrawals")
