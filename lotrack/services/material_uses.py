"""Which material lots a run, a passage or a result used, and what a material lot reached.

Every use goes through `record_uses`, which asks the one rule (domain/materials.py
`material_refusal`) before anything is written: the run and passage services and the result
service (page, API and CSV import alike) call `check_usable` before their record and
`record_uses` after it, in the same transaction. Uses are append-only: a mistaken one is struck
by a new record naming it (`strike_use`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, joinedload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.materials import (
    LotMade,
    MaterialLotFact,
    UseFact,
    lots_reached,
    material_refusal,
)
from lotrack.domain.permissions import require
from lotrack.domain.release import MaterialUsed
from lotrack.domain.text import N_, said
from lotrack.models import (
    Lot,
    Material,
    MaterialLot,
    MaterialUse,
    Passage,
    ProductionRun,
    Result,
    User,
)
from lotrack.services import audit
from lotrack.services.common import in_turn, norm


def _lots_by_number(session: Session, numbers: Iterable[str]) -> list[MaterialLot]:
    wanted = [norm(n) for n in numbers if (n or "").strip()]
    if len(set(wanted)) != len(wanted):
        raise ValidationFailed(
            N_("A material lot is listed twice."), {"material_lots": N_("listed twice")}
        )
    found = {
        m.number: m
        for m in session.scalars(
            select(MaterialLot)
            .where(MaterialLot.number.in_(wanted))
            .options(joinedload(MaterialLot.material))
        )
    }
    missing = [n for n in wanted if n not in found]
    if missing:
        names = ", ".join(missing)
        raise ValidationFailed(
            said("No material lot %(number)s.", number=names),
            {"material_lots": said("no material lot %(number)s", number=names)},
        )
    return [found[n] for n in wanted]


def record_uses(
    session: Session,
    actor: User,
    numbers: Iterable[str],
    *,
    used_on: dt.date,
    run: ProductionRun | None = None,
    passage: Passage | None = None,
    result: Result | None = None,
) -> list[MaterialUse]:
    """Record that the run, passage or result used these material lots on `used_on`; refused
    whole, before anything is written, if one may not be used that day."""
    lots = check_usable(session, numbers, used_on)
    uses = []
    for m in lots:
        use = MaterialUse(
            material_lot=m,
            run_id=run.id if run is not None else None,
            passage_id=passage.id if passage is not None else None,
            result_id=result.id if result is not None else None,
            used_on=used_on,
            reason="",
            recorded_by_id=actor.id,
            recorded_at=utcnow(),
        )
        audit.created(session, actor, use)
        uses.append(use)
    return uses


def fact_of(lot: MaterialLot) -> MaterialLotFact:
    return MaterialLotFact(lot.number, lot.state, lot.expires_on, lot.received_on)


def check_usable(session: Session, numbers: Iterable[str], used_on: dt.date) -> list[MaterialLot]:
    """The lots named, refused (409, field material_lots) if one may not be used on `used_on`;
    called before a run, passage or result is written, and again by `record_uses`."""
    lots = _lots_by_number(session, numbers)
    refusals = [r for m in lots if (r := material_refusal(fact_of(m), used_on))]
    if refusals:
        raise Conflict(in_turn(refusals), {"material_lots": in_turn(refusals)})
    return lots


def strike_use(session: Session, actor: User, use: MaterialUse, reason: str) -> MaterialUse:
    """A use recorded by mistake is struck by a new record naming it, with the reason."""
    require(actor.role, "manufacturing.write")
    if not (reason or "").strip():
        raise ValidationFailed(N_("State why the use is struck."), {"reason": N_("required")})
    if use.strikes_id is not None or session.scalar(
        select(func.count()).where(MaterialUse.strikes_id == use.id)
    ):
        raise Conflict(
            said("Use %(id)s is struck already, or strikes another.", id=use.id),
            {"use": N_("already struck")},
        )
    strike = MaterialUse(
        material_lot_id=use.material_lot_id,
        run_id=use.run_id,
        passage_id=use.passage_id,
        result_id=use.result_id,
        used_on=use.used_on,
        strikes_id=use.id,
        reason=reason.strip(),
        recorded_by_id=actor.id,
        recorded_at=utcnow(),
    )
    audit.created(session, actor, strike, reason=reason.strip())
    return strike


def get_use(session: Session, use_id: int) -> MaterialUse:
    found = session.get(MaterialUse, use_id)
    if found is None:
        raise NotFound(said("No material use %(id)s.", id=use_id), {"use": N_("no such record")})
    return found


def _standing() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Uses not struck, and not strikes themselves."""
    struck = select(MaterialUse.strikes_id).where(MaterialUse.strikes_id.is_not(None))
    return (MaterialUse.strikes_id.is_(None), MaterialUse.id.not_in(struck))


def uses_of_run(session: Session, run: ProductionRun) -> list[MaterialUse]:
    """Every use recorded on a run and its passages, struck ones and strikes included (1 query)."""
    passages = select(Passage.id).where(Passage.run_id == run.id)
    return list(
        session.scalars(
            select(MaterialUse)
            .where((MaterialUse.run_id == run.id) | MaterialUse.passage_id.in_(passages))
            .options(joinedload(MaterialUse.material_lot))
            .order_by(MaterialUse.id)
        )
    )


def lots_of_material(session: Session, material_lot: MaterialLot) -> list[Lot]:
    """Every product lot a material lot reached through its standing uses (3 queries)."""
    rows = session.execute(
        select(
            func.coalesce(MaterialUse.run_id, Passage.run_id),
            Passage.harvested_on,
            Result.lot_id,
            Result.passage_id,
        )
        .outerjoin(Result, MaterialUse.result_id == Result.id)
        .outerjoin(
            Passage,
            (MaterialUse.passage_id == Passage.id) | (Result.passage_id == Passage.id),
        )
        .where(MaterialUse.material_lot_id == material_lot.id, *_standing())
    ).all()
    uses = [
        UseFact(run_id=run_id, passage_harvested_on=harvested, lot_id=lot_id)
        for run_id, harvested, lot_id, _p in rows
        if run_id is not None or lot_id is not None
    ]
    runs = {u.run_id for u in uses if u.run_id is not None}
    made = session.execute(
        select(Lot.id, Lot.run_id, Lot.harvested_on).where(Lot.run_id.in_(runs or {-1}))
    ).all()
    ids = lots_reached(uses, [LotMade(*row) for row in made])
    return list(
        session.scalars(select(Lot).where(Lot.id.in_(ids or [-1])).order_by(Lot.lot_number))
    )


def materials_of_lot(session: Session, lot: Lot) -> list[MaterialUsed]:
    """The material lots used for a product lot (its run, its passages, its own or its passages'
    results), each once, with its state now (1 query)."""
    passages = select(Passage.id).where(
        Passage.run_id == lot.run_id, Passage.harvested_on <= lot.harvested_on
    )
    results = select(Result.id).where((Result.lot_id == lot.id) | Result.passage_id.in_(passages))
    rows = session.execute(
        select(MaterialLot.number, Material.name, MaterialLot.state)
        .join(MaterialUse, MaterialUse.material_lot_id == MaterialLot.id)
        .join(Material, MaterialLot.material_id == Material.id)
        .where(
            *_standing(),
            (MaterialUse.run_id == lot.run_id)
            | MaterialUse.passage_id.in_(passages)
            | MaterialUse.result_id.in_(results),
        )
        .distinct()
        .order_by(MaterialLot.number)
    ).all()
    return [MaterialUsed(number, name, str(state)) for number, name, state in rows]
