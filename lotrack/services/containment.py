"""Holds and recalls of one lot, of every lot from a cell bank, or of every lot a material lot
reached (services/materials.py), each lot moved by a guarded update under the signer's signature.
A unit's usability follows its lot's state, so every unit of those
lots is blocked at once, wherever it is."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.db import utcnow
from lotrack.domain.decisions import DISTRIBUTED, Action, check_signer
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import ContainmentKind, LotState, MaterialLotState
from lotrack.domain.text import N_, said
from lotrack.models import CellBank, Containment, ContainmentLot, Lot, MaterialLot, Unit, User
from lotrack.services import audit, lookback, material_uses, materials, notify, signature
from lotrack.services.common import Page, norm, page_of
from lotrack.services.numbering import issue
from lotrack.services.release import move
from lotrack.services.shipment import Whereabouts, whereabouts
from lotrack.services.signature import Lockout, SignIn, authenticate_sign_in

KINDS = (ContainmentKind.HOLD, ContainmentKind.RECALL)


def _plan(kind: str, lot: Lot) -> tuple[Action, LotState] | None:
    """What a hold or a recall does to one lot: (the action signed, the target), or nothing."""
    state = LotState(lot.state)
    held_from = LotState(lot.held_from) if lot.held_from else None
    if kind == ContainmentKind.RECALL:
        if state in DISTRIBUTED or (state == LotState.ON_HOLD and held_from in DISTRIBUTED):
            return Action.RECALL, LotState.RECALLED
        if state == LotState.QUARANTINE:
            return Action.HOLD, LotState.ON_HOLD  # never distributed: kept from release
        return None
    if state in (LotState.QUARANTINE, *DISTRIBUTED):
        return Action.HOLD, LotState.ON_HOLD
    return None


def contain(
    session: Session,
    actor: User,
    *,
    kind: str,
    sign_in: SignIn,
    lockout: Lockout,
    lot: Lot | None = None,
    bank: CellBank | None = None,
    material_lot: MaterialLot | None = None,
) -> Containment:
    """Hold or recall one lot, every lot from a bank, or a material lot and every product lot it
    reached; each product lot reached is signed for."""
    require(actor.role, "release.decide")
    signer = authenticate_sign_in(session, actor, sign_in, lockout)
    if kind not in KINDS:
        raise ValidationFailed(N_("A hold or a recall."), {"kind": N_("hold or recall")})
    recall = kind == ContainmentKind.RECALL
    main_action = Action.RECALL if recall else Action.HOLD
    meaning = check_signer(main_action, signer.role, sign_in.meaning)
    if not sign_in.reason.strip():
        raise ValidationFailed(
            N_("State the reason for the recall.")
            if recall
            else N_("State the reason for the hold."),
            {"reason": N_("required")},
        )
    if sum(x is not None for x in (lot, bank, material_lot)) != 1:
        raise ValidationFailed(
            N_("A recall concerns one lot, one bank or one material lot.")
            if recall
            else N_("A hold concerns one lot, one bank or one material lot."),
            {"scope": N_("lot, bank or material lot")},
        )
    if lot is not None:
        lots = [lot]
    elif bank is not None:
        lots = lookback.lots_of_bank(session, bank)
    else:
        lots = material_uses.lots_of_material(session, material_lot)  # type: ignore[arg-type]
    plans = [(one, _plan(kind, one)) for one in lots]
    todo = [(one, p) for one, p in plans if p is not None]
    # A material lot is itself contained, even when no product lot it reached can still move.
    if not todo and material_lot is None:
        states = ", ".join(f"{one.lot_number} {one.state}" for one in lots) or said("no lots")
        raise Conflict(
            said("Nothing to recall: %(states)s.", states=states)
            if recall
            else said("Nothing to hold: %(states)s.", states=states),
            {"scope": N_("nothing to recall") if recall else N_("nothing to hold")},
        )
    record = Containment(
        number=issue(
            session,
            "RCL" if kind == ContainmentKind.RECALL else "HLD",
            utcnow().year,
            Containment.number,
            3,
        ),
        kind=kind,
        lot=lot,
        bank=bank,
        material_lot=material_lot,
        reason=sign_in.reason.strip(),
        created_by_id=signer.id,
    )
    audit.created(session, signer, record)
    session.flush()
    if material_lot is not None:
        target = MaterialLotState.RECALLED if recall else MaterialLotState.ON_HOLD
        materials.move(session, signer, material_lot, target)
    for one, (action, target) in todo:
        current = LotState(one.state)
        the_meaning = (
            meaning
            if action == main_action
            else check_signer(action, signer.role, "placed on hold")
        )
        signature.sign(
            session,
            signer,
            one,
            action,
            the_meaning,
            reason=sign_in.reason,
            containment_id=record.id,
        )
        move(session, signer, one, current, target, action)
        link = ContainmentLot(
            containment_id=record.id, lot_id=one.id, from_state=current, to_state=target
        )
        audit.created(session, signer, link)
    notify.queue(session, notify.containment_event(record), record)
    return record


def get_containment(session: Session, number: str) -> Containment:
    found = session.scalar(
        select(Containment)
        .where(Containment.number == norm(number))
        .options(selectinload(Containment.lots).selectinload(ContainmentLot.lot))
    )
    if found is None:
        raise NotFound(
            said("No hold or recall %(number)s.", number=number), {"number": N_("no such record")}
        )
    return found


@dataclass(frozen=True)
class AffectedUnit:
    unit: Unit
    lot_number: str
    lot_state: str
    where: Whereabouts  # its state and place; its storage position only while stored


def affected_units(session: Session, record: Containment) -> list[AffectedUnit]:
    """Every unit of the lots a hold or recall reached, with where it is now (2 queries)."""
    rows = session.execute(
        select(Unit, Lot.lot_number, Lot.state)
        .join(Lot, Unit.lot_id == Lot.id)
        .join(ContainmentLot, ContainmentLot.lot_id == Lot.id)
        .where(ContainmentLot.containment_id == record.id)
        .order_by(Lot.lot_number, Unit.din)
    ).all()
    places = whereabouts(session, [u for u, _n, _s in rows])
    return [AffectedUnit(u, n, s, places[u.id]) for u, n, s in rows]


def containments_of(session: Session, lot: Lot) -> list[Containment]:
    return list(
        session.scalars(
            select(Containment)
            .outerjoin(ContainmentLot, ContainmentLot.containment_id == Containment.id)
            .where(or_(Containment.lot_id == lot.id, ContainmentLot.lot_id == lot.id))
            .distinct()
            .order_by(Containment.id)
        )
    )


def list_containments(session: Session, page: int = 1, per_page: int = 50) -> Page[Containment]:
    """Holds and recalls, newest first, with their lots (a fixed number of queries)."""
    stmt = (
        select(Containment)
        .order_by(Containment.created_at.desc(), Containment.id.desc())
        .options(
            joinedload(Containment.bank),
            joinedload(Containment.lot),
            joinedload(Containment.material_lot),
            joinedload(Containment.created_by),
            selectinload(Containment.lots).selectinload(ContainmentLot.lot),
        )
    )
    return page_of(session, stmt, page, per_page)
