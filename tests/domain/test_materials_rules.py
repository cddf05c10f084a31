"""The three material and equipment rules at their date edges (hypothesis): a material lot is
usable through its whole expiry day, judged by the calendar of the facility's zone; an instrument
is in calibration from its calibration day through its due day, and not after a calibration that
found it out of tolerance until it passes again; a material lot reaches the lots its run made and
the lots harvested after its passage."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.clock import expires_at, local_date
from lotrack.domain.materials import (
    CalibrationFact,
    LotMade,
    MaterialLotFact,
    UseFact,
    calibration_refusal,
    lots_reached,
    material_refusal,
)
from lotrack.domain.states import MaterialLotState

DAYS = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31))
ZONES = st.sampled_from(
    ["Asia/Shanghai", "UTC", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
)
RECEIVED = dt.date(2024, 1, 1)


def approved(expires_on: dt.date) -> MaterialLotFact:
    return MaterialLotFact("MAT-2025-003", MaterialLotState.APPROVED, expires_on, RECEIVED)


@given(expiry=DAYS, use=DAYS)
def test_a_material_lot_is_usable_through_its_expiry_day_and_not_a_day_after(expiry, use):
    refused = material_refusal(approved(expiry), use)
    assert (refused is None) == (use <= expiry)
    if refused is not None:
        assert f"expired on {expiry}, before its use on {use}" in refused


@given(expiry=DAYS, zone=ZONES, seconds=st.integers(-2 * 86400, 2 * 86400))
def test_the_day_of_use_is_the_facilitys_calendar_day(expiry, zone, seconds):
    """A use at instant t is judged on t's date in the zone: usable exactly while t is before
    the end of the expiry day there (the same instant the unit labels' expiry uses)."""
    end = expires_at(expiry, zone)
    moment = end + dt.timedelta(seconds=seconds)
    usable = material_refusal(approved(expiry), local_date(moment, zone)) is None
    assert usable == (moment < end)


@given(state=st.sampled_from(list(MaterialLotState)), use=DAYS)
def test_only_an_approved_lot_may_be_used(state, use):
    fact = MaterialLotFact("MAT-2025-009", state, dt.date(2031, 1, 1), RECEIVED)
    refused = material_refusal(fact, use)
    assert (refused is None) == (state == MaterialLotState.APPROVED)
    if state != MaterialLotState.APPROVED:
        assert refused == f"Material lot MAT-2025-009 is {state}, not approved for use."


def test_a_lot_cannot_be_used_before_it_was_received():
    fact = MaterialLotFact("MAT-2025-001", MaterialLotState.APPROVED, dt.date(2027, 1, 1), RECEIVED)
    assert "was received on 2024-01-01" in str(material_refusal(fact, dt.date(2023, 12, 31)))
    assert material_refusal(fact, RECEIVED) is None


@given(performed=DAYS, length=st.integers(0, 400), offset=st.integers(-30, 430))
def test_an_instrument_is_in_calibration_from_its_calibration_through_its_due_day(
    performed, length, offset
):
    due = performed + dt.timedelta(days=length)
    day = performed + dt.timedelta(days=offset)
    refused = calibration_refusal("FCM-01", [CalibrationFact(performed, due, True)], day)
    assert (refused is None) == (performed <= day <= due)
    if day > due:
        assert f"its calibration was due on {due}" in refused
    if day < performed:
        assert "no passing calibration on or before" in refused


@given(
    performed=DAYS,
    found_after=st.integers(0, 200),
    offset=st.integers(0, 400),
    adjusted=st.booleans(),
)
def test_a_calibration_found_out_of_tolerance_puts_the_days_since_the_last_good_one_in_doubt(
    performed, found_after, offset, adjusted
):
    due = performed + dt.timedelta(days=365)
    found = performed + dt.timedelta(days=found_after)
    day = performed + dt.timedelta(days=offset)
    records = [CalibrationFact(performed, due, True, 1), CalibrationFact(found, found, False, 2)]
    if adjusted:  # adjusted and calibrated again the same day, entered after the failure
        records.append(CalibrationFact(found, found + dt.timedelta(days=365), True, 3))
    refused = calibration_refusal("CC-01", records, day)
    if day < found:
        assert refused is not None and f"out of tolerance on {found}" in refused
    elif adjusted:
        assert (refused is None) == (day <= found + dt.timedelta(days=365))
    else:
        assert refused is not None


@given(
    passage_harvest=DAYS,
    lot_harvests=st.lists(DAYS, min_size=1, max_size=6),
)
def test_a_passage_reaches_the_lots_of_its_run_harvested_after_it(passage_harvest, lot_harvests):
    lots = [LotMade(i + 1, 7, harvest) for i, harvest in enumerate(lot_harvests)]
    other_run = LotMade(99, 8, passage_harvest)
    reached = lots_reached([UseFact(7, passage_harvest)], [*lots, other_run])
    assert reached == [x.lot_id for x in lots if passage_harvest <= x.harvested_on]
    assert lots_reached([UseFact(7)], [*lots, other_run]) == [x.lot_id for x in lots]
    assert lots_reached([UseFact(None, None, 99)], lots) == [99]
    assert lots_reached([UseFact(None)], lots) == []  # a bank's result: no product lot
