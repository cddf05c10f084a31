"""QA lot decisions under signature: the release review, release, rejection, lifting a hold, and
review signatures. State changes are guarded updates, so of two people deciding at once exactly one
succeeds and the other is told what happened."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lotrack.domain.decisions import (
    Action,
    Meaning,
    check_signer,
    segregation_problem,
    target_of,
)
from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.domain.evaluation import Blocker
from lotrack.domain.permissions import require
from lotrack.domain.release import uncovered
from lotrack.domain.states import LotState
from lotrack.domain.text import N_, Said, said
from lotrack.models import Deviation, Lot, Result, Signature, User
from lotrack.services import audit, deviation, signature
from lotrack.services.common import sentences
from lotrack.services.evaluation import SubjectEvaluation, evaluate_lot
from lotrack.services.lookback import accepted_by
from lotrack.services.signature import Lockout, ShownSignature, SignIn, authenticate_sign_in

DECISIONS = frozenset({Action.RELEASE, Action.REJECT, Action.UNHOLD})


@dataclass(frozen=True)
class ReleaseReview:
    lot: Lot
    evaluation: SubjectEvaluation
    deviations: list[Deviation]
    signatures: list[ShownSignature]

    @property
    def blockers(self) -> list[Blocker]:
        """The one release rule's answer (domain/release.py), as the lot page and API show it."""
        return list(self.evaluation.evaluation.blockers)

    @property
    def releasable(self) -> bool:
        return not self.blockers


def review(session: Session, lot: Lot) -> ReleaseReview:
    """Everything QA needs to decide, with every blocker to release named."""
    ev = evaluate_lot(session, lot)
    devs = deviation.open_for_lot(session, lot)
    return ReleaseReview(lot, ev, devs, signature.signatures_of(session, lot))


def blockers_to(
    session: Session, lot: Lot, target: LotState, blockers: Sequence[Blocker] | None = None
) -> list[Blocker]:
    """What keeps the lot from `target` by the rule of that state: a released lot must be
    releasable; an exceptional release must have accepted every blocker the lot has now
    (`blockers`: the lot's evaluation, when the caller has it already)."""
    if blockers is None:
        blockers = evaluate_lot(session, lot).evaluation.blockers
    if target == LotState.EXCEPTIONAL_RELEASE:
        return list(uncovered(blockers, accepted_by(session, lot)))
    return list(blockers) if target == LotState.RELEASED else []


def segregation(session: Session, signer: User, lot: Lot) -> str:
    analysts, verifiers = set(), set()
    for analyst, verifier in session.execute(
        select(Result.analyst_id, Result.verified_by_id).where(Result.lot_id == lot.id)
    ):
        analysts.add(analyst)
        if verifier is not None:
            verifiers.add(verifier)
    return segregation_problem(signer.id, analysts, verifiers)


def move(
    session: Session, signer: User, lot: Lot, current: LotState, target: LotState, action: Action
) -> None:
    """The guarded update: it changes the state only if nobody else changed it first."""
    held_from = current.value if target == LotState.ON_HOLD else None
    done = session.execute(
        update(Lot)
        .where(Lot.id == lot.id, Lot.state == current.value)
        .values(state=target.value, held_from=held_from)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.expire(lot)
        now = session.scalar(select(Lot.state).where(Lot.id == lot.id))
        raise Conflict(
            said(
                "Someone else decided on lot %(lot)s at the same moment; it is now %(state)s."
                " Nothing was signed.",
                lot=lot.lot_number,
                state=Said(str(now)),  # a coded word, translated
            ),
            {"state": N_("changed by someone else")},
        )
    session.expire(lot, ["state", "held_from"])
    audit.event(
        session,
        signer,
        action.value,
        lot,
        transitions={"state": (current.value, target.value)},
    )


def decide(
    session: Session,
    actor: User,
    lot: Lot,
    action: Action,
    sign_in: SignIn,
    lockout: Lockout,
) -> Signature:
    """Release, reject or lift a hold, under the signer's electronic signature."""
    require(actor.role, "release.decide")
    if action not in DECISIONS:
        # An exceptional release needs two signatures, a hold or recall its record: their own
        # services, never a single signature here.
        raise ValidationFailed(
            said("A %(action)s is not decided here.", action=Said(str(action))),
            {"action": "release, reject or unhold"},  # the values to send
        )
    signer = authenticate_sign_in(session, actor, sign_in, lockout)
    meaning = check_signer(action, signer.role, sign_in.meaning)
    current = LotState(lot.state)
    target = target_of(action, current, LotState(lot.held_from) if lot.held_from else None)
    if action in (Action.REJECT, Action.UNHOLD) and not sign_in.reason.strip():
        raise Conflict(N_("State the reason for this decision."), {"reason": N_("required")})
    if target in (LotState.RELEASED, LotState.EXCEPTIONAL_RELEASE):
        # Lifting a hold is a new decision on the dossier as it stands, by the rule of the state
        # it restores: a released lot must be releasable, an exceptional release must accept
        # every blocker it has now.
        problem = segregation(session, signer, lot)
        if problem:
            raise Conflict(problem, {"username": N_("tested or verified this lot")})
        blockers = blockers_to(session, lot, target)
        if blockers:
            why = sentences(b.message for b in blockers)
            raise Conflict(
                said(
                    "Lot %(lot)s cannot be released: %(blockers)s", lot=lot.lot_number, blockers=why
                )
                if action == Action.RELEASE
                else said(
                    "Lot %(lot)s cannot be taken off hold: %(blockers)s",
                    lot=lot.lot_number,
                    blockers=why,
                ),
                {f"blocker {i + 1}": b.message for i, b in enumerate(blockers)},
            )
    signed = signature.sign(session, signer, lot, action, meaning, reason=sign_in.reason)
    move(session, signer, lot, current, target, action)
    return signed


def sign_review(
    session: Session, actor: User, lot: Lot, sign_in: SignIn, lockout: Lockout
) -> Signature:
    """A 'reviewed' signature on the dossier as it stands, without a change of state."""
    require(actor.role, "release.decide")
    signer = authenticate_sign_in(session, actor, sign_in, lockout)
    if sign_in.meaning != Meaning.REVIEWED:
        raise Conflict(
            said(
                "The meaning of a review signature is '%(meaning)s'.",
                meaning=Meaning.REVIEWED.value,  # the value to send: not translated
            ),
            {"meaning": Meaning.REVIEWED.value},
        )
    return signature.sign(
        session, signer, lot, Action.REVIEW, Meaning.REVIEWED, reason=sign_in.reason
    )
