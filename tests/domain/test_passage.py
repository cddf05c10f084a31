"""Population doublings and passage limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.passage import PassageLimits, accumulate, population_doublings

LIMITS = PassageLimits(max_passage=10, max_cumulative_pdl=Decimal("40.00"), source="test")


@pytest.mark.parametrize(
    "seeded,harvested,pd",
    [
        (1_000_000, 8_000_000, "3.00"),
        (2_000_000, 2_000_000, "0.00"),
        (1, 3, "1.58"),
        (4_000_000, 1_000_000, "-2.00"),
    ],
)
def test_doublings_are_log2_of_the_fold_expansion(seeded, harvested, pd) -> None:
    assert population_doublings(seeded, harvested) == Decimal(pd)


@pytest.mark.parametrize("seeded,harvested", [(0, 10), (10, 0), (-1, 10)])
def test_zero_or_negative_counts_are_refused(seeded, harvested) -> None:
    with pytest.raises(ValueError, match="greater than zero"):
        population_doublings(seeded, harvested)


def test_cumulative_level_starts_from_the_bank_and_flags_limits() -> None:
    figures = accumulate(
        Decimal("34.00"),
        [(10, 1_000_000, 8_000_000), (11, 1_000_000, 8_000_000)],
        LIMITS,
    )
    assert [f.cumulative_pdl for f in figures] == [Decimal("37.00"), Decimal("40.00")]
    assert figures[0].flags == ()
    # Passage 11 exceeds the passage limit; 40.00 is AT the PDL limit, which is allowed.
    assert figures[1].flags == ("passage 11 exceeds the limit of 10",)
    over = accumulate(Decimal("40.00"), [(5, 100, 101)], LIMITS)
    assert any("cumulative population doublings" in f for f in over[0].flags)


@given(st.lists(st.tuples(st.integers(1, 10**9), st.integers(1, 10**9)), max_size=12))
def test_cumulative_is_the_running_sum(counts) -> None:
    rows = [(i + 1, s, h) for i, (s, h) in enumerate(counts)]
    figures = accumulate(Decimal("5.00"), rows, LIMITS)
    total = Decimal("5.00")
    for f, (_n, s, h) in zip(figures, rows, strict=True):
        total += population_doublings(s, h)
        assert f.cumulative_pdl == total
