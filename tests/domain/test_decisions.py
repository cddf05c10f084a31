"""The release rules as a QA auditor reads them: which decision may be taken from which state and
where it leads, who may sign it with which meaning, and who may never release a lot they tested."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.decisions import (
    DISTRIBUTED,
    MEANING_OF_ROLE,
    RULES,
    Action,
    Meaning,
    check_signer,
    segregation_problem,
    target_of,
)
from lotrack.domain.errors import Conflict, Forbidden
from lotrack.domain.states import LOT_TRANSITIONS, USABLE_LOT_STATES, LotState, lot_may_move

S = LotState
# REVIEW and the physician's acceptance sign without a change of state.
DECISIONS = [a for a in Action if a not in (Action.REVIEW, Action.EXCEPTIONAL_ACCEPTANCE)]
# Written out from DESIGN.md and issue 4, not copied from RULES: (action, state) -> target.
# ON_HOLD's targets depend on what the hold interrupted and are tested apart.
EXPECTED = {
    (Action.RELEASE, S.QUARANTINE): S.RELEASED,
    (Action.REJECT, S.QUARANTINE): S.REJECTED,
    (Action.REJECT, S.ON_HOLD): S.REJECTED,
    (Action.HOLD, S.QUARANTINE): S.ON_HOLD,
    (Action.HOLD, S.RELEASED): S.ON_HOLD,
    (Action.HOLD, S.EXCEPTIONAL_RELEASE): S.ON_HOLD,
    (Action.RECALL, S.RELEASED): S.RECALLED,
    (Action.RECALL, S.EXCEPTIONAL_RELEASE): S.RECALLED,
    (Action.EXCEPTIONAL_RELEASE, S.QUARANTINE): S.EXCEPTIONAL_RELEASE,
}
ROLES = ("technician", "qa", "medical_director", "clinical", "admin")
MEANING = {
    Action.RELEASE: Meaning.APPROVED_FOR_RELEASE,
    Action.REJECT: Meaning.REJECTED,
    Action.HOLD: Meaning.PLACED_ON_HOLD,
    Action.UNHOLD: Meaning.HOLD_LIFTED,
    Action.RECALL: Meaning.RECALLED,
}


@pytest.mark.parametrize("state", [s for s in S if s != S.ON_HOLD])
@pytest.mark.parametrize("action", DECISIONS)
def test_every_decision_from_every_settled_state(action: Action, state: LotState) -> None:
    expected = EXPECTED.get((action, state))
    if expected is None:
        with pytest.raises(Conflict) as err:
            target_of(action, state, None)
        assert err.value.fields == {"state": f"is {state}"}
        assert str(state) in err.value.message
    else:
        assert target_of(action, state, None) == expected
        assert lot_may_move(state, expected)


@pytest.mark.parametrize("held_from", [S.QUARANTINE, S.RELEASED, S.EXCEPTIONAL_RELEASE])
def test_lifting_a_hold_returns_to_the_state_the_hold_interrupted(held_from: LotState) -> None:
    assert target_of(Action.UNHOLD, S.ON_HOLD, held_from) == held_from
    assert target_of(Action.REJECT, S.ON_HOLD, held_from) == S.REJECTED
    for action in (Action.RELEASE, Action.HOLD, Action.EXCEPTIONAL_RELEASE):
        with pytest.raises(Conflict):
            target_of(action, S.ON_HOLD, held_from)


def test_a_hold_lifted_in_quarantine_never_releases_the_lot() -> None:
    assert target_of(Action.UNHOLD, S.ON_HOLD, S.QUARANTINE) == S.QUARANTINE
    assert S.QUARANTINE not in USABLE_LOT_STATES


def test_a_hold_with_no_record_of_what_it_interrupted_is_not_lifted() -> None:
    with pytest.raises(Conflict):
        target_of(Action.UNHOLD, S.ON_HOLD, None)
    with pytest.raises(Conflict):
        target_of(Action.UNHOLD, S.ON_HOLD, S.ON_HOLD)


@pytest.mark.parametrize("held_from", sorted(DISTRIBUTED))
def test_a_held_lot_that_was_distributed_can_be_recalled(held_from: LotState) -> None:
    assert target_of(Action.RECALL, S.ON_HOLD, held_from) == S.RECALLED


def test_a_lot_held_in_quarantine_is_rejected_not_recalled() -> None:
    with pytest.raises(Conflict) as err:
        target_of(Action.RECALL, S.ON_HOLD, S.QUARANTINE)
    assert err.value.fields == {"state": "never released"}
    assert "reject" in err.value.message


def test_rejected_and_recalled_lots_are_final() -> None:
    for final in (S.REJECTED, S.RECALLED):
        assert LOT_TRANSITIONS[final] == frozenset()
        for action in DECISIONS:
            for held_from in (None, *S):
                with pytest.raises(Conflict):
                    target_of(action, final, held_from)


def _step(state: LotState, held_from: LotState | None, action: Action, held: LotState | None):
    """What the services do: the guarded move records what a hold interrupted, clears it after."""
    try:
        target = target_of(action, state, held_from if state == S.ON_HOLD else held)
    except Conflict:
        return state, held_from, False
    return target, (state if target == S.ON_HOLD else None), True


@given(
    st.lists(
        st.tuples(st.sampled_from(DECISIONS), st.none() | st.sampled_from(list(S))),
        max_size=30,
    )
)
def test_any_sequence_of_decisions_keeps_the_lot_in_a_valid_state(steps) -> None:
    state, held_from, was_released = S.QUARANTINE, None, False
    for action, noise in steps:
        before = state
        state, held_from, moved = _step(state, held_from, action, noise)
        assert state in S
        assert (held_from is not None) == (state == S.ON_HOLD)
        if moved:
            assert lot_may_move(before, state), (before, action, state)
        if before in (S.REJECTED, S.RECALLED):
            assert not moved and state == before
        if moved and state == S.RELEASED:
            # Only a release from quarantine, or lifting a hold of a released lot, leads here.
            assert action == Action.RELEASE or (action == Action.UNHOLD and before == S.ON_HOLD)
        if state == S.RECALLED:
            assert was_released, "only a lot that left the building is recalled"
        was_released = was_released or state in DISTRIBUTED


@pytest.mark.parametrize("action", [a for a in DECISIONS if a != Action.EXCEPTIONAL_RELEASE])
@pytest.mark.parametrize("role", ROLES)
def test_only_qa_signs_decisions_and_only_with_their_meaning(action: Action, role: str) -> None:
    if role != "qa":
        with pytest.raises(Forbidden) as err:
            check_signer(action, role, MEANING[action].value)
        assert "username" in err.value.fields and role in err.value.message
        return
    assert check_signer(action, role, MEANING[action].value) == MEANING[action]
    for other in Meaning:
        if other != MEANING[action]:
            with pytest.raises(Conflict) as err:
                check_signer(action, role, other.value)
            assert err.value.fields == {"meaning": f"one of: {MEANING[action].value}"}
    with pytest.raises(Conflict):
        check_signer(action, role, "approved")  # not a meaning at all


@pytest.mark.parametrize("role", ROLES)
def test_exceptional_release_meaning_follows_the_signers_role(role: str) -> None:
    if role not in MEANING_OF_ROLE:
        with pytest.raises(Forbidden):
            check_signer(Action.EXCEPTIONAL_RELEASE, role, Meaning.EXCEPTIONAL_RELEASE_QA.value)
        return
    own = MEANING_OF_ROLE[role]
    assert check_signer(Action.EXCEPTIONAL_RELEASE, role, own.value) == own
    (other,) = set(MEANING_OF_ROLE.values()) - {own}
    with pytest.raises(Conflict) as err:
        check_signer(Action.EXCEPTIONAL_RELEASE, role, other.value)  # QA cannot sign for the MD
    assert err.value.fields == {"meaning": f"one of: {own.value}"}


def test_exceptional_release_needs_both_a_qa_and_a_medical_director_meaning() -> None:
    assert set(MEANING_OF_ROLE) == {"qa", "medical_director"}
    assert RULES[Action.EXCEPTIONAL_RELEASE].roles == frozenset(MEANING_OF_ROLE)
    assert len(set(MEANING_OF_ROLE.values())) == 2


def test_whoever_entered_or_verified_a_result_may_not_release() -> None:
    assert "entered" in segregation_problem(7, {7, 8}, {9})
    assert "verified" in segregation_problem(9, {7, 8}, {9})
    assert "entered" in segregation_problem(7, {7}, {7})
    assert segregation_problem(10, {7, 8}, {9}) == ""
    assert segregation_problem(10, set(), set()) == ""


@given(st.integers(1, 50), st.sets(st.integers(1, 50)), st.sets(st.integers(1, 50)))
def test_segregation_refuses_exactly_the_testers(signer, analysts, verifiers) -> None:
    assert bool(segregation_problem(signer, analysts, verifiers)) == (
        signer in analysts | verifiers
    )
