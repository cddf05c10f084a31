"""Lookback: a fact that arises after a lot left QA's hands, and would have blocked its release,
puts the lot ON_HOLD in the same transaction. The hold names the fact's record and the reasons;
the lot waits in QA's "needs decision" queue until QA signs a new decision on the dossier as it
then stands (lift the hold, reject or recall).

Every service that writes such a fact calls `reassess` with the lots the fact reaches: a donor's
determination (every lot downstream), a bank's qualification (every lot from it), a result
invalidated, corrected or verified, a result out of specification (its investigation reaches the
lot's siblings), a deviation, a passage. The rule itself is domain/release.py's `lookback`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lotrack.db import Base, utcnow
from lotrack.domain.decisions import DISTRIBUTED, Action
from lotrack.domain.mail import MailEvent
from lotrack.domain.release import lookback
from lotrack.domain.states import ContainmentKind, ExceptionalStatus, LotState
from lotrack.models import (
    CellBank,
    Clone,
    Containment,
    ContainmentLot,
    Donor,
    ExceptionalRelease,
    Lot,
    ProductionRun,
    Signature,
    User,
)
from lotrack.services import audit, notify
from lotrack.services.dossier import dossier_hash
from lotrack.services.numbering import issue

# The signatures whose decision a RELEASED lot stands on: the release, or the lifting of a hold.
RELEASE_DECISIONS = (Action.RELEASE, Action.UNHOLD)


def accepted_by(session: Session, lot: Lot) -> list[tuple[str, str]]:
    """The (kind, subject) of each blocker the lot's approved exceptional release accepted."""
    keys = session.scalar(
        select(ExceptionalRelease.blocker_keys)
        .where(
            ExceptionalRelease.lot_id == lot.id,
            ExceptionalRelease.status == ExceptionalStatus.APPROVED,
        )
        .order_by(ExceptionalRelease.id.desc())
        .limit(1)
    )
    return [(kind, subject) for kind, subject in json.loads(keys or "[]")]


def release_signature_void(session: Session, lot: Lot) -> bool:
    """Whether the decision a RELEASED lot stands on no longer matches its dossier."""
    signed = session.scalar(
        select(Signature.dossier_sha256)
        .where(Signature.lot_id == lot.id, Signature.action.in_(RELEASE_DECISIONS))
        .order_by(Signature.id.desc())
        .limit(1)
    )
    return signed is None or signed != dossier_hash(session, lot)


def reasons_to_hold(session: Session, lot: Lot) -> tuple[str, ...]:
    """Why the lot's release no longer stands (empty: it stands, or the lot is not out)."""
    # Imported here: the services that write facts import this module, and evaluation (like
    # release, below) imports some of them.
    from lotrack.services.evaluation import evaluate_lot

    if lot.state not in DISTRIBUTED:
        return ()
    blockers = evaluate_lot(session, lot).evaluation.blockers
    released = lot.state == LotState.RELEASED
    return lookback(
        lot.state,
        blockers,
        accepted=() if released else accepted_by(session, lot),
        release_signature_void=released and release_signature_void(session, lot),
    )


def reassess(
    session: Session, actor: User, lots: Iterable[Lot], *, cause: str, trigger: Base
) -> list[Containment]:
    """Hold every released lot among `lots` whose release the new fact (`trigger`) undoes."""
    holds = []
    seen: set[int] = set()
    session.flush()
    for lot in lots:
        if lot.id in seen or lot.state not in DISTRIBUTED:
            continue
        seen.add(lot.id)
        reasons = reasons_to_hold(session, lot)
        if reasons:
            holds.append(_hold(session, actor, lot, cause, trigger, reasons))
    return holds


def _hold(
    session: Session,
    actor: User,
    lot: Lot,
    cause: str,
    trigger: Base,
    reasons: tuple[str, ...],
) -> Containment:
    from lotrack.services.release import move

    entity, ident = audit.entity_key(trigger)
    record = Containment(
        number=issue(session, "LBK", utcnow().year, Containment.number, 3),
        kind=ContainmentKind.LOOKBACK,
        lot=lot,
        reason=f"{cause}. " + " ".join(reasons),
        trigger_entity=entity,
        trigger_id=ident,
        created_by_id=actor.id,
    )
    audit.created(session, actor, record)
    session.flush()
    current = LotState(lot.state)
    move(session, actor, lot, current, LotState.ON_HOLD, Action.HOLD)
    link = ContainmentLot(
        containment_id=record.id, lot_id=lot.id, from_state=current, to_state=LotState.ON_HOLD
    )
    audit.created(session, actor, link)
    notify.queue(session, MailEvent.HOLD, record)
    return record


def lots_of_runs(session: Session, run_ids: Iterable[int]) -> list[Lot]:
    return list(session.scalars(select(Lot).where(Lot.run_id.in_(list(run_ids))).order_by(Lot.id)))


def lots_of_bank(session: Session, bank: CellBank) -> list[Lot]:
    """Every lot made from a WCB, or from any WCB of an MCB."""
    wcbs = select(CellBank.id).where(
        or_(CellBank.id == bank.id, CellBank.parent_bank_id == bank.id)
    )
    return list(
        session.scalars(
            select(Lot)
            .join(ProductionRun, Lot.run_id == ProductionRun.id)
            .where(ProductionRun.bank_id.in_(wcbs))
            .order_by(Lot.lot_number)
        )
    )


def lots_of_donor(session: Session, donor: Donor) -> list[Lot]:
    """Every lot downstream of a donor: its clones' MCBs, their WCBs, their runs' lots."""
    mcbs = (
        select(CellBank.id)
        .join(Clone, CellBank.clone_id == Clone.id)
        .where(Clone.donor_id == donor.id)
    )
    wcbs = select(CellBank.id).where(or_(CellBank.id.in_(mcbs), CellBank.parent_bank_id.in_(mcbs)))
    return list(
        session.scalars(
            select(Lot)
            .join(ProductionRun, Lot.run_id == ProductionRun.id)
            .where(ProductionRun.bank_id.in_(wcbs))
            .order_by(Lot.id)
        )
    )
