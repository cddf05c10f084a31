"""Whether a unit may go on toward a patient (domain/distribution.py), and the one clock that
judges expiry (domain/clock.py): at the end of the expiry date in the zone printed on the label."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.clock import expired, expires_at, local_date
from lotrack.domain.distribution import Severity, UnitFacts, lot_status, unit_reasons
from lotrack.domain.states import LotState, UnitState

SH = "Asia/Shanghai"
EXPIRY = dt.date(2028, 8, 17)
UTC = dt.UTC


def at_shanghai(day: dt.date, hour: int, minute: int) -> dt.datetime:
    """A Shanghai wall-clock time as a UTC instant (Shanghai is UTC+8, no daylight saving)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - dt.timedelta(
        hours=8
    )


def test_a_unit_expires_at_the_end_of_its_date_in_the_labels_zone():
    last_minute, first_minute = at_shanghai(EXPIRY, 23, 59), at_shanghai(EXPIRY, 0, 0)
    assert not expired(EXPIRY, last_minute, SH) and not expired(EXPIRY, first_minute, SH)
    midnight = at_shanghai(EXPIRY + dt.timedelta(days=1), 0, 0)
    assert expired(EXPIRY, midnight, SH)
    # At that midnight the UTC date is still the expiry date: judging by it would say "in date"
    # for eight more hours.
    assert midnight.date() == EXPIRY
    assert expires_at(EXPIRY, SH) == midnight
    assert local_date(midnight, SH) == EXPIRY + dt.timedelta(days=1)
    assert expired(None, last_minute, SH)  # no date: never read as in date


@given(st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2040, 1, 1)))
def test_expired_is_exactly_past_the_local_end_of_the_day(naive):
    now = naive.replace(tzinfo=UTC)
    assert expired(EXPIRY, now, SH) == (local_date(now, SH) > EXPIRY)


def facts(**kw) -> UnitFacts:
    base = dict(
        din="A999926000001",
        lot_number="CFM-2026-0001",
        lot_state=LotState.RELEASED,
        expires_on=EXPIRY,
        unit_state=UnitState.STORED,
    )
    return UnitFacts(**(base | kw))  # type: ignore[arg-type]


NOW = at_shanghai(dt.date(2027, 1, 1), 12, 0)


def codes(f: UnitFacts, patient_id: int | None = None) -> list[str]:
    return [r.code for r in unit_reasons(f, now=NOW, zone=SH, patient_id=patient_id)]


def test_a_released_stored_unit_in_date_may_go_on():
    assert codes(facts()) == []


def test_an_exceptional_release_goes_to_its_patient_only_once_its_conditions_are_met():
    lot = dict(lot_state=LotState.EXCEPTIONAL_RELEASE, exceptional_patient_id=7)
    assert codes(facts(**lot), patient_id=7) == []
    assert codes(facts(**lot), patient_id=8) == ["exceptional_other_patient"]
    pending = facts(**lot, exceptional_problems=("the sponsor's notification is not logged",))
    assert codes(pending, patient_id=7) == ["exceptional_conditions"]
    nobody = facts(lot_state=LotState.EXCEPTIONAL_RELEASE, exceptional_patient_id=None)
    assert codes(nobody, patient_id=7) == ["exceptional_no_patient"]


STATES = st.sampled_from([s.value for s in LotState])
UNIT_STATES = st.sampled_from([s.value for s in UnitState])


@given(
    STATES,
    UNIT_STATES,
    st.dates(dt.date(2025, 1, 1), dt.date(2029, 1, 1)),
    st.one_of(st.none(), st.integers(1, 3)),
    st.integers(1, 3),
)
def test_reasons_come_most_serious_first_and_no_unsafe_unit_passes(
    lot_state, unit_state, expiry, exceptional_for, patient
):
    f = facts(
        lot_state=lot_state,
        unit_state=unit_state,
        expires_on=expiry,
        exceptional_patient_id=exceptional_for,
    )
    reasons = unit_reasons(f, now=NOW, zone=SH, patient_id=patient)
    assert [r.severity for r in reasons] == sorted(r.severity for r in reasons)
    unsafe = (
        lot_state not in (LotState.RELEASED, LotState.EXCEPTIONAL_RELEASE)
        or (lot_state == LotState.EXCEPTIONAL_RELEASE and exceptional_for != patient)
        or expired(expiry, NOW, SH)
        or unit_state in (UnitState.DESTROYED, UnitState.MISSING, UnitState.INFUSED)
    )
    assert bool(reasons) == unsafe
    if lot_state == LotState.RECALLED:
        assert reasons[0].severity == Severity.RECALL


def test_what_a_label_reads():
    assert lot_status("RELEASED", EXPIRY, NOW, SH) == "RELEASED"
    after = at_shanghai(EXPIRY + dt.timedelta(days=1), 0, 0)
    assert lot_status("RELEASED", EXPIRY, after, SH) == "EXPIRED"
    assert lot_status("ON_HOLD", EXPIRY, after, SH) == "ON HOLD"  # held reads held, expired or not
    assert lot_status("RECALLED", EXPIRY, NOW, SH) == "RECALLED"
