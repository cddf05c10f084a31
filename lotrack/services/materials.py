"""Materials, the lots received of them (with the supplier's certificate), their signed incoming
inspection, and the record of which material lots a run, a passage or a result used.

Every use goes through `record_uses`, which asks the one rule (domain/materials.py
`material_refusal`) before anything is written: the run and passage services and the result
service (page, API and CSV import alike) call it in the same transaction as their record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, joinedload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.materials import (
    LotMade,
    MaterialCategory,
    MaterialLotFact,
    UseFact,
    lots_reached,
    material_refusal,
)
from lotrack.domain.permissions import require
from lotrack.domain.record_signatures import SubjectKind
from lotrack.domain.release import MaterialUsed
from lotrack.domain.states import MaterialLotState, material_lot_may_move
from lotrack.domain.text import N_, Said, said
from lotrack.models import (
    Lot,
    Material,
    MaterialLot,
    MaterialUse,
    Passage,
    ProductionRun,
    RecordSignature,
    Result,
    User,
)
from lotrack.services import audit, record_signature
from lotrack.services.common import Page, check_code, in_turn, norm, page_of
from lotrack.services.numbering import issue
from lotrack.services.raw_data import RawFile, store_raw
from lotrack.services.signature import Lockout, SignIn

DECISIONS = {"approved": MaterialLotState.APPROVED, "rejected": MaterialLotState.REJECTED}
TEXT_LENGTHS = {"name": 200, "supplier": 200, "catalogue_number": 60, "supplier_lot": 60}


def _too_long(values: dict[str, str]) -> dict[str, str]:
    return {
        k: said("at most %(max)s characters", max=TEXT_LENGTHS[k])
        for k, v in values.items()
        if len(v) > TEXT_LENGTHS[k]
    }


def register_material(
    session: Session,
    actor: User,
    *,
    code: str,
    name: str,
    category: str,
    supplier: str,
    catalogue_number: str,
) -> Material:
    """A material as bought from one supplier under one catalogue number."""
    require(actor.role, "materials.write")
    code = check_code(code, "code")
    values = {
        "name": (name or "").strip(),
        "supplier": (supplier or "").strip(),
        "catalogue_number": (catalogue_number or "").strip(),
    }
    fields = {k: N_("required") for k, v in values.items() if not v} | _too_long(values)
    if category not in set(MaterialCategory):
        fields["category"] = said(
            "one of %(choices)s", choices=", ".join(c.value for c in MaterialCategory)
        )
    if fields:
        raise ValidationFailed(N_("The material cannot be registered."), fields)
    if session.scalar(select(func.count()).where(Material.code == code)):
        raise Conflict(
            said("A material with code %(code)s exists already.", code=code),
            {"code": N_("already used")},
        )
    material = Material(code=code, category=MaterialCategory(category), **values)
    audit.created(session, actor, material)
    return material


def get_material(session: Session, code: str) -> Material:
    found = session.scalar(select(Material).where(Material.code == norm(code)))
    if found is None:
        raise NotFound(
            said("No material with code %(code)s.", code=code),
            {"material": said("no material with code %(code)s", code=code)},
        )
    return found


def list_materials(session: Session) -> list[Material]:
    """The whole catalogue, by code (the receiving form offers every material)."""
    return list(session.scalars(select(Material).order_by(Material.code)))


def page_of_materials(session: Session, page: int = 1, per_page: int = 50) -> Page[Material]:
    return page_of(session, select(Material).order_by(Material.code), page, per_page)


def receive_lot(
    session: Session,
    actor: User,
    *,
    material_code: str,
    supplier_lot: str,
    received_on: dt.date,
    expires_on: dt.date,
    certificate: RawFile | None,
) -> MaterialLot:
    """A lot received, in quarantine until its incoming inspection, with the supplier's
    certificate kept byte for byte (SHA-256)."""
    require(actor.role, "materials.write")
    material = get_material(session, material_code)
    supplier_lot = (supplier_lot or "").strip()
    fields = _too_long({"supplier_lot": supplier_lot})
    if not supplier_lot:
        fields["supplier_lot"] = N_("required")
    if expires_on < received_on:
        fields["expires_on"] = N_("before the date of receipt")
    if certificate is None or not certificate.data:
        fields["certificate"] = N_("the supplier's certificate of analysis is required")
    if fields or certificate is None:
        raise ValidationFailed(N_("The material lot cannot be received."), fields)
    try:
        kept = store_raw(session, actor, certificate)
    except ValidationFailed as refused:  # the file's own refusal, named by this form's field
        raise ValidationFailed(
            refused.message, {"certificate": refused.fields.get("raw_file", refused.message)}
        ) from None
    lot = MaterialLot(
        number=issue(session, "MAT", received_on.year, MaterialLot.number, 3),
        material=material,
        supplier_lot=supplier_lot,
        received_on=received_on,
        expires_on=expires_on,
        certificate=kept,
        state=MaterialLotState.QUARANTINE,
        received_by_id=actor.id,
    )
    audit.created(session, actor, lot)
    return lot


def get_lot(session: Session, number: str) -> MaterialLot:
    found = session.scalar(
        select(MaterialLot)
        .where(MaterialLot.number == norm(number))
        .options(joinedload(MaterialLot.material), joinedload(MaterialLot.certificate))
    )
    if found is None:
        raise NotFound(
            said("No material lot %(number)s.", number=number),
            {"material_lot": said("no material lot %(number)s", number=number)},
        )
    return found


def list_lots(session: Session, page: int = 1, per_page: int = 50) -> Page[MaterialLot]:
    """Material lots, newest first, each with its material (joined: a fixed number of queries)."""
    stmt = (
        select(MaterialLot)
        .options(joinedload(MaterialLot.material), joinedload(MaterialLot.certificate))
        .order_by(MaterialLot.created_at.desc(), MaterialLot.id.desc())
    )
    return page_of(session, stmt, page, per_page)


def move(session: Session, actor: User, lot: MaterialLot, target: MaterialLotState) -> None:
    """The guarded update of a material lot's state: of two people deciding at once, one wins."""
    current = MaterialLotState(lot.state)
    if not material_lot_may_move(current, target):
        raise Conflict(
            said(
                "Material lot %(lot)s is %(state)s; it cannot become %(target)s.",
                lot=lot.number,
                state=Said(str(current)),
                target=Said(str(target)),
            ),
            {"state": Said(str(current))},
        )
    done = session.execute(
        update(MaterialLot)
        .where(MaterialLot.id == lot.id, MaterialLot.state == current.value)
        .values(state=target.value)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(
            said(
                "Someone else decided on material lot %(lot)s at the same moment.", lot=lot.number
            ),
            {"state": N_("changed by someone else")},
        )
    session.expire(lot, ["state"])
    audit.event(session, actor, "state", lot, transitions={"state": (current.value, target.value)})


def inspect_lot(
    session: Session,
    actor: User,
    lot: MaterialLot,
    *,
    decision: str,
    sign_in: SignIn,
    lockout: Lockout,
) -> RecordSignature:
    """QA's incoming-inspection decision, signed: approved for use, or rejected."""
    require(actor.role, "materials.inspect")
    if decision not in DECISIONS:
        raise ValidationFailed(
            N_("Approve the lot for use or reject it."), {"decision": N_("approved or rejected")}
        )
    proven = record_signature.prove(
        session, actor, SubjectKind.MATERIAL_LOT, sign_in, lockout, decision
    )
    record_signature.hold(session, lot)
    move(session, proven.signer, lot, DECISIONS[decision])
    session.refresh(lot)
    return record_signature.sign(session, proven, lot)


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
