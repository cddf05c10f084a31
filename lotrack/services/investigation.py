"""OOS investigations: opened by a failing lot result, extended to sibling lots, concluded by QA."""

from __future__ import annotations

import json

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.mail import MailEvent
from lotrack.domain.permissions import require
from lotrack.domain.record_signatures import SubjectKind
from lotrack.domain.specs import Verdict
from lotrack.domain.states import Conclusion, InvestigationStatus
from lotrack.domain.text import N_, said
from lotrack.models import (
    CellBank,
    Investigation,
    Lot,
    ProductionRun,
    RecordSignature,
    Result,
    User,
)
from lotrack.services import audit, lookback, notify, record_signature
from lotrack.services.common import Page, norm, page_of
from lotrack.services.numbering import issue
from lotrack.services.result import invalidate_result
from lotrack.services.signature import Lockout, SignIn


def open_investigation(session: Session, actor: User, result: Result) -> Investigation:
    """Phase I (laboratory) investigation of a failing lot result."""
    assert result.lot is not None and result.verdict == Verdict.FAIL
    inv = Investigation(
        number=issue(session, "OOS", utcnow().year, Investigation.number, 3),
        lot=result.lot,
        result=result,
        phase="I",
        status=InvestigationStatus.OPEN,
        findings="",
        opened_by_id=actor.id,
    )
    audit.created(
        session,
        actor,
        inv,
        reason=f"{result.test_code} {result.value} out of specification",
    )
    lookback.reassess(
        session,
        actor,
        [result.lot, *sibling_lots(session, result.lot)],
        cause=f"{inv.number} opened: {result.test_code} {result.value} of lot"
        f" {result.lot.lot_number} is out of specification",
        trigger=inv,
    )
    notify.queue(session, MailEvent.OOS_OPENED, inv)
    return inv


def get_investigation(session: Session, number: str) -> Investigation:
    inv = session.scalar(
        select(Investigation)
        .where(Investigation.number == norm(number))
        .options(joinedload(Investigation.lot), joinedload(Investigation.result))
    )
    if inv is None:
        raise NotFound(
            said("No investigation %(number)s.", number=number),
            {"investigation": N_("no such investigation")},
        )
    return inv


def list_investigations(
    session: Session, page: int = 1, per_page: int = 50, status: str | None = None
) -> Page[Investigation]:
    stmt = (
        select(Investigation)
        .order_by(Investigation.opened_at.desc(), Investigation.number.desc())
        .options(joinedload(Investigation.lot), joinedload(Investigation.result))
    )
    if status:
        stmt = stmt.where(Investigation.status == status)
    return page_of(session, stmt, page, per_page)


def open_for_lot(session: Session, lot: Lot) -> list[Investigation]:
    return list(
        session.scalars(
            select(Investigation)
            .where(Investigation.lot_id == lot.id, Investigation.status == InvestigationStatus.OPEN)
            .options(joinedload(Investigation.result))
            .order_by(Investigation.number)
        )
    )


def sibling_lots(session: Session, lot: Lot) -> list[Lot]:
    """Other lots from the same run, or from any run on the same working cell bank."""
    run = lot.run
    bank: CellBank = run.bank
    return list(
        session.scalars(
            select(Lot)
            .join(ProductionRun, Lot.run_id == ProductionRun.id)
            .where(
                Lot.id != lot.id,
                or_(ProductionRun.id == run.id, ProductionRun.bank_id == bank.id),
            )
            .options(joinedload(Lot.run))
            .order_by(Lot.lot_number)
        )
    )


def escalate(session: Session, actor: User, inv: Investigation, findings: str) -> Investigation:
    """Phase I found no laboratory error: a full (phase II) investigation of the process."""
    require(actor.role, "investigation.manage")
    _require_open(inv)
    if inv.phase != "I":
        raise Conflict(
            said("%(number)s is in phase II already.", number=inv.number),
            {"phase": N_("II already")},
        )
    if not (findings or "").strip():
        raise ValidationFailed(N_("State the phase I findings."), {"findings": N_("required")})
    audit.changed(
        session,
        actor,
        inv,
        {"phase": "II", "findings": _append(inv.findings, "Phase I", findings)},
        reason="no assignable laboratory cause: phase II",
    )
    return inv


def conclude(
    session: Session,
    actor: User,
    inv: Investigation,
    *,
    conclusion: str,
    findings: str,
    assignable_cause: str = "",
    sign_in: SignIn,
    lockout: Lockout,
) -> RecordSignature:
    """Close, under QA's signature (meaning 'concluded'): confirmed OOS (the failure stands) or
    invalidated with an assignable cause."""
    require(actor.role, "investigation.manage")
    record_signature.hold(session, inv)
    _require_open(inv)
    fields: dict[str, str] = {}
    try:
        decided = Conclusion(conclusion)
    except ValueError:
        raise ValidationFailed(
            N_("The conclusion is confirmed_oos or invalidated."),
            {"conclusion": N_("confirmed_oos or invalidated")},
        ) from None
    if not (findings or "").strip():
        fields["findings"] = N_("required")
    cause = (assignable_cause or "").strip()
    if decided == Conclusion.INVALIDATED and not cause:
        fields["assignable_cause"] = N_("required to invalidate the result")
    if decided == Conclusion.CONFIRMED and cause:
        fields["assignable_cause"] = N_("a confirmed OOS has no assignable laboratory cause")
    if fields:
        raise ValidationFailed(N_("The investigation cannot be concluded."), fields)
    # The signer is the actor, proved again now: before anything below is written.
    proven = record_signature.prove(session, actor, SubjectKind.INVESTIGATION, sign_in, lockout)
    siblings = [s.lot_number for s in sibling_lots(session, inv.lot)]
    audit.changed(
        session,
        actor,
        inv,
        {
            "status": InvestigationStatus.CLOSED,
            "conclusion": decided.value,
            "assignable_cause": cause or None,
            "findings": _append(inv.findings, f"Phase {inv.phase}", findings),
            "siblings_reviewed": json.dumps(siblings),
            "closed_by_id": actor.id,
            "closed_at": utcnow(),
        },
        reason=f"concluded: {decided.value}",
    )
    signed = record_signature.sign(session, proven, inv)
    if decided == Conclusion.INVALIDATED:
        invalidate_result(
            session,
            actor,
            inv.result,
            f"{inv.number}: assignable cause: {cause}",
            by_investigation=True,
        )
    return signed


def _require_open(inv: Investigation) -> None:
    if inv.status != InvestigationStatus.OPEN:
        raise Conflict(
            said("%(number)s is closed.", number=inv.number), {"investigation": N_("closed")}
        )


def _append(existing: str, heading: str, text: str) -> str:
    entry = f"{heading}: {text.strip()}"
    return f"{existing}\n\n{entry}" if existing else entry
