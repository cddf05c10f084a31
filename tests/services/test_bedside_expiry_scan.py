"""The label's expiry bar code (ISBT 128 005) at the bedside: scanned beside the QR code or the
DIN, it must say the unit's recorded expiry, in the site's zone, to the minute; anything else
scanned there is a NO-GO, never "nothing scanned". The scanned text is kept with the attempt and
can never be changed afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lotrack.domain.isbt128_expiry import encode_005, expiry_local
from lotrack.domain.isbt128_structures import encode_001, encode_003
from lotrack.services import clock
from lotrack.services import lot as lots
from tests.conftest import execute_as_owner, user
from tests.services.test_bedside_service import qr, ready, s, scan  # noqa: F401 (fixture s)
from tests.services.test_clinical import DEMO_LOT, dins


@pytest.fixture
def go_case(s):  # noqa: F811
    """A nurse, a patient and their allocated, received, thawed unit: a GO without the expiry."""
    nurse = user(s, "nurse")
    din = dins(s, DEMO_LOT)[0]
    patient = ready(s, nurse, "P-EXP", din)
    _row, verdict = scan(s, nurse, patient.wristband, qr(s, din))
    assert verdict.go, verdict.reasons
    return nurse, patient, din


def test_the_labels_own_expiry_keeps_the_go_and_is_kept_with_the_attempt(s, go_case):  # noqa: F811
    nurse, patient, din = go_case
    expires_on = lots.get_unit(s, din).lot.expires_on
    printed = encode_005(expires_on, clock.facility_zone(s))
    row, verdict = scan(s, nurse, patient.wristband, qr(s, din), expiry_text=printed)
    assert verdict.go, verdict.reasons
    assert row.expiry_text == printed


@pytest.mark.parametrize(
    "shift",
    [dt.timedelta(days=1), dt.timedelta(days=-1), dt.timedelta(minutes=-1), dt.timedelta(days=365)],
)
def test_an_expiry_other_than_the_record_is_no_go(s, go_case, shift):  # noqa: F811
    nurse, patient, din = go_case
    zone = clock.facility_zone(s)
    recorded = lots.get_unit(s, din).lot.expires_on
    other = encode_005(expiry_local(recorded, zone) + shift, zone)
    row, verdict = scan(s, nurse, patient.wristband, qr(s, din), expiry_text=other)
    assert not verdict.go and "expiry_mismatch" in verdict.codes
    assert any(recorded.isoformat() in r for r in verdict.reasons), verdict.reasons
    assert not row.go and row.expiry_text == other


def test_what_is_not_an_expiry_in_the_expiry_field_is_no_go(s, go_case):  # noqa: F811
    nurse, patient, din = go_case
    for wrong in (
        encode_001(din),  # the DIN's bar code in the wrong field
        encode_003("YA000000"),
        "&>0263662359",  # day 366 of 2026, which has 365
        "&>1263652359",  # century digit 1
        "&>02636523",  # too short
        "garbage",
    ):
        row, verdict = scan(s, nurse, patient.wristband, qr(s, din), expiry_text=wrong)
        assert not verdict.go and verdict.codes == ("expiry_unreadable",), (wrong, verdict)
        assert row.expiry_text == wrong


def test_the_scanned_expiry_of_an_attempt_is_never_changed(s, go_case, demo_app):  # noqa: F811
    nurse, patient, din = go_case
    row, _verdict = scan(s, nurse, patient.wristband, qr(s, din), expiry_text="&>0263652359")
    s.commit()
    for column, value in (("expiry_text", "&>0993652359"), ("exceptional_acknowledged", True)):
        with pytest.raises(DBAPIError, match="never overwritten"):
            execute_as_owner(
                demo_app,
                f"UPDATE bedside_scan SET {column} = :value WHERE id = :id",
                {"value": value, "id": row.id},
            )
    kept = s.execute(text("SELECT expiry_text FROM bedside_scan WHERE id = :id"), {"id": row.id})
    assert kept.scalar_one() == "&>0263652359"
