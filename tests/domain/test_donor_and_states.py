"""Donor eligibility rules and the lot state table."""

from __future__ import annotations

import pytest

from lotrack.domain.donor import MARKERS, ScreeningResult, eligibility_problems
from lotrack.domain.states import LOT_TRANSITIONS, LotState, lot_may_move


def clear(**override: str) -> list[ScreeningResult]:
    return [ScreeningResult(m, "NAT", override.get(m, "non-reactive")) for m in MARKERS]


def test_all_markers_non_reactive_allows_eligible() -> None:
    assert eligibility_problems(clear()) == []


@pytest.mark.parametrize("marker", [m for m in MARKERS if m != "CMV"])
def test_a_reactive_infectious_marker_rules_the_donor_out(marker: str) -> None:
    assert eligibility_problems(clear(**{marker: "reactive"})) == [f"{marker}: reactive"]


def test_reactive_cmv_alone_does_not_block_but_missing_cmv_does() -> None:
    assert eligibility_problems(clear(CMV="reactive")) == []
    missing = [r for r in clear() if r.marker != "CMV"]
    assert eligibility_problems(missing) == ["CMV: no screening result recorded"]


def test_indeterminate_blocks() -> None:
    assert eligibility_problems(clear(HCV="indeterminate")) == ["HCV: indeterminate result"]


def test_lot_state_table_matches_design() -> None:
    Q, R, X, H, E, C = (
        LotState.QUARANTINE,
        LotState.RELEASED,
        LotState.REJECTED,
        LotState.ON_HOLD,
        LotState.EXCEPTIONAL_RELEASE,
        LotState.RECALLED,
    )
    assert LOT_TRANSITIONS[Q] == {R, X, H, E}
    assert LOT_TRANSITIONS[R] == {H, C}
    # Lifting a hold returns to the state it interrupted (domain/release.py decides which).
    assert LOT_TRANSITIONS[H] == {Q, R, E, X, C}
    # An exceptionally released lot left the building too: it can be held and recalled.
    assert LOT_TRANSITIONS[E] == {H, C}
    for final in (X, C):
        assert LOT_TRANSITIONS[final] == set()
    assert not lot_may_move(Q, C)  # a quarantined lot is rejected, never recalled
