"""The lot decisions QA signs: which state each starts from and leads to, who may sign it, with
which meaning, and the release rules (segregation of duties, blockers, exceptional release)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lotrack.domain.errors import Conflict, Forbidden
from lotrack.domain.permissions import Role
from lotrack.domain.states import LotState, lot_may_move
from lotrack.domain.text import N_, Said, said


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
            said(_CANNOT[action], state=_word(state), allowed=allowed),
            {"state": said("is %(state)s", state=_word(state))},
        )
    if action == Action.RECALL and state == LotState.ON_HOLD and held_from not in DISTRIBUTED:
        raise Conflict(
            N_("This lot was held before it was ever released; reject it instead of recalling it."),
            {"state": N_("never released")},
        )
    target = rule.target if rule.target is not None else held_from
    if target is None or not lot_may_move(state, target):
        raise Conflict(
            said(
                "The lot cannot move from %(state)s to %(target)s.",
                state=_word(state),
                target=_word(target),
            ),
            {"state": said("is %(state)s", state=_word(state))},
        )
    return target


def check_signer(action: Action, role: str, meaning: str) -> Meaning:
    """The signer's role must allow the action and the meaning must be one of the action's."""
    rule = RULES[action]
    if role not in rule.roles:
        raise Forbidden(
            said(
                "Your role (%(role)s) may not sign this; it needs: %(roles)s.",
                role=_word(role),
                roles=", ".join(sorted(rule.roles)),
            ),
            {
                "username": said(
                    "role %(role)s may not sign %(action)s", role=_word(role), action=_word(action)
                )
            },
        )
    allowed = sorted(m.value for m in rule.meanings)
    if action == Action.EXCEPTIONAL_RELEASE:
        allowed = [MEANING_OF_ROLE[role].value]
    if meaning not in allowed:
        raise Conflict(
            said(
                "The meaning of this signature must be: %(meanings)s.",
                meanings=" or ".join(allowed),
            ),
            {"meaning": said("one of: %(meanings)s", meanings=", ".join(allowed))},
        )
    return Meaning(meaning)


def segregation_problem(signer_id: int, analyst_ids: set[int], verifier_ids: set[int]) -> str:
    """Empty, or why the signer may not release: they tested or verified this lot."""
    if signer_id in analyst_ids:
        return N_("You entered results of this lot; someone who did not test it must release it.")
    if signer_id in verifier_ids:
        return N_(
            "You verified results of this lot; someone who did not check them must release it."
        )
    return ""


def _word(value: object) -> Said:
    """A coded value (a state, role, action) as a sentence's part: the edge says it in the
    reader's language (domain/words.py), English here."""
    return Said(str(value))


# Why a lot cannot be moved by an action from the state it is in: one sentence per action.
_CANNOT = {
    Action.RELEASE: N_("A lot in %(state)s cannot be released; only from %(allowed)s."),
    Action.REJECT: N_("A lot in %(state)s cannot be rejected; only from %(allowed)s."),
    Action.HOLD: N_("A lot in %(state)s cannot be put on hold; only from %(allowed)s."),
    Action.UNHOLD: N_("A lot in %(state)s cannot be taken off hold; only from %(allowed)s."),
    Action.RECALL: N_("A lot in %(state)s cannot be recalled; only from %(allowed)s."),
    Action.EXCEPTIONAL_RELEASE: N_(
        "A lot in %(state)s cannot be exceptionally released; only from %(allowed)s."
    ),
    Action.EXCEPTIONAL_ACCEPTANCE: N_(
        "A lot in %(state)s cannot be accepted; only from %(allowed)s."
    ),
    Action.REVIEW: N_("A lot in %(state)s cannot be reviewed; only from %(allowed)s."),
}
