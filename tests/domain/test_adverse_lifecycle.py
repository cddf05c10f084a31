"""An adverse event's state is computed from its history, and the reports it makes due: the
sponsor within a day of awareness of a serious event; the regulator within 7 days (fatal or
life-threatening) or 15 days of awareness of a SUSAR (serious, related, unexpected)."""

from __future__ import annotations

import datetime as dt

import pytest

from lotrack.domain import adverse as life

AWARE = dt.date(2026, 3, 2)
DAY = dt.timedelta(days=1)


def first(**kw) -> life.Entry:
    base = {
        "aware_on": AWARE,
        "grade": 2,
        "outcome": "recovering",
        "attribution": "possible",
        "seriousness": (),
    }
    return life.Entry(**{**base, **kw})


@pytest.mark.parametrize(
    "seriousness, attribution, expected, sponsor, regulatory",
    [
        ((), "definite", False, None, None),  # not serious: nothing is due
        (("hospitalization",), "unrelated", False, 1, None),  # serious, not related
        (("hospitalization",), "unlikely", False, 1, None),
        (("hospitalization",), "possible", True, 1, None),  # expected by the brochure
        (("hospitalization",), "possible", False, 1, 15),  # SUSAR
        (("medically_important",), "probable", False, 1, 15),
        (("life_threatening",), "definite", False, 1, 7),
        (("death",), "possible", False, 1, 7),
        (("death",), "possible", True, 1, None),
        (("disability", "life_threatening"), "probable", False, 1, 7),
    ],
)
def test_the_clock_by_seriousness_relatedness_and_expectedness(
    seriousness, attribution, expected, sponsor, regulatory
):
    history = life.states(first(seriousness=seriousness, attribution=attribution), [])
    clock = life.clock(history, expected=expected)
    assert clock.sponsor_due == (AWARE + sponsor * DAY if sponsor else None)
    assert clock.regulatory_due == (AWARE + regulatory * DAY if regulatory else None)
    assert clock.regulatory_days == regulatory


def test_a_follow_up_that_makes_the_event_serious_starts_the_clock_then():
    later = AWARE + 10 * DAY
    history = life.states(first(), [life.Entry(later, grade=4, seriousness=("life_threatening",))])
    clock = life.clock(history, expected=False)
    assert (clock.sponsor_due, clock.regulatory_due) == (later + DAY, later + 7 * DAY)


def test_a_susar_that_becomes_fatal_is_due_7_days_from_then_unless_sooner():
    history = life.states(
        first(seriousness=("hospitalization",)),
        [life.Entry(AWARE + 3 * DAY, grade=5, outcome="fatal", seriousness=("death",))],
    )
    assert life.clock(history, expected=False).regulatory_due == AWARE + 10 * DAY  # not 15
    history = life.states(
        first(seriousness=("hospitalization",)),
        [life.Entry(AWARE + 12 * DAY, seriousness=("hospitalization", "life_threatening"))],
    )
    assert life.clock(history, expected=False).regulatory_due == AWARE + 15 * DAY  # sooner


def test_the_state_is_computed_from_the_history_and_the_worst_grade_kept():
    history = life.states(
        first(grade=2),
        [
            life.Entry(AWARE + DAY, grade=3, treatment="steroids"),
            life.Entry(AWARE + 5 * DAY, grade=1, attribution="probable"),
            life.Entry(AWARE + 9 * DAY, outcome="recovered", resolved_on=AWARE + 8 * DAY),
        ],
    )
    now = history[-1]
    assert (now.grade, now.worst_grade, now.attribution) == (1, 3, "probable")
    assert (now.outcome, now.resolved_on, now.closed) == ("recovered", AWARE + 8 * DAY, True)
    assert [s.grade for s in history] == [2, 3, 1, 1]
    assert not history[0].closed


def test_overdue_reports_are_those_due_before_today_and_not_made():
    clock = life.Clock(AWARE + DAY, AWARE + 15 * DAY, 15)
    today = AWARE + 16 * DAY
    late = life.overdue(clock, {}, today)
    assert [(o.kind, o.days_late) for o in late] == [("sponsor", 15), ("regulatory", 1)]
    made = {life.ReportKind.SPONSOR: AWARE}
    assert [o.kind for o in life.overdue(clock, made, today)] == ["regulatory"]
    assert life.overdue(clock, {}, AWARE + 15 * DAY)[1:] == []  # due today is not late yet
