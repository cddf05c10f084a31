"""QA decisions on lots: e-signatures, deviations, exceptional releases, holds and recalls."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from lotrack.models.cellbank import CellBank
    from lotrack.models.clinical import Patient
    from lotrack.models.lot import Lot
    from lotrack.models.production import ProductionRun
    from lotrack.models.user import User


class Signature(Base):
    """An electronic signature (21 CFR 11.50): who, when (UTC), what it means, and the SHA-256 of
    the lot dossier signed. It is void when the dossier no longer hashes to `dossier_sha256`."""

    __tablename__ = "signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    action: Mapped[str] = mapped_column(String(24))
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


class Deviation(Base):
    """A departure from procedure on a run or a lot; an open one blocks release."""

    __tablename__ = "deviation"
    __table_args__ = (CheckConstraint("(run_id IS NULL) <> (lot_id IS NULL)", name="one_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("production_run.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    impact_assessment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    closure: Mapped[str | None] = mapped_column(Text)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    run: Mapped[ProductionRun | None] = relationship()
    lot: Mapped[Lot | None] = relationship()
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])


class ExceptionalRelease(Base):
    """A lot released although it does not meet every criterion (EU GMP Part IV §11.5): the treating
    physician's request, the manufacturer's risk assessment, QA's and the medical director's
    signatures, and who was told."""

    __tablename__ = "exceptional_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    physician: Mapped[str] = mapped_column(String(200))
    patient: Mapped[str] = mapped_column(String(64))  # the wristband as requested
    # The one patient the lot may go to (None only on requests made before revision 0009).
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    request: Mapped[str] = mapped_column(Text)
    requested_on: Mapped[dt.date] = mapped_column(Date)
    risk_assessment: Mapped[str] = mapped_column(Text)
    blockers: Mapped[str] = mapped_column(Text)  # JSON list: what the lot failed when requested
    # JSON [[kind, subject], ...] of those blockers: what the release accepts (domain/release.py).
    blocker_keys: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lot: Mapped[Lot] = relationship()
    created_by: Mapped[User] = relationship()
    for_patient: Mapped[Patient | None] = relationship()


class Containment(Base):
    """A hold or a recall of one lot or of every lot from a cell bank, with its reason; or a
    lookback hold, put on a lot by a fact that arose after its release (the trigger names it)."""

    __tablename__ = "containment"
    __table_args__ = (CheckConstraint("(bank_id IS NULL) <> (lot_id IS NULL)", name="one_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # hold, recall or lookback
    bank_id: Mapped[int | None] = mapped_column(ForeignKey("cell_bank.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lot.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    # A lookback's triggering record, as the audit trail names it (entity type and id).
    trigger_entity: Mapped[str | None] = mapped_column(String(40))
    trigger_id: Mapped[str | None] = mapped_column(String(40))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    bank: Mapped[CellBank | None] = relationship()
    lot: Mapped[Lot | None] = relationship()
    created_by: Mapped[User] = relationship()
    lots: Mapped[list[ContainmentLot]] = relationship(order_by="ContainmentLot.lot_id")


class ContainmentLot(Base):
    """One lot a hold or recall reached, and the state it moved it from and to."""

    __tablename__ = "containment_lot"

    containment_id: Mapped[int] = mapped_column(ForeignKey("containment.id"), primary_key=True)
    # The key starts with containment_id: finding a lot's holds and recalls needs its own index.
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), primary_key=True, index=True)
    from_state: Mapped[str] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))

    lot: Mapped[Lot] = relationship()


class Notification(Base):
    """Who was told of an exceptional release or a recall, when and how."""

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(
            "(exceptional_release_id IS NULL) <> (containment_id IS NULL)", name="one_subject"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exceptional_release_id: Mapped[int | None] = mapped_column(
        ForeignKey("exceptional_release.id"), index=True
    )
    containment_id: Mapped[int | None] = mapped_column(ForeignKey("containment.id"), index=True)
    recipient_role: Mapped[str] = mapped_column(String(20))  # physician, sponsor, site
    recipient: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(60))
    notified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recorded_by: Mapped[User] = relationship()
