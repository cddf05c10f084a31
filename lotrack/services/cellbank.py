"""Cell banks (MCB from a clone, WCB from an MCB), their vials, and vial withdrawals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import BankTier, VialState
from lotrack.domain.text import N_, Said, said
from lotrack.models import CellBank, Clone, ProductionRun, User, Vial, VialWithdrawal
from lotrack.services import audit, specs
from lotrack.services.common import Page, check_code, norm, page_of


def get_bank(session: Session, code: str) -> CellBank:
    bank = session.scalar(
        select(CellBank)
        .where(CellBank.code == norm(code))
        .options(
            selectinload(CellBank.vials)
            .selectinload(Vial.withdrawal)
            .joinedload(VialWithdrawal.withdrawn_by)
        )
    )
    if bank is None:
        raise NotFound(
            said("No cell bank with code %(code)s.", code=code),
            {"bank": said("no cell bank with code %(code)s", code=code)},
        )
    return bank


def list_banks(session: Session, page: int = 1, per_page: int = 50) -> Page[CellBank]:
    """A page of banks by code, each with its parent (MCB or clone) and specification joined."""
    stmt = (
        select(CellBank)
        .options(
            joinedload(CellBank.parent),
            joinedload(CellBank.clone),
            joinedload(CellBank.spec_version),
        )
        .order_by(CellBank.code)
    )
    return page_of(session, stmt, page, per_page)


def register_bank(
    session: Session,
    actor: User,
    *,
    code: str,
    tier: str,
    parent_code: str,
    passage_at_banking: int,
    pdl_at_banking: Decimal,
    banked_on: dt.date,
) -> CellBank:
    """An MCB's parent is a clone; a WCB's parent is an MCB, banked later and further on."""
    require(actor.role, "manufacturing.write")
    code = check_code(code, "code")
    fields: dict[str, str] = {}
    if tier not in (BankTier.MCB, BankTier.WCB):
        raise ValidationFailed(N_("The tier must be MCB or WCB."), {"tier": N_("MCB or WCB")})
    if session.scalar(select(func.count()).where(CellBank.code == code)):
        raise Conflict(
            said("A cell bank with code %(code)s exists already.", code=code),
            {"code": N_("already used")},
        )
    version = specs.require_effective(session, "cfMSC", tier)
    if passage_at_banking < 0:
        fields["passage_at_banking"] = N_("cannot be negative")
    if pdl_at_banking < 0:
        fields["pdl_at_banking"] = N_("cannot be negative")
    bank = CellBank(
        code=code,
        tier=tier,
        passage_at_banking=passage_at_banking,
        pdl_at_banking=pdl_at_banking,
        banked_on=banked_on,
        spec_version=version,
    )
    clone = parent = None
    if tier == BankTier.MCB:
        clone = session.scalar(select(Clone).where(Clone.code == norm(parent_code)))
        if clone is None:
            fields["parent"] = said("no clone with code %(code)s", code=parent_code)
        elif banked_on < clone.derived_on:
            fields["banked_on"] = said(
                "before the clone was derived (%(date)s)", date=clone.derived_on
            )
    else:
        parent = session.scalar(select(CellBank).where(CellBank.code == norm(parent_code)))
        if parent is None:
            fields["parent"] = said("no cell bank with code %(code)s", code=parent_code)
        elif parent.tier != BankTier.MCB:
            fields["parent"] = said(
                "%(code)s is a %(tier)s; a WCB's parent is an MCB",
                code=parent_code,
                tier=parent.tier,
            )
        else:
            if passage_at_banking <= parent.passage_at_banking:
                fields["passage_at_banking"] = said(
                    "must be above the MCB's passage (%(passage)s)",
                    passage=parent.passage_at_banking,
                )
            if pdl_at_banking < parent.pdl_at_banking:
                fields["pdl_at_banking"] = said(
                    "below the MCB's level (%(pdl)s)", pdl=parent.pdl_at_banking
                )
            if banked_on < parent.banked_on:
                fields["banked_on"] = said(
                    "before the MCB was banked (%(date)s)", date=parent.banked_on
                )
    if fields:
        raise ValidationFailed(N_("The cell bank cannot be registered."), fields)
    bank.clone, bank.parent = clone, parent
    audit.created(session, actor, bank)
    return bank


def add_vials(
    session: Session,
    actor: User,
    bank: CellBank,
    *,
    freezer: str,
    rack: str,
    box: str,
    positions: list[str],
) -> list[Vial]:
    """Store new vials of a bank; each position must be free, since one vial fills one position."""
    require(actor.role, "manufacturing.write")
    positions = [p.strip().upper() for p in positions if p.strip()]
    fields: dict[str, str] = {}
    for name, value in (("freezer", freezer), ("rack", rack), ("box", box)):
        if not (value or "").strip():
            fields[name] = N_("required")
    if not positions:
        fields["positions"] = N_("at least one position, e.g. A1, A2")
    elif len(set(positions)) != len(positions):
        fields["positions"] = N_("a position is listed twice")
    if fields:
        raise ValidationFailed(N_("The vials cannot be stored."), fields)
    freezer, rack, box = freezer.strip(), rack.strip(), box.strip()
    taken = session.scalars(
        select(Vial.position).where(
            Vial.freezer == freezer,
            Vial.rack == rack,
            Vial.box == box,
            Vial.position.in_(positions),
            Vial.state == VialState.STORED,
        )
    ).all()
    if taken:
        raise Conflict(
            said(
                "Position %(positions)s in %(freezer)s / rack %(rack)s / box %(box)s already"
                " holds a vial.",
                positions=", ".join(sorted(taken)),
                freezer=freezer,
                rack=rack,
                box=box,
            ),
            {"positions": said("occupied: %(positions)s", positions=", ".join(sorted(taken)))},
        )
    last = session.scalar(select(func.max(Vial.number)).where(Vial.bank_id == bank.id)) or 0
    vials = []
    for i, position in enumerate(positions, start=1):
        vial = Vial(
            bank=bank, number=last + i, freezer=freezer, rack=rack, box=box, position=position
        )
        audit.created(session, actor, vial)
        vials.append(vial)
    return vials


def get_vial(session: Session, bank_code: str, number: int) -> Vial:
    vial = session.scalar(
        select(Vial).join(CellBank).where(CellBank.code == norm(bank_code), Vial.number == number)
    )
    if vial is None:
        raise NotFound(
            said("No vial %(number)s in bank %(bank)s.", number=number, bank=bank_code),
            {"vial": said("no vial %(number)s in %(bank)s", number=number, bank=bank_code)},
        )
    return vial


def withdraw_vial(
    session: Session, actor: User, vial: Vial, *, purpose: str, run: ProductionRun | None = None
) -> VialWithdrawal:
    """Take a vial out of storage. A guarded update: a vial is withdrawn once, even under a race."""
    require(actor.role, "manufacturing.write")
    if not (purpose or "").strip():
        raise ValidationFailed(N_("Say why the vial is withdrawn."), {"purpose": N_("required")})
    moved = session.execute(
        update(Vial)
        .where(Vial.id == vial.id, Vial.state == VialState.STORED)
        .values(state=VialState.WITHDRAWN)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        session.refresh(vial)
        raise Conflict(
            said(
                "Vial %(vial)s is %(state)s, not stored: it cannot be withdrawn.",
                vial=vial.label,
                state=Said(str(vial.state)),  # a coded word, translated
            ),
            {
                "vial": said(
                    "%(vial)s is already %(state)s", vial=vial.label, state=Said(str(vial.state))
                )
            },
        )
    session.refresh(vial)
    audit.event(
        session,
        actor,
        "withdraw",
        vial,
        reason=purpose.strip(),
        transitions={"state": (VialState.STORED, VialState.WITHDRAWN)},
    )
    withdrawal = VialWithdrawal(
        vial=vial, withdrawn_by_id=actor.id, purpose=purpose.strip(), run=run
    )
    audit.created(session, actor, withdrawal)
    return withdrawal
