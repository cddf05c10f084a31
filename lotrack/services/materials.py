"""Materials, the lots received of them (with the supplier's certificate), their signed incoming
inspection and the guarded moves of their state. Which material lots a run, a passage or a result
used, and what a material lot reached, are services/material_uses.py."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.materials import (
    MaterialCategory,
)
from lotrack.domain.permissions import require
from lotrack.domain.record_signatures import SubjectKind
from lotrack.domain.states import MaterialLotState, material_lot_may_move
from lotrack.domain.text import N_, Said, said
from lotrack.models import (
    Material,
    MaterialLot,
    RecordSignature,
    User,
)
from lotrack.services import audit, clock, record_signature
from lotrack.services.common import Page, check_code, norm, page_of
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
    try:
        material = get_material(session, material_code)
    except NotFound as missing:  # named in the input, not the address: a bad field (422)
        raise ValidationFailed(missing.message, missing.fields) from None
    supplier_lot = (supplier_lot or "").strip()
    fields = _too_long({"supplier_lot": supplier_lot})
    if not supplier_lot:
        fields["supplier_lot"] = N_("required")
    if expires_on < received_on:
        fields["expires_on"] = N_("before the date of receipt")
    if received_on > clock.today(session):
        fields["received_on"] = N_("in the future")
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


def lift_hold(
    session: Session, actor: User, lot: MaterialLot, *, sign_in: SignIn, lockout: Lockout
) -> RecordSignature:
    """QA lifts a material lot's hold, signed with the reason (meaning 'hold lifted'): it may be
    used again. The product lots the hold reached stay held until QA decides on each (their
    release review), since each decision is signed on its own dossier."""
    require(actor.role, "release.decide")
    proven = record_signature.prove(
        session, actor, SubjectKind.MATERIAL_LOT, sign_in, lockout, "lift"
    )
    if not proven.reason:
        raise ValidationFailed(N_("State why the hold is lifted."), {"reason": N_("required")})
    record_signature.hold(session, lot)
    move(session, proven.signer, lot, MaterialLotState.APPROVED)
    session.refresh(lot)
    return record_signature.sign(session, proven, lot)
