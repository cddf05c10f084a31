"""The dose rule (domain/dose.py): doses between whole containers, worked out by hand, and
properties that hold for any prescription and containers."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain import dose
from lotrack.domain.dose import Container

TEN = D("0.10")
# The demo's bag: 72×10^6 cells in 18 mL, 4×10^6 cells/mL; its lot's endotoxin <0.25 EU/mL.
BAG = (72_000_000, D("18.00"), D("0.25"))
# A Ryoncil-like vial: 25×10^6 cells in 3.8 mL (≈6.579×10^6 cells/mL).
VIAL = (25_000_000, D("3.8"), D("0.25"))


def bags(n: int, spec: tuple[int, D, D] = BAG) -> tuple[Container, ...]:
    return tuple(Container(f"U{i}", *spec) for i in range(n))


# (case, target cells, weight kg, containers, expected draws [(volume, whole)], discard of last)
CASES = [
    # 65 kg × 1×10^6/kg = 65×10^6; a whole bag (72×10^6) is +10.8 %, past +10 %: draw
    # 65/4 = 16.25 → 16.3 mL (half up) = 65.2×10^6 (+0.3 %); 1.7 mL discarded.
    ("adult 65 kg, one bag", 65_000_000, D("65"), bags(1), [(D("16.3"), False)], D("1.70")),
    # 70 kg: the whole bag is 72/70 = +2.9 %: given whole, nothing drawn or discarded.
    ("adult 70 kg, whole bag", 70_000_000, D("70"), bags(1), [(D("18.00"), True)], D("0.00")),
    # 12 kg child × 2×10^6/kg = 24×10^6: 24/4 = 6.0 mL exactly; 12.0 mL discarded.
    ("child 12 kg, one bag", 24_000_000, D("12"), bags(1), [(D("6.0"), False)], D("12.00")),
    # 130 kg × 1×10^6/kg = 130×10^6: two bags (144) are +10.8 %: first whole (72), then
    # 58/4 = 14.5 mL from the second = 58×10^6; total 130×10^6; 3.5 mL discarded.
    (
        "adult 130 kg, two bags",
        130_000_000,
        D("130"),
        bags(2),
        [(D("18.00"), True), (D("14.5"), False)],
        D("3.50"),
    ),
    # 8.5 kg child × 2×10^6/kg = 17×10^6 from a vial: 17 × 3.8 / 25 = 2.584 → 2.6 mL
    # = 17.105×10^6 (+0.6 %); 1.2 mL discarded.
    ("child 8.5 kg, one vial", 17_000_000, D("8.5"), bags(1, VIAL), [(D("2.6"), False)], D("1.2")),
    # 33 kg × 2×10^6/kg = 66×10^6 from three vials: two whole (50), then 16 × 3.8 / 25 = 2.432
    # → 2.4 mL = 15.789×10^6; total 65.789×10^6 (−0.3 %); 1.4 mL discarded.
    (
        "child 33 kg, three vials",
        66_000_000,
        D("33"),
        bags(3, VIAL),
        [(D("3.8"), True), (D("3.8"), True), (D("2.4"), False)],
        D("1.4"),
    ),
    # A fixed dose of 100×10^6 cells (weight 40 kg): one bag whole (72), then 28/4 = 7.0 mL.
    (
        "fixed 100×10^6, two bags",
        100_000_000,
        D("40"),
        bags(2),
        [(D("18.00"), True), (D("7.0"), False)],
        D("11.00"),
    ),
]


@pytest.mark.parametrize(("case", "target", "weight", "units", "draws", "discard"), CASES)
def test_doses_between_whole_containers(
    case: str,
    target: int,
    weight: D,
    units: tuple[Container, ...],
    draws: list[tuple[D, bool]],
    discard: D,
) -> None:
    p = dose.plan(target, TEN, weight, units)
    assert p.ok, (case, p.problem)
    assert [(d.volume_ml, d.whole) for d in p.draws] == draws
    assert p.draws[-1].discard_ml == discard
    assert p.low <= p.achieved_cells <= p.high
    assert p.achieved_per_kg == p.achieved_cells / weight


def test_the_worked_65_kg_figures() -> None:
    p = dose.plan(65_000_000, TEN, D("65"), bags(1))
    assert p.achieved_cells == D("65200000")
    # 65.2×10^6 / 65 kg = 1.003×10^6 cells/kg; endotoxin 16.3 mL × 0.25 EU/mL / 65 kg.
    assert round(p.achieved_per_kg) == 1_003_077
    assert p.endotoxin_eu_per_kg == D("16.3") * D("0.25") / 65


# (case, target, weight, containers, tolerance, refusal)
REFUSALS = [
    # 100 kg × 1×10^6/kg: one bag (72×10^6) is −28 %, below −10 %.
    ("not enough", 100_000_000, D("100"), bags(1), TEN, dose.UNDER_DOSE),
    # 50 kg: the first bag (72) is given whole, +44 % already.
    ("first bag too much", 50_000_000, D("50"), bags(2), TEN, dose.OVER_DOSE),
    # 70 kg: the first bag (72) gives the dose; the second adds nothing.
    ("one bag too many", 70_000_000, D("70"), bags(2), TEN, dose.NOT_NEEDED),
    # 1 kg × 1×10^6/kg at 4×10^6/mL: 0.25 mL; 0.3 mL is +20 %, 0.2 mL −20 %.
    ("no 0.1 mL step fits", 1_000_000, D("1"), bags(1), TEN, dose.NO_DRAWABLE_VOLUME),
    # A fixed 144×10^6 to a 3 kg infant: 36 mL × 0.45 EU/mL / 3 kg = 5.4 EU/kg > 5.
    (
        "endotoxin",
        144_000_000,
        D("3"),
        bags(2, (72_000_000, D("18.00"), D("0.45"))),
        TEN,
        dose.ENDOTOXIN_OVER,
    ),
    (
        "endotoxin unknown",
        70_000_000,
        D("70"),
        bags(1, (72_000_000, D("18"), None)),
        TEN,
        dose.ENDOTOXIN_UNKNOWN,
    ),  # type: ignore[arg-type]
    ("nothing allocated", 70_000_000, D("70"), (), TEN, dose.NO_CONTAINERS),
]


@pytest.mark.parametrize(("case", "target", "weight", "units", "tol", "code"), REFUSALS)
def test_refusals(
    case: str, target: int, weight: D, units: tuple[Container, ...], tol: D, code: str
) -> None:
    assert dose.plan(target, tol, weight, units).problem == code, case


def test_a_container_infused_counts_at_the_volume_given() -> None:
    # 130 kg: the first bag was infused whole (18 mL); the second is drawn: 14.5 mL.
    given = Container("U0", *BAG, given_ml=D("18.00"))
    p = dose.plan(130_000_000, TEN, D("130"), (given, Container("U1", *BAG)))
    assert p.ok
    assert p.draws[0].given and p.draw_for("U1") == dose.Draw(
        "U1", D("14.5"), False, D("58000000.0"), D("3.50")
    )
    # Only 16 mL of the first were given (64×10^6): the second whole makes 136×10^6 (+4.6 %).
    short = Container("U0", *BAG, given_ml=D("16.0"))
    assert dose.plan(130_000_000, TEN, D("130"), (short, Container("U1", *BAG))).draws[
        1
    ].volume_ml == D("18.00")


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.12", D("0.12")), ("<0.25", D("0.25")), ("≤ 0.5", D("0.5")), ("negative", None)],
)
def test_endotoxin_results_read_as_their_bound(text: str, value: D | None) -> None:
    assert dose.eu_per_ml(text) == value


volumes = st.decimals(min_value=D("0.5"), max_value=D("500"), places=1)
containers = st.lists(
    st.tuples(st.integers(1_000_000, 500_000_000), volumes), min_size=1, max_size=5
)


@given(
    target=st.integers(100_000, 2_000_000_000),
    tolerance=st.sampled_from([D("0"), D("0.05"), D("0.10"), D("0.20")]),
    weight=st.decimals(min_value=D("0.5"), max_value=D("250"), places=2),
    units=containers,
)
def test_any_plan_given_is_within_tolerance_and_the_containers(
    target: int, tolerance: D, weight: D, units: list[tuple[int, D]]
) -> None:
    cs = tuple(Container(f"U{i}", cells, ml, D("0")) for i, (cells, ml) in enumerate(units))
    p = dose.plan(target, tolerance, weight, cs)
    if not p.ok:
        return
    assert p.low <= p.achieved_cells <= p.high
    assert p.achieved_cells <= sum(c.cells for c in cs)
    for d, c in zip(p.draws, cs, strict=True):
        assert D(0) < d.volume_ml <= c.volume_ml
        assert d.discard_ml >= 0 and d.volume_ml + d.discard_ml == c.volume_ml
        assert d.cells <= c.cells
        assert d.volume_ml == d.volume_ml.quantize(dose.DRAW_STEP) or d.whole
        assert d.whole or d is p.draws[-1]  # only the last container is drawn from
