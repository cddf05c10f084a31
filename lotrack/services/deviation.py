"""Deviations on a run or a lot: opened with a description, assessed for impact, closed by QA."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.record_signatures import SubjectKind
from lotrack.domain.states import DeviationStatus
from lotrack.domain.text import N_, said
from lotrack.models import Deviation, Lot, ProductionRun, RecordSignature, User
from lotrack.services import audit, lookback, record_signature
from lotrack.services.common import Page, norm, page_of
from lotrack.services.numbering import issue
from lotrack.services.signature import Lockout, SignIn


def open_deviation(
    session: Session,
    actor: User,
    *,
    description: str,
    lot: Lot | None = None,
    run: ProductionRun | None = None,
) -> Deviation:
    require(actor.role, "deviation.write")
    if (lot is None) == (run is None):
        raise ValidationFailed(
            N_("A deviation concerns one run or one lot."), {"subject": N_("a run or a lot")}
        )
    if not (description or "").strip():
        raise ValidationFailed(N_("Describe the deviation."), {"description": N_("required")})
    deviation = Deviation(
        number=issue(session, "DEV", utcnow().year, Deviation.number, 3),
        lot=lot,
        run=run,
        description=description.strip(),
        impact_assessment="",
        status=DeviationStatus.OPEN,
        opened_by_id=actor.id,
    )
    audit.created(session, actor, deviation)
    reached = [lot] if lot is not None else lookback.lots_of_runs(session, [run.id])  # type: ignore[union-attr]
    lookback.reassess(
        session, actor, reached, cause=f"Deviation {deviation.number} opened", trigger=deviation
    )
    return deviation


def get_deviation(session: Session, number: str) -> Deviation:
    found = session.scalar(
        select(Deviation)
        .where(Deviation.number == norm(number))
        .options(joinedload(Deviation.lot), joinedload(Deviation.run))
    )
    if found is None:
        raise NotFound(
            said("No deviation %(number)s.", number=number), {"deviation": N_("no such deviation")}
        )
    return found


def list_deviations(
    session: Session, page: int = 1, per_page: int = 50, status: str | None = None
) -> Page[Deviation]:
    stmt = (
        select(Deviation)
        .order_by(Deviation.opened_at.desc(), Deviation.number.desc())
        .options(joinedload(Deviation.lot), joinedload(Deviation.run))
    )
    if status:
        stmt = stmt.where(Deviation.status == status)
    return page_of(session, stmt, page, per_page)


def open_for_lot(session: Session, lot: Lot) -> list[Deviation]:
    """Open deviations on the lot itself or on the run it came from."""
    return list(
        session.scalars(
            select(Deviation)
            .where(
                Deviation.status == DeviationStatus.OPEN,
                or_(Deviation.lot_id == lot.id, Deviation.run_id == lot.run_id),
            )
            .order_by(Deviation.number)
        )
    )


def assess(session: Session, actor: User, deviation: Deviation, impact: str) -> Deviation:
    require(actor.role, "deviation.write")
    _require_open(deviation)
    if not (impact or "").strip():
        raise ValidationFailed(
            N_("State the impact assessment."), {"impact_assessment": N_("required")}
        )
    audit.changed(
        session,
        actor,
        deviation,
        {"impact_assessment": impact.strip()},
        reason="impact assessed",
    )
    return deviation


def close(
    session: Session,
    actor: User,
    deviation: Deviation,
    closure: str,
    *,
    sign_in: SignIn,
    lockout: Lockout,
) -> RecordSignature:
    """QA closes an assessed deviation under their signature (meaning 'closed')."""
    require(actor.role, "deviation.close")
    record_signature.hold(session, deviation)
    _require_open(deviation)
    fields = {}
    if not deviation.impact_assessment:
        fields["impact_assessment"] = N_("assess the impact before closing")
    if not (closure or "").strip():
        fields["closure"] = N_("required")
    if fields:
        raise ValidationFailed(
            said("%(number)s cannot be closed yet.", number=deviation.number), fields
        )
    proven = record_signature.prove(session, actor, SubjectKind.DEVIATION, sign_in, lockout)
    audit.changed(
        session,
        proven.signer,
        deviation,
        {
            "status": DeviationStatus.CLOSED,
            "closure": closure.strip(),
            "closed_by_id": proven.signer.id,
            "closed_at": utcnow(),
        },
        reason="closed",
    )
    return record_signature.sign(session, proven, deviation)


def _require_open(deviation: Deviation) -> None:
    if deviation.status != DeviationStatus.OPEN:
        raise Conflict(
            said("%(number)s is closed.", number=deviation.number), {"deviation": N_("closed")}
        )
