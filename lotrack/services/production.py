"""Production runs started from WCB vials, and their passages with population doublings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.passage import PassageFigures, accumulate
from lotrack.domain.permissions import require
from lotrack.domain.specs import Stage
from lotrack.domain.states import BankTier, VialState
from lotrack.models import CellBank, Passage, ProductionRun, User, Vial, VialWithdrawal
from lotrack.services import audit, lookback, specs
from lotrack.services.cellbank import withdraw_vial
from lotrack.services.common import Page, check_code, norm, page_of

PRODUCTS = ("cfMSC",)


def get_run(session: Session, code: str) -> ProductionRun:
    run = session.scalar(
        select(ProductionRun)
        .where(ProductionRun.code == norm(code))
        .options(
            selectinload(ProductionRun.passages),
            selectinload(ProductionRun.withdrawals).selectinload(VialWithdrawal.vial),
            selectinload(ProductionRun.lots),
        )
    )
    if run is None:
        raise NotFound(f"No production run with code {code}.", {"run": f"no run with code {code}"})
    return run


def list_runs(session: Session, page: int = 1, per_page: int = 50) -> Page[ProductionRun]:
    """A page of runs, latest first, each with its WCB (joined: rows name the bank's code)."""
    stmt = (
        select(ProductionRun)
        .options(joinedload(ProductionRun.bank))
        .order_by(ProductionRun.started_on.desc(), ProductionRun.code)
    )
    return page_of(session, stmt, page, per_page)


def start_run(
    session: Session,
    actor: User,
    *,
    code: str,
    bank_code: str,
    vial_numbers: list[int],
    started_on: dt.date,
    product: str = "cfMSC",
) -> ProductionRun:
    """Start a run from stored vials of one WCB; the vials are withdrawn for it."""
    require(actor.role, "manufacturing.write")
    code = check_code(code, "code")
    fields: dict[str, str] = {}
    if product not in PRODUCTS:
        fields["product"] = f"one of {', '.join(PRODUCTS)}"
    bank = session.scalar(select(CellBank).where(CellBank.code == norm(bank_code)))
    if bank is None:
        fields["bank"] = f"no cell bank with code {bank_code}"
    elif bank.tier != BankTier.WCB:
        fields["bank"] = f"{bank_code} is an {bank.tier}; production starts from a WCB"
    elif started_on < bank.banked_on:
        fields["started_on"] = f"before the WCB was banked ({bank.banked_on})"
    if not vial_numbers:
        fields["vials"] = "at least one vial of the WCB"
    elif len(set(vial_numbers)) != len(vial_numbers):
        fields["vials"] = "a vial is listed twice"
    if fields or bank is None:
        raise ValidationFailed("The production run cannot be started.", fields)
    vials = {
        v.number: v
        for v in session.scalars(
            select(Vial).where(Vial.bank_id == bank.id, Vial.number.in_(vial_numbers))
        )
    }
    missing = [n for n in vial_numbers if n not in vials]
    if missing:
        raise ValidationFailed(
            f"Bank {bank.code} has no vial {', '.join(map(str, missing))}.",
            {"vials": f"not in {bank.code}: {', '.join(map(str, missing))}"},
        )
    gone = [v.label for v in vials.values() if v.state != VialState.STORED]
    if gone:
        raise Conflict(
            f"Vial {', '.join(gone)} is no longer stored and cannot start a run.",
            {"vials": f"already withdrawn or destroyed: {', '.join(gone)}"},
        )
    if session.scalar(select(func.count()).where(ProductionRun.code == code)):
        raise Conflict(
            f"A production run with code {code} exists already.", {"code": "already used"}
        )
    run = ProductionRun(
        code=code,
        product=product,
        bank=bank,
        started_on=started_on,
        spec_version=specs.require_effective(session, product, Stage.IN_PROCESS),
    )
    audit.created(session, actor, run)
    for number in vial_numbers:
        withdraw_vial(session, actor, vials[number], purpose=f"production run {code}", run=run)
    return run


def record_passage(
    session: Session,
    actor: User,
    run: ProductionRun,
    *,
    seeded_on: dt.date,
    harvested_on: dt.date,
    cells_seeded: int,
    cells_harvested: int,
    viability_percent: Decimal,
) -> Passage:
    """Record the run's next passage; its number follows the bank's passage at banking."""
    require(actor.role, "manufacturing.write")
    fields: dict[str, str] = {}
    if cells_seeded <= 0:
        fields["cells_seeded"] = "must be greater than zero"
    if cells_harvested <= 0:
        fields["cells_harvested"] = "must be greater than zero"
    if not Decimal(0) <= viability_percent <= Decimal(100):
        fields["viability_percent"] = "between 0 and 100"
    if harvested_on < seeded_on:
        fields["harvested_on"] = "before the seeding date"
    previous = run.passages[-1] if run.passages else None
    if seeded_on < (previous.harvested_on if previous else run.started_on):
        fields["seeded_on"] = (
            f"before the previous passage's harvest ({previous.harvested_on})"
            if previous
            else f"before the run started ({run.started_on})"
        )
    if fields:
        raise ValidationFailed("The passage cannot be recorded.", fields)
    number = (previous.number if previous else run.bank.passage_at_banking) + 1
    passage = Passage(
        run=run,
        number=number,
        seeded_on=seeded_on,
        harvested_on=harvested_on,
        cells_seeded=cells_seeded,
        cells_harvested=cells_harvested,
        viability_percent=viability_percent,
    )
    audit.created(session, actor, passage)
    lookback.reassess(
        session,
        actor,
        lookback.lots_of_runs(session, [run.id]),
        cause=f"Passage {passage.number} recorded on run {run.code}",
        trigger=passage,
    )
    return passage


def passage_figures(run: ProductionRun) -> list[PassageFigures]:
    """Doublings per passage, the cumulative level from the bank's, and limit flags."""
    if run.spec_version is None:
        return []  # a run started before specifications existed has no limits to judge by
    limits = specs.passage_limits(run.spec_version)
    return accumulate(
        Decimal(run.bank.pdl_at_banking),
        [(p.number, p.cells_seeded, p.cells_harvested) for p in run.passages],
        limits,
    )
