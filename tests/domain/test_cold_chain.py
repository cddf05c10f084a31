"""A logger's CSV export read and judged (domain/cold_chain.py): each format's columns and dates,
an unreadable file refused naming its line, and the judging rule's edges — a reading exactly at
the limit is in range, one hundredth over is an excursion, the order of the file does not matter,
blank readings and gaps leave the cold chain unknown, and only the journey is judged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain import cold_chain as cc
from lotrack.domain.distribution import UnitFacts, unit_reasons, unit_status
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.states import LotState, UnitState

UTC = dt.UTC
T0 = dt.datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
LIMIT = cc.Range(max_c=Decimal("-135"))
GENERIC = cc.BUILT_IN["generic"]


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def generic(rows: list[tuple[dt.datetime, str]]) -> bytes:
    return ("timestamp,temperature\n" + "".join(f"{t.isoformat()},{v}\n" for t, v in rows)).encode()


def trace(values: list[str], step: int = 5) -> cc.Trace:
    return cc.parse(
        generic([(T0 + minutes(i * step), v) for i, v in enumerate(values)]), GENERIC, "UTC"
    )


def judged(values: list[str], limits: cc.Range = LIMIT, step: int = 5) -> cc.Judgement:
    end = T0 + minutes((len(values) - 1) * step)
    return cc.judge(trace(values, step), limits, T0, end)


# ---- reading the formats ----------------------------------------------------------------------


def test_each_built_in_format_reads_its_columns_dates_and_zone():
    temptale = (
        "Sensitech TempTale 4\nSerial,TT4-0012345\n\n"
        "Date/Time,Temperature (°C)\n12/01/2026 08:00:00,-180.5\n12/01/2026 08:05:00,-179.0\n"
    ).encode()
    got = cc.parse(temptale, cc.BUILT_IN["temptale"], "UTC").readings
    assert [(r.at, r.celsius, r.line) for r in got] == [
        (T0 + dt.timedelta(hours=8), Decimal("-180.5"), 5),
        (T0 + dt.timedelta(hours=8, minutes=5), Decimal("-179.0"), 6),
    ]
    elpro = "Date Time;T1 [°C]\n01.12.2026 08:00:00;-180,5\n".encode()
    assert cc.parse(elpro, cc.BUILT_IN["elpro"], "UTC").readings[0].celsius == Decimal("-180.5")
    logtag = b"Date,Time,Temperature (\xc2\xb0C)\n01/12/2026,08:00:00,-150.0\n"
    assert cc.parse(logtag, cc.BUILT_IN["logtag"], "UTC").readings[0].at == T0 + dt.timedelta(
        hours=8
    )
    offset = b"timestamp,temperature\n2026-12-01T08:00:00+08:00,-150\n"
    assert cc.parse(offset, GENERIC, "UTC").readings[0].at == T0
    # A time without an offset is the clock of the PC that exported it: the zone it is read in.
    assert cc.parse(logtag, cc.BUILT_IN["logtag"], "Asia/Shanghai").readings[0].at == T0
    assert cc.parse(offset, GENERIC, "America/New_York").readings[0].at == T0


def test_a_configured_mapping_adds_a_format_and_a_bad_one_is_refused_at_start():
    found = cc.mappings_from(
        '{"site": {"time_column": "When", "temperature_column": "Probe",'
        ' "time_format": "%Y/%m/%d %H:%M", "zone": "Asia/Shanghai"}}'
    )
    assert set(found) >= {"generic", "temptale", "elpro", "logtag", "site"}
    read = cc.parse(b"When,Probe\n2026/12/01 08:00,-190\n", found["site"], "UTC")
    assert read.readings[0].at == T0
    for bad in ('{"x": {"time_column": "a"}}', "[1]", '{"x": {"time_column": "a",'
                ' "temperature_column": "b", "zone": "Mars/Base"}}', "{"):  # fmt: skip
        with pytest.raises(ValidationFailed) as err:
            cc.mappings_from(bad)
        assert "LOTRACK_LOGGER_MAPPINGS" in err.value.fields


@pytest.mark.parametrize(
    ("data", "line", "why"),
    [
        (b"", 1, "no header line"),
        (b"time,temp\n1,2\n", 1, "no header line"),
        (b"timestamp,temperature\n", 2, "no temperature reading"),
        (b"timestamp,temperature\n2026-12-01T00:00:00Z,\n", 2, "no temperature reading"),
        (b"timestamp,temperature\n2026-12-01T00:00:00Z,-150\nyesterday,-150\n", 3, "not iso"),
        (b"timestamp,temperature\n2026-12-01T00:00:00Z,cold\n", 2, "not a number"),
        (b"timestamp,temperature\n2026-12-01T00:00:00Z,NaN\n", 2, "not a number"),
        (b"timestamp,temperature\n2026-12-01T00:00:00Z\n", 2, "fewer columns"),
        (b"\xff\xfe\x00\x81\x00", 1, "not text"),
    ],
)
def test_an_unreadable_file_is_refused_naming_the_line_and_why(data, line, why):
    with pytest.raises(ValidationFailed) as err:
        cc.parse(data, GENERIC, "UTC")
    said = err.value.fields["logger_file"]
    assert said.startswith(f"line {line}:") and why in said, said


def test_blank_readings_are_counted_not_read_as_temperatures():
    got = trace(["-180", "", "NA", "---", "-181"])
    assert [str(r.celsius) for r in got.readings] == ["-180", "-181"] and got.blanks == 3


# ---- judging ----------------------------------------------------------------------------------


def test_a_reading_exactly_at_the_limit_is_in_range_and_a_hundredth_over_is_not():
    assert not judged(["-180", "-135", "-135.00", "-180"]).excursion
    over = judged(["-180", "-134.99", "-180"])
    assert over.excursion and over.codes == ("above",)
    (problem,) = over.problems
    assert (problem.start, problem.end, problem.extreme) == (
        T0 + minutes(5), T0 + minutes(10), Decimal("-134.99")
    )  # fmt: skip


@given(
    st.lists(st.decimals(min_value=-200, max_value=-100, places=2), min_size=1, max_size=30),
)
def test_an_excursion_is_exactly_some_reading_above_the_limit(values):
    verdict = judged([str(v) for v in values])
    assert verdict.excursion == any(v > Decimal("-135") for v in values)
    assert verdict.highest == max(values)


@given(
    st.lists(st.decimals(min_value=-200, max_value=-100, places=1), min_size=1, max_size=20),
    st.randoms(use_true_random=False),
)
def test_the_order_of_the_file_does_not_change_the_judgement(values, rnd):
    rows = [(T0 + minutes(i * 5), str(v)) for i, v in enumerate(values)]
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    end = T0 + minutes((len(values) - 1) * 5)
    ordered = cc.judge(cc.parse(generic(rows), GENERIC, "UTC"), LIMIT, T0, end)
    assert cc.judge(cc.parse(generic(shuffled), GENERIC, "UTC"), LIMIT, T0, end) == ordered


@given(st.integers(min_value=1, max_value=90), st.integers(min_value=0, max_value=60))
def test_a_stretch_out_of_range_is_held_only_beyond_the_allowance(out_minutes, allowed):
    rows = [(T0, "-180"), (T0 + minutes(1), "-120"), (T0 + minutes(1 + out_minutes), "-180")]
    limits = cc.Range(Decimal("-135"), allowed=minutes(allowed), max_gap=minutes(120))
    verdict = cc.judge(cc.parse(generic(rows), GENERIC, "UTC"), limits, T0, rows[-1][0])
    assert verdict.excursion == (allowed == 0 or out_minutes > allowed)
    assert len(verdict.problems) == 1  # shown even when within the allowance


@given(st.integers(min_value=1, max_value=120))
def test_time_without_readings_longer_than_the_gap_is_an_excursion(gap):
    rows = [(T0, "-180"), (T0 + minutes(gap), "-180")]
    limits = cc.Range(Decimal("-135"), max_gap=minutes(30))
    verdict = cc.judge(cc.parse(generic(rows), GENERIC, "UTC"), limits, T0, T0 + minutes(gap))
    assert verdict.excursion == (gap > 30)
    assert verdict.codes == (("gap",) if gap > 30 else ())


def test_blank_readings_leave_a_gap_that_the_gap_rule_judges():
    assert not judged(["-180", "", "-180"]).excursion  # 10 minutes without a reading
    assert judged(["-180", *[""] * 6, "-180"]).codes == ("gap",)  # 35 minutes


def test_only_the_journey_is_judged_and_its_ends_must_be_covered():
    rows = [(T0 - minutes(30), "22.5"), (T0 - minutes(1), "-20")]  # in the lab, being started
    rows += [(T0 + minutes(i * 5), "-180") for i in range(13)]
    rows += [(T0 + minutes(61), "18.0")]  # out of the shipper at the site
    data = cc.parse(generic(rows), GENERIC, "UTC")
    verdict = cc.judge(data, LIMIT, T0, T0 + minutes(60))
    assert not verdict.excursion and (verdict.judged, verdict.ignored) == (13, 3)
    late = cc.judge(data, LIMIT, T0 - minutes(40), T0 + minutes(60))  # dispatched earlier
    assert late.excursion and late.codes == ("above",)
    stopped = cc.parse(generic(rows[:-1]), GENERIC, "UTC")  # the logger stopped at +60 minutes
    uncovered = cc.judge(stopped, LIMIT, T0, T0 + minutes(100))  # received long after that
    assert uncovered.codes == ("gap",)
    nothing = cc.judge(data, LIMIT, T0 + minutes(62), T0 + minutes(63))
    assert nothing.excursion and nothing.judged == 0


def test_a_lower_bound_is_judged_too():
    limits = cc.Range(max_c=Decimal("8"), min_c=Decimal("2"))
    assert judged(["5", "1.9", "5"], limits).codes == ("below",)
    assert not judged(["2", "8", "2.0"], limits).excursion


# ---- the one distribution rule reads the fact -------------------------------------------------


def test_a_unit_held_by_an_excursion_may_not_go_on_and_reads_on_hold():
    f = UnitFacts(
        din="A999926000001",
        lot_number="CFM-2026-0001",
        lot_state=LotState.RELEASED,
        expires_on=dt.date(2030, 1, 1),
        unit_state=UnitState.RECEIVED,
        cold_chain_hold="SHP-2026-0001",
    )
    (reason,) = unit_reasons(f, now=T0, zone="Asia/Shanghai")
    assert reason.code == "cold_chain_excursion" and "SHP-2026-0001" in reason.text
    assert unit_status(f, T0, "Asia/Shanghai") == "ON HOLD"
    recalled = UnitFacts(**{**f.__dict__, "lot_state": LotState.RECALLED})
    assert unit_status(recalled, T0, "Asia/Shanghai") == "RECALLED"
    assert unit_reasons(recalled, now=T0, zone="UTC")[0].code == "recalled"
