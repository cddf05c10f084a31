"""`judge`: one entry against one specification test, exact at every kind of limit."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lotrack import PROJECT_ROOT
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.spec_file import parse_spec
from lotrack.domain.specs import Bound, Interval, Kind, SpecTest, Verdict, check_entry, judge

DAY = dt.date(2025, 9, 1)
RELEASE = parse_spec(Path(PROJECT_ROOT, "specs/cfmsc-release.toml").read_text(), "release")
T = {t.code: t for t in RELEASE.tests}
P, A, F = Verdict.PASS, Verdict.ALERT, Verdict.FAIL


def numeric(lower=None, upper=None, *, lo_inc=True, hi_inc=True, decimals=1, alert=(None, None)):
    d = lambda x: None if x is None else Decimal(x)  # noqa: E731
    return SpecTest(
        code="X",
        name="X",
        method="m",
        unit="%",
        kind=Kind.NUMERIC,
        source="test",
        decimals=decimals,
        limits=Interval(Bound(d(lower), lo_inc), Bound(d(upper), hi_inc)),
        alert=Interval(Bound(d(alert[0])), Bound(d(alert[1]))),
    )


def run(test: SpecTest, value: str, unit: str | None = None, **kw):
    return judge(
        test,
        value=value,
        unit=test.unit if unit is None else unit,
        performed_on=kw.pop("performed_on", DAY),
        recorded_on=kw.pop("recorded_on", DAY),
        **kw,
    )


def refused(test: SpecTest, value: str, unit: str | None = None, **kw) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as err:
        run(test, value, unit, **kw)
    return err.value.fields


GT20 = numeric("20.0", lo_inc=False)
ALERT_HIGH = numeric(upper="2.0", alert=(None, "1.0"))
WHOLE = numeric("10", decimals=0)


C, G, E, Q, V = T["CD105"], T["CD45"], T["ENDOTOXIN"], T["CELLS"], T["VIAB"]


@pytest.mark.parametrize(
    "test, value, verdict, rounded",
    [
        # lower inclusive, 1 decimal: CD105 >= 95.0; rounding half up onto the limit passes
        (C, "95.0", P, "95.0"), (C, "94.95", P, "95.0"), (C, "94.94", F, "94.9"),
        (C, "94.9", F, "94.9"), (C, "95", P, "95.0"), (C, "+9.5e1", P, "95.0"),
        (C, "  99.96 ", P, "100.0"),
        # lower exclusive: > 20.0
        (GT20, "20.0", F, "20.0"), (GT20, "20.04", F, "20.0"), (GT20, "20.05", P, "20.1"),
        # upper inclusive: CD45 <= 2.0
        (G, "2.0", P, "2.0"), (G, "2.04", P, "2.0"), (G, "2.05", F, "2.1"), (G, ".5", P, "0.5"),
        # upper exclusive, 2 decimals: endotoxin < 0.50
        (E, "0.495", F, "0.50"), (E, "0.494", P, "0.49"), (E, "0.5", F, "0.50"),
        (E, "0.49", P, "0.49"),
        # two-sided: viable cells per unit 64.8 to 79.2
        (Q, "64.75", P, "64.8"), (Q, "64.74", F, "64.7"), (Q, "79.24", P, "79.2"),
        (Q, "79.25", F, "79.3"),
        # alert limits: viability >= 80.0, alert below 85.0; and an upper alert at 1.0
        (V, "85.0", P, "85.0"), (V, "84.95", P, "85.0"), (V, "84.94", A, "84.9"),
        (V, "80.0", A, "80.0"), (V, "79.95", A, "80.0"), (V, "79.94", F, "79.9"),
        (ALERT_HIGH, "1.0", P, "1.0"), (ALERT_HIGH, "1.05", A, "1.1"),
        (ALERT_HIGH, "2.05", F, "2.1"),
        # no decimals
        (WHOLE, "9.5", P, "10"), (WHOLE, "9.49", F, "9"),
    ],
)  # fmt: skip
def test_point_values_at_just_inside_and_just_outside_each_limit(test, value, verdict, rounded):
    j = run(test, value)
    assert (j.verdict, j.rounded) == (verdict, rounded)
    if verdict == F:
        assert test.criterion() in j.note


@pytest.mark.parametrize(
    "test, value, verdict, rounded",
    [
        (E, "<0.25", P, "<0.25"), (E, "≤0.25", P, "<=0.25"), (E, ">0.50", F, ">0.50"),
        (E, "<0.50", P, "<0.50"),  # stated at the test's precision: a rounded value below 0.50
        (E, "<0.495", P, "<0.50"),  # every value below 0.495 rounds to 0.49 or less
        (E, ">=0.5", F, ">=0.50"), (E, "≥ 0.6", F, ">=0.60"),
        (E, ">0.4951", F, ">=0.50"),  # 0.4952 rounds to 0.50
        (C, ">=99", P, ">=99.0"), (C, "≥99", P, ">=99.0"), (C, ">94.95", P, ">=95.0"),
        (C, "<90", F, "<90.0"), (C, "<95.0", F, "<95.0"), (C, "<94.95", F, "<95.0"),
        (Q, ">80", F, ">80.0"), (Q, "<=64.7", F, "<=64.7"),
    ],
)  # fmt: skip
def test_censored_values_wholly_inside_or_outside_are_judged(test, value, verdict, rounded):
    j = run(test, value)
    assert (j.verdict, j.rounded) == (verdict, rounded)


@pytest.mark.parametrize(
    "test, value",
    [
        (E, "<=0.50"), (E, "<1"), (E, ">0.40"), (C, "<=95.0"), (C, ">90"), (Q, ">=70"), (Q, "<75"),
        (E, "<0.5049"),  # 0.502 is below it and rounds to 0.50, which fails
        (E, "<0.4951"),  # 0.4950 is below it and rounds to 0.50
        (C, ">94.94"),  # 94.941 rounds to 94.9
    ],
)  # fmt: skip
def test_censored_values_straddling_a_limit_are_refused_naming_value(test, value):
    fields = refused(test, value)
    assert list(fields) == ["value"] and "straddles" in fields["value"]


@pytest.mark.parametrize(
    "value",
    ["NaN", "nan", "Infinity", "-inf", "sNaN", "1e999", "1e15", "9" * 16, "1,5", "95 %", "95%",
     "95.0.1", "--1", "<", "<>5", "0x1F", "½", "ninety", "x" * 61, "", "   "],
)  # fmt: skip
def test_non_numbers_and_absurd_numbers_are_refused_naming_value(value):
    assert list(refused(T["VIAB"], value)) == ["value"]


@pytest.mark.parametrize(
    "test, value, unit, accepted",
    [
        (T["VIAB"], "90.0", "%", True),
        (T["VIAB"], "90.0", " % ", True),
        (T["ENDOTOXIN"], "<0.25", "eu / ml", True),
        (T["CELLS"], "70.0", "10^6Cells", True),
        (T["MYCO"], "Negative", "  ", True),
        (T["ENDOTOXIN"], "<0.25", "EU/L", False),
        (T["VIAB"], "90.0", "", False),
        (T["VIAB"], "90.0", "fraction", False),
        (T["MYCO"], "Negative", "%", False),
    ],
)
def test_units_must_match_the_specification_ignoring_case_and_spaces(test, value, unit, accepted):
    if accepted:
        assert run(test, value, unit).verdict == P
        return
    fields = refused(test, value, unit)
    assert list(fields) == ["unit"]
    assert (f"'{test.unit}'" if test.unit else "no unit") in fields["unit"]


@pytest.mark.parametrize(
    "analyte, value, verdict",
    [("CD14", "0.6", P), ("cd11b", "2.0", P), ("CD14", "2.05", F), (" CD11b ", "5", F)],
)
def test_a_panel_result_names_one_of_its_alternatives(analyte, value, verdict):
    panel = T["CD14-CD11B"]
    assert run(panel, value, analyte=analyte).verdict == verdict
    assert check_entry(panel, value=value, unit="%", analyte=analyte) in ("CD14", "CD11b")


@pytest.mark.parametrize("analyte", [None, "", "CD45", "CD14-CD11B", "CD14,CD11b"])
def test_a_panel_result_without_a_known_alternative_is_refused_naming_analyte(analyte):
    fields = refused(T["CD14-CD11B"], "0.5", analyte=analyte)
    assert list(fields) == ["analyte"] and "CD14" in fields["analyte"]


@pytest.mark.parametrize(
    "value, verdict",
    [("Normal", P), ("normal", P), ("  NORMAL\t", P), ("Abnormal", F), ("ABNORMAL ", F)],
)
def test_qualitative_results_are_accepted_or_rejected_ignoring_case_and_spaces(value, verdict):
    assert run(T["KARYOTYPE"], value).verdict == verdict


@pytest.mark.parametrize("value", ["Conforms", "OK", "pass", "46,XY", "Normal!", "Nor mal"])
def test_unknown_qualitative_text_is_refused_naming_value(value):
    fields = refused(T["KARYOTYPE"], value)
    assert list(fields) == ["value"] and "Normal" in fields["value"]


def test_sterility_pending_is_pending_with_its_due_date():
    for text in ("pending", " Pending ", "INCUBATING"):
        j = run(T["STERILITY"], text)
        assert (j.verdict, j.due_on) == (Verdict.PENDING, DAY + dt.timedelta(days=14))


def test_a_final_sterility_reading_before_the_due_date_is_refused():
    day13, day14 = DAY + dt.timedelta(days=13), DAY + dt.timedelta(days=14)
    fields = refused(T["STERILITY"], "No growth", recorded_on=day13)
    assert list(fields) == ["value"] and str(day14) in fields["value"]
    assert run(T["STERILITY"], "No growth", recorded_on=day14).verdict == P
    assert run(T["STERILITY"], "Growth", recorded_on=day14).verdict == F


# --- properties ------------------------------------------------------------------------------

LIMIT_KINDS = [("lower", True), ("lower", False), ("upper", True), ("upper", False)]


def make(side: str, inclusive: bool, limit: Decimal, decimals: int) -> SpecTest:
    if side == "lower":
        return numeric(str(limit), lo_inc=inclusive, decimals=decimals)
    return numeric(upper=str(limit), hi_inc=inclusive, decimals=decimals)


def meets(side: str, inclusive: bool, x: Decimal, limit: Decimal) -> bool:
    if side == "lower":
        return x >= limit if inclusive else x > limit
    return x <= limit if inclusive else x < limit


decimals_st = st.integers(0, 3)


@st.composite
def on_grid(draw, decimals: int, lo: int = 0, hi: int = 10**6) -> Decimal:
    return Decimal(draw(st.integers(lo, hi))).scaleb(-decimals)


@given(st.data(), decimals_st, st.sampled_from(LIMIT_KINDS), st.integers(0, 4))
def test_judge_agrees_with_rounding_half_up_then_comparing(data, decimals, kind, extra):
    limit = data.draw(on_grid(decimals))
    value = data.draw(on_grid(decimals + extra))
    quantum = Decimal(1).scaleb(-decimals)
    expected = meets(*kind, value.quantize(quantum, rounding=ROUND_HALF_UP), limit)
    assert run(make(*kind, limit, decimals), str(value)).verdict == (P if expected else F)


@given(decimals_st, st.sampled_from(LIMIT_KINDS), st.integers(1, 10**6))
def test_one_quantum_across_the_limit_flips_the_verdict(decimals, kind, n):
    side, inclusive = kind
    quantum = Decimal(1).scaleb(-decimals)
    limit = n * quantum
    test = make(side, inclusive, limit, decimals)
    at = run(test, str(limit)).verdict
    beyond = limit - quantum if side == "lower" else limit + quantum
    within = limit + quantum if side == "lower" else limit - quantum
    assert at == (P if inclusive else F)
    assert run(test, str(beyond)).verdict == F
    assert run(test, str(within)).verdict == P
    # half a quantum below rounds up onto the limit (half up); just under half does not
    assert run(test, str(limit - quantum / 2)).verdict == at
    assert run(test, str(limit - quantum / 2 - quantum / 100)).verdict == (
        run(test, str(limit - quantum)).verdict
    )


QUALIFIERS = {"<": Decimal.__lt__, "<=": Decimal.__le__, ">": Decimal.__gt__, ">=": Decimal.__ge__}


@settings(max_examples=400)
@given(st.data(), decimals_st, st.sampled_from(LIMIT_KINDS), st.sampled_from(sorted(QUALIFIERS)))
def test_a_judged_censored_value_agrees_with_every_value_it_stands_for(data, decimals, kind, q):
    quantum = Decimal(1).scaleb(-decimals)
    limit = data.draw(on_grid(decimals, 1, 2000))
    # the censored bound and the values it stands for are drawn close to the limit
    fine = quantum.scaleb(-data.draw(st.integers(0, 2)))
    x = limit + data.draw(st.integers(-12, 12)) * fine
    assume(x > 0)
    test = make(*kind, limit, decimals)
    try:
        verdict = run(test, f"{q}{x}").verdict
    except ValidationFailed:
        return  # refusing to judge is always safe
    # At the test's precision the qualifier applies to rounded values; finer, to any value.
    exact = x == x.quantize(quantum)
    step = quantum if exact else quantum / 100
    v = data.draw(st.sampled_from([x, limit])) + data.draw(st.integers(-60, 60)) * step
    assume(v >= 0 and QUALIFIERS[q](v, x))
    assert run(test, str(v)).verdict == verdict


@st.composite
def number_like(draw) -> str:
    q = draw(st.sampled_from(["", "<", "<=", ">", ">=", "≤", "≥", "= ", "<<"]))
    sign = draw(st.sampled_from(["", "+", "-", "--"]))
    digits = draw(st.text("0123456789", max_size=25))
    frac = draw(st.one_of(st.just(""), st.text("0123456789.", max_size=12).map(lambda t: "." + t)))
    exp = draw(st.one_of(st.just(""), st.from_regex(r"[eE][+-]?[0-9]{1,6}", fullmatch=True)))
    return f"{q}{draw(st.sampled_from(['', ' ']))}{sign}{digits}{frac}{exp}"


ALL_KINDS = [T["VIAB"], T["ENDOTOXIN"], T["CD14-CD11B"], T["STERILITY"], T["KARYOTYPE"], WHOLE]


@given(
    st.sampled_from(ALL_KINDS),
    st.one_of(st.text(max_size=80), number_like()),
    st.one_of(st.text(max_size=12), st.sampled_from(["%", "EU/mL", ""])),
    st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["CD14", "CD11b"])),
)
def test_judge_refuses_any_text_only_with_validation_failed(test, value, unit, analyte):
    try:
        j = run(test, value, unit, analyte=analyte)
    except ValidationFailed as err:
        assert set(err.fields) <= {"value", "unit", "analyte"} and err.fields
        return
    assert j.verdict in (P, A, F, Verdict.PENDING)
    assert len(value) <= 60
