"""The test-date rule (`domain/result_dates.py`): not in the future by the facility's calendar, not
before the subject existed, and an incubation's start never moved earlier (hole 9 of issue 13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack import PROJECT_ROOT
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.result_dates import Start, check_test_date, date_refusal
from lotrack.domain.spec_file import parse_spec
from lotrack.domain.specs import Verdict, judge

TODAY = dt.date(2026, 3, 10)
HARVEST = Start(dt.date(2026, 2, 1), "the harvest of lot CFM-2026-0001")
DAY = dt.timedelta(days=1)
STERILITY = next(
    t
    for t in parse_spec(Path(PROJECT_ROOT, "specs/cfmsc-release.toml").read_text(), "release").tests
    if t.code == "STERILITY"
)


def refusal(performed_on: dt.date, **kw) -> str | None:
    """The field's reason for a refused date, or None when the date stands."""
    found = date_refusal(performed_on, today=kw.pop("today", TODAY), start=HARVEST, **kw)
    return None if found is None else found.field


# (case, performed_on, extra arguments, None when the date stands or what the field says)
CASES = [
    ("today", TODAY, {}, None),
    ("the harvest day itself", HARVEST.on, {}, None),
    ("between harvest and today", HARVEST.on + 10 * DAY, {}, None),
    ("tomorrow", TODAY + DAY, {}, f"in the future (today is {TODAY})"),
    ("next year", TODAY + 365 * DAY, {}, f"in the future (today is {TODAY})"),
    ("the day before harvest", HARVEST.on - DAY, {},
     f"not before {HARVEST.on} (the harvest of lot CFM-2026-0001)"),
    ("years before harvest", dt.date(2000, 1, 1), {},
     f"not before {HARVEST.on} (the harvest of lot CFM-2026-0001)"),
    ("incubated, same start as on record", HARVEST.on + 5 * DAY,
     {"incubation_days": 14, "incubation_on_record": HARVEST.on + 5 * DAY}, None),
    ("incubated, a later start (the wait grows)", HARVEST.on + 9 * DAY,
     {"incubation_days": 14, "incubation_on_record": HARVEST.on + 5 * DAY}, None),
    ("incubated, an earlier start (the incubation shrinks)", HARVEST.on + 4 * DAY,
     {"incubation_days": 14, "incubation_on_record": HARVEST.on + 5 * DAY},
     f"not before {HARVEST.on + 5 * DAY} (the incubation on record started then; a wrong start"
     " date is explained in a deviation or investigation)"),
    ("not incubated: a correction may move the date earlier", HARVEST.on + 4 * DAY,
     {"incubation_days": None, "incubation_on_record": HARVEST.on + 5 * DAY}, None),
    ("incubated, nothing on record yet", HARVEST.on, {"incubation_days": 14}, None),
    ("below both floors: the higher one is named", HARVEST.on - DAY,
     {"incubation_days": 14, "incubation_on_record": HARVEST.on + 2 * DAY},
     f"not before {HARVEST.on + 2 * DAY} (the incubation on record started then; a wrong start"
     " date is explained in a deviation or investigation)"),
    ("the future is named before the incubation", TODAY + DAY,
     {"incubation_days": 14, "incubation_on_record": TODAY}, f"in the future (today is {TODAY})"),
]  # fmt: skip


@pytest.mark.parametrize(
    "performed_on, kw, says", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_date_rule_case_by_case(performed_on, kw, says):
    assert refusal(performed_on, **kw) == says
    if says is None:
        check_test_date(performed_on, today=TODAY, start=HARVEST, **kw)
        return
    with pytest.raises(ValidationFailed) as err:
        check_test_date(performed_on, today=TODAY, start=HARVEST, test="Sterility", **kw)
    assert err.value.fields == {"performed_on": says}
    assert err.value.message.startswith("Sterility: ")


def test_the_messages_say_what_to_do():
    future = date_refusal(TODAY + DAY, today=TODAY, start=HARVEST, test="Viability")
    assert future is not None and future.message == (
        f"Viability: the test date {TODAY + DAY} is in the future; today is {TODAY} at the"
        " facility."
    )
    early = date_refusal(HARVEST.on - DAY, today=TODAY, start=HARVEST, test="Sterility")
    assert early is not None and f"before the harvest of lot CFM-2026-0001 on {HARVEST.on}" in (
        early.message
    )
    shrunk = date_refusal(
        HARVEST.on, today=TODAY, start=HARVEST, test="Sterility", incubation_days=14,
        incubation_on_record=HARVEST.on + 3 * DAY,
    )  # fmt: skip
    assert shrunk is not None
    for words in ("would shorten the 14-day incubation", "counts from inoculation",
                  "move later, never earlier", "deviation or an investigation"):  # fmt: skip
        assert words in shrunk.message


dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))
incubation = st.one_of(st.none(), st.integers(min_value=1, max_value=60))


@given(
    performed_on=dates,
    today=dates,
    start=dates,
    days=incubation,
    on_record=st.one_of(st.none(), dates),
)
def test_a_date_stands_exactly_between_its_floor_and_today(
    performed_on, today, start, days, on_record
):
    """An oracle written apart from the rule: the floor is the subject's start and, for an
    incubated test, the incubation already on record; the ceiling is the facility's today."""
    floor = start
    if days is not None and on_record is not None:
        floor = max(floor, on_record)
    found = date_refusal(
        performed_on,
        today=today,
        start=Start(start, "the start"),
        incubation_days=days,
        incubation_on_record=on_record,
    )
    assert (found is None) == (floor <= performed_on <= today)
    if found is not None:
        # The field names the bound that was crossed, so the person knows which date to enter.
        bound = today if performed_on > today else floor
        assert str(bound) in found.field and str(bound) in found.message


@given(first=dates, shifts=st.lists(st.integers(min_value=-30, max_value=30), max_size=6))
def test_no_chain_of_accepted_re_datings_reads_sterility_before_its_first_inoculation_ends(
    first, shifts
):
    """Hole 9 as a property: however an incubated entry is completed or corrected, each new date
    checked against the one on record, a final reading is accepted only once the FIRST recorded
    inoculation has incubated its full days."""
    today = first + dt.timedelta(days=40)
    start = Start(first - dt.timedelta(days=3), "the harvest")
    on_record = first
    for shift in shifts:
        proposed = on_record + dt.timedelta(days=shift)
        if (
            date_refusal(
                proposed,
                today=today,
                start=start,
                incubation_days=STERILITY.incubation_days,
                incubation_on_record=on_record,
            )
            is None
        ):
            on_record = proposed
    assert on_record >= first
    for recorded_on in (first + dt.timedelta(days=d) for d in range(0, 40)):
        try:
            verdict = judge(
                STERILITY,
                value="No growth",
                unit="",
                performed_on=on_record,
                recorded_on=recorded_on,
            ).verdict
        except ValidationFailed:
            continue
        assert verdict == Verdict.PASS
        assert recorded_on >= first + dt.timedelta(days=STERILITY.incubation_days)
