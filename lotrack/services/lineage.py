"""Lineage: a lot back to its donor, and a bank forward to every lot and unit.

Each answer costs a fixed number of queries, whatever the size of the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.domain.errors import NotFound
from lotrack.domain.passage import PassageFigures
from lotrack.domain.permissions import require
from lotrack.domain.states import BankTier
from lotrack.domain.text import said
from lotrack.models import (
    CellBank,
    Clone,
    Donor,
    Lot,
    ProductionRun,
    Unit,
    User,
    VialWithdrawal,
)
from lotrack.services.common import Page, norm, page_of
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
    page: Page[ProductionRun]  # a page of the runs, with passages, lots and units loaded
    lot_count: int  # of every run, not only this page's
    unit_count: int

    @property
    def runs(self) -> list[ProductionRun]:
        return self.page.items

    def runs_of(self, bank: CellBank) -> list[ProductionRun]:
        return [r for r in self.runs if r.bank_id == bank.id]


def bank_forward(
    session: Session, actor: User, bank_code: str, page: int = 1, per_page: int = 50
) -> BankForward:
    """From a bank forward to every run, lot and unit made from it, a page of runs at a time
    (every unit of an MCB at programme scale is megabytes); the counts are of everything."""
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
    bank_ids = [b.id for b in banks]
    runs = page_of(
        session,
        select(ProductionRun)
        .where(ProductionRun.bank_id.in_(bank_ids))
        .order_by(ProductionRun.started_on, ProductionRun.code, ProductionRun.id)
        .options(
            selectinload(ProductionRun.passages),
            selectinload(ProductionRun.lots).selectinload(Lot.units),
        ),
        page,
        per_page,
    )
    lots, units = session.execute(
        select(func.count(distinct(Lot.id)), func.count(Unit.id))
        .select_from(Lot)
        .join(ProductionRun, ProductionRun.id == Lot.run_id)
        .outerjoin(Unit, Unit.lot_id == Lot.id)
        .where(ProductionRun.bank_id.in_(bank_ids))
    ).one()
    return BankForward(bank=bank, banks=banks, page=runs, lot_count=lots, unit_count=units)
