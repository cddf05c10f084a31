"""Every field that takes DINs reads them as a scanner sends them: ISBT 128's 001 ("=" + DIN +
flags) from a 1D scanner, the eye-readable DIN with its check character, or the bare 13
characters. Flags or a check character that contradict the DIN, or the label's other bar code,
are refused naming the field, and nothing is written."""

from __future__ import annotations

import datetime as dt

import pytest

from lotrack.db import utcnow
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.isbt128 import check_character, eye_readable, type3_flags
from lotrack.domain.isbt128_structures import encode_001, encode_003
from lotrack.services import clinical, shipment
from lotrack.services import infusion as infusions
from lotrack.services import lot as lots
from tests.conftest import user
from tests.services.test_bedside_service import s  # noqa: F401 (fixture)
from tests.services.test_clinical import DEMO_LOT, dins, enrol, prescribed
from tests.services.test_shipments import receive, send, state


def wrong_flags(din: str) -> str:
    """The DIN's 001 with type 3 flags of another checksum: a misread or a misprint."""
    other = (int(type3_flags(din)) - 60 + 1) % 37 + 60
    return f"={din}{other:02d}"


def test_scanned_001s_ship_receive_allocate_and_thaw(s):  # noqa: F811
    nurse, tech = user(s, "nurse"), user(s, "tech")
    din = dins(s, DEMO_LOT)[0]
    clinical.allocate(s, tech, prescribed(s, nurse, enrol(s, nurse, "P-SCAN")), [encode_001(din)])
    sent = send(s, [f"{eye_readable(din)} {check_character(din)}"])
    receive(s, nurse, sent, [encode_001(din)])
    assert state(s, din) == "received"
    infusions.record_thaw(s, nurse, encode_001(din), utcnow() - dt.timedelta(minutes=5))
    assert state(s, din) == "thawed"


@pytest.mark.parametrize("kind", ["flags", "check character", "product code"])
def test_a_contradicting_scan_is_refused_naming_the_field_and_nothing_is_written(s, kind):  # noqa: F811
    nurse, tech = user(s, "nurse"), user(s, "tech")
    din = dins(s, DEMO_LOT)[1]
    other = "0" if check_character(din) != "0" else "1"
    bad = {
        "flags": wrong_flags(din),
        "check character": f"{din}{other}",
        "product code": encode_003("YA000000"),
    }[kind]
    rx = prescribed(s, nurse, enrol(s, nurse, "P-BAD"))
    before = lots.get_unit(s, din).state
    calls = (
        ("units", lambda: clinical.allocate(s, tech, rx, [bad])),
        ("units", lambda: shipment.ship(s, tech, site_code="SZ-GIMI", dins=[bad])),
    )
    for field, call in calls:
        with pytest.raises(ValidationFailed) as refused:
            call()
        assert field in refused.value.fields, refused.value.fields
        assert "is not a valid DIN" in refused.value.message
    assert not rx.allocations and lots.get_unit(s, din).state == before
    sent = send(s, [din])
    with pytest.raises(ValidationFailed) as refused:
        shipment.receive(
            s, nurse, sent, received_dins=[bad], condition="intact", temperature_record="-150 °C"
        )
    assert "received" in refused.value.fields
    assert state(s, din) != "received"
