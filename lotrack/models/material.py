"""Materials (media, serum, enzymes, bags ...), the lots received of them, and which material lot
each run, passage and result used."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.materials import MaterialCategory
from lotrack.domain.states import MaterialLotState

if TYPE_CHECKING:
    from lotrack.models.attachment import Attachment
    from lotrack.models.user import User


class Material(Base):
    """A material as bought: one supplier's catalogue item. Guarded: never rewritten."""

    __tablename__ = "material"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[MaterialCategory] = mapped_column(
        state_column_type(MaterialCategory, name="category", length=20)
    )
    supplier: Mapped[str] = mapped_column(String(200))
    catalogue_number: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MaterialLot(Base):
    """A lot of a material as received, with the supplier's certificate (kept with its SHA-256);
    only its state moves (incoming inspection, then a hold or recall)."""

    __tablename__ = "material_lot"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # our receipt number
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id"), index=True)
    supplier_lot: Mapped[str] = mapped_column(String(60))
    received_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    state: Mapped[MaterialLotState] = mapped_column(
        state_column_type(MaterialLotState, name="state", length=12),
        default=MaterialLotState.QUARANTINE,
    )
    received_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    material: Mapped[Material] = relationship()
    certificate: Mapped[Attachment] = relationship()
    received_by: Mapped[User] = relationship()


class MaterialUse(Base):
    """That a run, a passage or a result used a material lot. Append-only: a wrong entry is struck
    by a new record naming it (`strikes_id`, with a reason), never changed or deleted."""

    __tablename__ = "material_use"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN run_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN passage_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN result_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_lot_id: Mapped[int] = mapped_column(ForeignKey("material_lot.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("production_run.id"), index=True)
    passage_id: Mapped[int | None] = mapped_column(ForeignKey("passage.id"), index=True)
    result_id: Mapped[int | None] = mapped_column(ForeignKey("result.id"), index=True)
    used_on: Mapped[dt.date] = mapped_column(Date)
    strikes_id: Mapped[int | None] = mapped_column(ForeignKey("material_use.id"), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    material_lot: Mapped[MaterialLot] = relationship()
    recorded_by: Mapped[User] = relationship()
