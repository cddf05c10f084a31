"""Containments: holds and recalls of a lot or of a cell bank's lots, and lookback holds."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import ContainmentKind, LotState

if TYPE_CHECKING:
    from lotrack.models.cellbank import CellBank
    from lotrack.models.lot import Lot
    from lotrack.models.material import MaterialLot
    from lotrack.models.user import User


class Containment(Base):
    """A hold or a recall of one lot, of every lot from a cell bank or made with a material lot,
    with its reason; or a lookback hold, put on a lot by a fact that arose after its release (the
    trigger names it)."""

    __tablename__ = "containment"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN bank_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN lot_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN material_lot_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[ContainmentKind] = mapped_column(
        state_column_type(ContainmentKind, name="kind", length=8)
    )
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("cell_bank.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    # A material lot's hold or recall reaches every product lot made or tested with it (0020).
    material_lot_id: Mapped[int | None] = mapped_column(ForeignKey("material_lot.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    # A lookback's triggering record, as the audit trail names it (entity type and id).
    trigger_entity: Mapped[str | None] = mapped_column(String(40))
    trigger_id: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    bank: Mapped[CellBank | None] = relationship()
    lot: Mapped[Lot | None] = relationship()
    material_lot: Mapped[MaterialLot | None] = relationship()
    created_by: Mapped[User] = relationship()
    lots: Mapped[list[ContainmentLot]] = relationship(order_by="ContainmentLot.lot_id")


class ContainmentLot(Base):
    """One lot a hold or recall reached, and the state it moved it from and to."""

    __tablename__ = "containment_lot"

    containment_id: Mapped[int] = mapped_column(ForeignKey("containment.id"), primary_key=True)
    # The key starts with containment_id: finding a lot's holds and recalls needs its own index.
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), primary_key=True, index=True)
    from_state: Mapped[LotState] = mapped_column(
        state_column_type(LotState, name="from_state", length=24)
    )
    to_state: Mapped[LotState] = mapped_column(
        state_column_type(LotState, name="to_state", length=24)
    )

    lot: Mapped[Lot] = relationship()
