"""The lot decisions QA signs: which state each starts from and leads to, who may sign it, with
which meaning, and the release rules (segregation of duties, blockers, exceptional release)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lotrack.domain.errors import Conflict, Forbidden
from lotrack.domain.permissions import Role
from lotrack.domain.states import LotState, lot_may_move


class Action(StrEnum):
    RELEASE = "release"
    REJECT = "reject"
    HOLD = "hold"
    UNHOLD = "unhold"
    RECALL = "recall"
    EXCEPTIONAL_RELEASE = "exceptional_release"
    EXCEPTIONAL_ACCEPTANCE = "exceptional_acceptance"  # the treating physician's, for the patient
    REVIEW = "review"  # a signature on the dossier without a change of state


class Meaning(StrEnum):
    """What a signature means (21 CFR 11.50(a)(3)); shown wherever the signature is shown."""

    REVIEWED = "reviewed"
    APPROVED_FOR_RELEASE = "approved for release"
    REJECTED = "rejected"
    PLACED_ON_HOLD = "placed on hold"
    HOLD_LIFTED = "hold lifted"
    RECALLED = "recalled"
    EXCEPTIONAL_RELEASE_QA = "exceptional release approved (QA)"
    EXCEPTIONAL_RELEASE_MEDICAL = "exceptional release approved (medical director)"
    EXCEPTIONAL_RELEASE_ACCEPTED = "exceptional release accepted (treating physician)"


@dataclass(frozen=True)
class Rule:
    sources: frozenset[LotState]
    target: LotState | None  # None: back to the state the hold interrupted
    roles: frozenset[Role]
    meanings: frozenset[Meaning]
    signature: bool = True


QA = frozenset({Role.QA})
RULES: dict[Action, Rule] = {
    Action.RELEASE: Rule(
        frozenset({LotState.QUARANTINE}),
        LotState.RELEASED,
        QA,
        frozenset({Meaning.APPROVED_FOR_RELEASE}),
    ),
    Action.REJECT: Rule(
        frozenset({LotState.QUARANTINE, LotState.ON_HOLD}),
        LotState.REJECTED,
        QA,
        frozenset({Meaning.REJECTED}),
    ),
    Action.HOLD: Rule(
        frozenset({LotState.QUARANTINE, LotState.RELEASED, LotState.EXCEPTIONAL_RELEASE}),
        LotState.ON_HOLD,
        QA,
        frozenset({Meaning.PLACED_ON_HOLD}),
    ),
    Action.UNHOLD: Rule(frozenset({LotState.ON_HOLD}), None, QA, frozenset({Meaning.HOLD_LIFTED})),
    Action.RECALL: Rule(
        frozenset({LotState.RELEASED, LotState.EXCEPTIONAL_RELEASE, LotState.ON_HOLD}),
        LotState.RECALLED,
        QA,
        frozenset({Meaning.RECALLED}),
    ),
    Action.EXCEPTIONAL_RELEASE: Rule(
        frozenset({LotState.QUARANTINE}),
        LotState.EXCEPTIONAL_RELEASE,
        frozenset({Role.QA, Role.MEDICAL_DIRECTOR}),
        frozenset({Meaning.EXCEPTIONAL_RELEASE_QA, Meaning.EXCEPTIONAL_RELEASE_MEDICAL}),
    ),
}
# States a lot has been distributed from: only these can be recalled (a held quarantined lot is
# rejected, not recalled).
DISTRIBUTED = frozenset({LotState.RELEASED, LotState.EXCEPTIONAL_RELEASE})
MEANING_OF_ROLE = {
    Role.QA: Meaning.EXCEPTIONAL_RELEASE_QA,
    Role.MEDICAL_DIRECTOR: Meaning.EXCEPTIONAL_RELEASE_MEDICAL,
}


def target_of(action: Action, state: LotState, held_from: LotState | None) -> LotState:
    """The state `action` leads to from `state`, or Conflict naming why it cannot."""
    rule = RULES[action]
    if state not in rule.sources:
        allowed = ", ".join(sorted(rule.sources))
        raise Conflict(
            f"A lot in {state} cannot be {_done(action)}; only from {allowed}.",
            {"state": f"is {state}"},
        )
    if action == Action.RECALL and state == LotState.ON_HOLD and held_from not in DISTRIBUTED:
        raise Conflict(
            "This lot was held before it was ever released; reject it instead of recalling it.",
            {"state": "never released"},
        )
    target = rule.target if rule.target is not None else held_from
    if target is None or not lot_may_move(state, target):
        raise Conflict(f"The lot cannot move from {state} to {target}.", {"state": f"is {state}"})
    return target


def check_signer(action: Action, role: str, meaning: str) -> Meaning:
    """The signer's role must allow the action and the meaning must be one of the action's."""
    rule = RULES[action]
    if role not in rule.roles:
        raise Forbidden(
            f"Your role ({role}) may not sign this; it needs: {', '.join(sorted(rule.roles))}.",
            {"username": f"role {role} may not sign {action}"},
        )
    allowed = sorted(m.value for m in rule.meanings)
    if action == Action.EXCEPTIONAL_RELEASE:
        allowed = [MEANING_OF_ROLE[role].value]
    if meaning not in allowed:
        raise Conflict(
            f"The meaning of this signature must be: {' or '.join(allowed)}.",
            {"meaning": f"one of: {', '.join(allowed)}"},
        )
    return Meaning(meaning)


def segregation_problem(signer_id: int, analyst_ids: set[int], verifier_ids: set[int]) -> str:
    """Empty, or why the signer may not release: they tested or verified this lot."""
    if signer_id in analyst_ids:
        return "You entered results of this lot; someone who did not test it must release it."
    if signer_id in verifier_ids:
        return "You verified results of this lot; someone who did not check them must release it."
    return ""


def _done(action: Action) -> str:
    return {
        Action.RELEASE: "released",
        Action.REJECT: "rejected",
        Action.HOLD: "put on hold",
        Action.UNHOLD: "taken off hold",
        Action.RECALL: "recalled",
        Action.EXCEPTIONAL_RELEASE: "exceptionally released",
        Action.EXCEPTIONAL_ACCEPTANCE: "accepted",
        Action.REVIEW: "reviewed",
    }[action]
