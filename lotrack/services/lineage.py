"""Lineage: a lot back to its donor, and a bank forward to every lot and unit.

Each answer costs a fixed number of queries, whatever the size of the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.domain.errors import NotFound
from lotrack.domain.passage import PassageFigures
from lotrack.domain.permissions import require
from lotrack.domain.states import BankTier
from lotrack.domain.text import said
from lotrack.models import CellBank, Clone, Donor, Lot, ProductionRun, User, VialWithdrawal
from lotrack.services.common import norm
from lotrack.services.production import passage_figures


@dataclass(frozen=True)
class LotLineage:
    donor: Donor
    clone: Clone
    mcb: CellBank
    wcb: CellBank
    run: ProductionRun
    figures: list[PassageFigures]
    lot: Lot


def lot_back(session: Session, actor: User, lot_number: str) -> LotLineage:
    """From a lot back to the donor: lot -> run -> WCB -> MCB -> clone -> donor (3 queries)."""
    require(actor.role, "manufacturing.read")
    lot = session.scalar(
        select(Lot)
        .where(Lot.lot_number == norm(lot_number))
        .options(
            joinedload(Lot.run)
            .joinedload(ProductionRun.bank)
            .joinedload(CellBank.parent)
            .joinedload(CellBank.clone)
            .joinedload(Clone.donor),
            joinedload(Lot.run).selectinload(ProductionRun.passages),
            joinedload(Lot.run)
            .selectinload(ProductionRun.withdrawals)
            .selectinload(VialWithdrawal.vial),
            selectinload(Lot.units),
        )
    )
    if lot is None:
        raise NotFound(
            said("No lot %(lot)s.", lot=lot_number), {"lot": said("no lot %(lot)s", lot=lot_number)}
        )
    wcb = lot.run.bank
    mcb = wcb.parent
    assert mcb is not None and mcb.clone is not None  # guaranteed by the cell_bank check
    return LotLineage(
        donor=mcb.clone.donor,
        clone=mcb.clone,
        mcb=mcb,
        wcb=wcb,
        run=lot.run,
        figures=passage_figures(lot.run),
        lot=lot,
    )


@dataclass(frozen=True)
class BankForward:
    bank: CellBank
    banks: list[CellBank]  # the bank itself, then (for an MCB) its WCBs
    runs: list[ProductionRun]  # with passages, lots and units loaded

    def runs_of(self, bank: CellBank) -> list[ProductionRun]:
        return [r for r in self.runs if r.bank_id == bank.id]

    @property
    def unit_count(self) -> int:
        return sum(len(lot.units) for r in self.runs for lot in r.lots)


def bank_forward(session: Session, actor: User, bank_code: str) -> BankForward:
    """From a bank forward to every run, lot and unit made from it (6 queries)."""
    require(actor.role, "manufacturing.read")
    bank = session.scalar(
        select(CellBank)
        .where(CellBank.code == norm(bank_code))
        .options(joinedload(CellBank.clone), selectinload(CellBank.children))
    )
    if bank is None:
        raise NotFound(
            said("No cell bank %(bank)s.", bank=bank_code),
            {"bank": said("no cell bank %(bank)s", bank=bank_code)},
        )
    banks = [bank, *bank.children] if bank.tier == BankTier.MCB else [bank]
    runs = list(
        session.scalars(
            select(ProductionRun)
            .where(ProductionRun.bank_id.in_([b.id for b in banks]))
            .order_by(ProductionRun.started_on, ProductionRun.code)
            .options(
                selectinload(ProductionRun.passages),
                selectinload(ProductionRun.lots).selectinload(Lot.units),
            )
        )
    )
    return BankForward(bank=bank, banks=banks, runs=runs)
