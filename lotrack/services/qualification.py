"""QA's decision on a cell bank's qualification, under the signer's electronic signature."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.record_signatures import SubjectKind
from lotrack.domain.states import Qualification
from lotrack.domain.text import N_, Said, said
from lotrack.models import CellBank, RecordSignature, User
from lotrack.services import audit, lookback, record_signature
from lotrack.services.common import in_turn
from lotrack.services.evaluation import evaluate_bank
from lotrack.services.signature import Lockout, SignIn


def qualify_bank(
    session: Session,
    actor: User,
    bank: CellBank,
    *,
    decision: str,
    reason: str,
    sign_in: SignIn,
    lockout: Lockout,
) -> RecordSignature:
    """Qualified only when the bank's evaluation has no blocker; either way the decision is signed
    (meaning 'qualified' or 'not qualified') by the QA reviewer who takes it, its reason the
    signature's."""
    require(actor.role, "bank.qualify")
    record_signature.hold(session, bank)
    if decision not in (Qualification.QUALIFIED, Qualification.NOT_QUALIFIED):
        raise ValidationFailed(
            N_("The decision is qualified or not_qualified."),
            {"decision": N_("qualified or not_qualified")},
        )
    if bank.qualification == decision:
        raise Conflict(
            said("%(bank)s is %(state)s already.", bank=bank.code, state=Said(str(decision))),
            {"decision": said("%(state)s already", state=Said(str(decision)))},
        )
    if not (reason or "").strip():
        raise ValidationFailed(
            N_("State the reason for this decision."), {"reason": N_("required")}
        )
    proven = record_signature.prove(
        session,
        actor,
        SubjectKind.CELL_BANK,
        SignIn(sign_in.username, sign_in.password, sign_in.meaning, reason),
        lockout,
        decision,
    )
    if decision == Qualification.QUALIFIED:
        ev = evaluate_bank(session, bank)
        if not ev.releasable:
            raise Conflict(
                said(
                    "%(bank)s cannot be qualified: %(blockers)s",
                    bank=bank.code,
                    blockers=in_turn(b.message for b in ev.evaluation.blockers),
                ),
                {f"blocker {i + 1}": b.message for i, b in enumerate(ev.evaluation.blockers)},
            )
    audit.changed(session, proven.signer, bank, {"qualification": decision}, reason=reason)
    signed = record_signature.sign(session, proven, bank)
    lookback.reassess(
        session,
        proven.signer,
        lookback.lots_of_bank(session, bank),
        cause=f"{bank.tier} {bank.code} {decision.replace('_', ' ')}: {reason.strip()}",
        trigger=bank,
    )
    return signed
