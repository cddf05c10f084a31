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
from lotrack.domain.text import N_, said
from lotrack.models import CellBank, Passage, ProductionRun, User, Vial, VialWithdrawal
from lotrack.services import audit, lookback, material_uses, specs
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
        raise NotFound(
            said("No production run with code %(code)s.", code=code),
            {"run": said("no run with code %(code)s", code=code)},
        )
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
    material_lots: list[str] | None = None,
) -> ProductionRun:
    """Start a run from stored vials of one WCB; the vials are withdrawn for it. The material lots
    it uses (medium, serum, enzyme ...) must be approved and unexpired on its start date."""
    require(actor.role, "manufacturing.write")
    code = check_code(code, "code")
    fields: dict[str, str] = {}
    if product not in PRODUCTS:
        fields["product"] = said("one of %(choices)s", choices=", ".join(PRODUCTS))
    bank = session.scalar(select(CellBank).where(CellBank.code == norm(bank_code)))
    if bank is None:
        fields["bank"] = said("no cell bank with code %(code)s", code=bank_code)
    elif bank.tier != BankTier.WCB:
        fields["bank"] = said(
            "%(code)s is an %(tier)s; production starts from a WCB", code=bank_code, tier=bank.tier
        )
    elif started_on < bank.banked_on:
        fields["started_on"] = said("before the WCB was banked (%(date)s)", date=bank.banked_on)
    if not vial_numbers:
        fields["vials"] = N_("at least one vial of the WCB")
    elif len(set(vial_numbers)) != len(vial_numbers):
        fields["vials"] = N_("a vial is listed twice")
    if fields or bank is None:
        raise ValidationFailed(N_("The production run cannot be started."), fields)
    vials = {
        v.number: v
        for v in session.scalars(
            select(Vial).where(Vial.bank_id == bank.id, Vial.number.in_(vial_numbers))
        )
    }
    missing = [n for n in vial_numbers if n not in vials]
    if missing:
        numbers = ", ".join(map(str, missing))
        raise ValidationFailed(
            said("Bank %(bank)s has no vial %(vials)s.", bank=bank.code, vials=numbers),
            {"vials": said("not in %(bank)s: %(vials)s", bank=bank.code, vials=numbers)},
        )
    gone = [v.label for v in vials.values() if v.state != VialState.STORED]
    if gone:
        labels = ", ".join(gone)
        raise Conflict(
            said("Vial %(vials)s is no longer stored and cannot start a run.", vials=labels),
            {"vials": said("already withdrawn or destroyed: %(vials)s", vials=labels)},
        )
    if session.scalar(select(func.count()).where(ProductionRun.code == code)):
        raise Conflict(
            said("A production run with code %(code)s exists already.", code=code),
            {"code": N_("already used")},
        )
    material_uses.check_usable(session, material_lots or [], started_on)
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
    session.flush()
    material_uses.record_uses(session, actor, material_lots or [], used_on=started_on, run=run)
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
    material_lots: list[str] | None = None,
) -> Passage:
    """Record the run's next passage; its number follows the bank's passage at banking. The
    material lots it used must be approved and unexpired on its seeding date."""
    require(actor.role, "manufacturing.write")
    fields: dict[str, str] = {}
    if cells_seeded <= 0:
        fields["cells_seeded"] = N_("must be greater than zero")
    if cells_harvested <= 0:
        fields["cells_harvested"] = N_("must be greater than zero")
    if not Decimal(0) <= viability_percent <= Decimal(100):
        fields["viability_percent"] = N_("between 0 and 100")
    if harvested_on < seeded_on:
        fields["harvested_on"] = N_("before the seeding date")
    previous = run.passages[-1] if run.passages else None
    if seeded_on < (previous.harvested_on if previous else run.started_on):
        fields["seeded_on"] = (
            said("before the previous passage's harvest (%(date)s)", date=previous.harvested_on)
            if previous
            else said("before the run started (%(date)s)", date=run.started_on)
        )
    if fields:
        raise ValidationFailed(N_("The passage cannot be recorded."), fields)
    material_uses.check_usable(session, material_lots or [], seeded_on)
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
    session.flush()
    material_uses.record_uses(
        session, actor, material_lots or [], used_on=seeded_on, passage=passage
    )
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
