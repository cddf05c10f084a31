"""Issue 13, hole 4: one clock for expiry. A unit may be used until its expiry date ends in the
facility's zone, the zone its label prints ("Expires 2027-03-15 23:59 (Asia/Shanghai)"), never by
the UTC date: at 23:59 there it is usable, at 00:00 it is expired, for allocation, shipping, the
label and `/v/` alike. The clock is frozen by replacing `utcnow` in the modules that read it."""

from __future__ import annotations

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from lotrack.documents.tokens import make_token
from lotrack.domain.errors import ValidationFailed
from lotrack.models import Allocation, Lot, Shipment
from lotrack.request_scope import printing
from lotrack.services import clinical, shipment, unit_labels
from tests.conftest import user
from tests.documents.pdfs import page_texts
from tests.services.test_clinical import count, enrol, prescribed, released_lot

EXPIRES_ON = dt.date(2027, 3, 15)
ZONE = ZoneInfo("Asia/Shanghai")  # the demo facility's zone (LOTRACK_SITE_TIME_ZONE)
LAST_MINUTE = dt.datetime.combine(EXPIRES_ON, dt.time(23, 59), ZONE)  # 15:59 UTC that day
MIDNIGHT = dt.datetime.combine(EXPIRES_ON + dt.timedelta(days=1), dt.time(0, 0), ZONE)
# Every module that asks for the time in these paths (services/clock.py is new with the change).
CLOCKS = (
    "lotrack.services.clock",
    "lotrack.services.lot",
    "lotrack.services.clinical",
    "lotrack.services.shipment",
    "lotrack.services.coa",
    "lotrack.services.unit_labels",
    "lotrack.services.token_verification",
)
EXPIRED = f"The unit expired at the end of {EXPIRES_ON} (Asia/Shanghai)."


def freeze(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    utc = moment.astimezone(dt.UTC)
    assert utc.date() == EXPIRES_ON  # by the UTC date neither moment is past the expiry date
    for name in CLOCKS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "utcnow"):
            monkeypatch.setattr(module, "utcnow", lambda: utc)


@pytest.fixture
def lot(session: Session) -> Lot:
    """A released lot of 2 bags expiring on EXPIRES_ON."""
    made = released_lot(session, units=2, expires_on=EXPIRES_ON)
    session.commit()
    return made


def test_allocation_ends_when_the_expiry_date_ends_in_the_facility_zone(session, lot, monkeypatch):
    s, tech, nurse = session, user(session, "tech"), user(session, "nurse")
    rx = prescribed(s, nurse, enrol(s, nurse, "EXP-001"))  # one bag
    s.commit()
    din, before = lot.units[0].din, count(s, Allocation)
    freeze(monkeypatch, MIDNIGHT)
    with pytest.raises(ValidationFailed) as refused:
        clinical.allocate(s, tech, rx, [din])
    assert refused.value.fields == {din: EXPIRED}
    assert count(s, Allocation) == before
    freeze(monkeypatch, LAST_MINUTE)
    (done,) = clinical.allocate(s, tech, rx, [din])
    assert done.unit.din == din


def test_shipping_ends_when_the_expiry_date_ends_in_the_facility_zone(session, lot, monkeypatch):
    s, tech = session, user(session, "tech")
    din = lot.units[0].din
    before = count(s, Shipment)
    freeze(monkeypatch, MIDNIGHT)
    with pytest.raises(ValidationFailed) as refused:
        shipment.ship(s, tech, site_code="SZ-GIMI", dins=[din])
    assert refused.value.fields == {din: EXPIRED}
    assert count(s, Shipment) == before
    freeze(monkeypatch, LAST_MINUTE)
    sent = shipment.ship(s, tech, site_code="SZ-GIMI", dins=[din])
    s.flush()
    assert [i.unit.din for i in sent.items] == [din]


def test_a_label_printed_at_0000_there_says_expired_and_at_2359_does_not(
    demo_app: Flask, session, lot, monkeypatch
):
    s, tech = session, user(session, "tech")
    unit = lot.units[0]
    with demo_app.app_context():
        settings = printing()
        freeze(monkeypatch, LAST_MINUTE)
        (text,) = page_texts(unit_labels.print_labels(s, tech, [unit], settings).pdf)
        freeze(monkeypatch, MIDNIGHT)
        reprint = unit_labels.print_labels(s, tech, [unit], settings, "expired: relabel")
        (late,) = page_texts(reprint.pdf)
    one_line = " ".join(text.split())  # the eye-readable expiry beside its bar code wraps
    assert f"Expires {EXPIRES_ON} 23:59 (Asia/Shanghai)" in one_line and "NOT FOR USE" not in text
    assert "EXPIRED — NOT FOR USE" in late


def test_v_reads_expired_from_0000_in_the_facility_zone(demo_app: Flask, lot, monkeypatch):
    token = make_token(demo_app.extensions["lotrack_signing_key"], "U", lot.units[0].din)
    client = demo_app.test_client()
    for moment, status in ((LAST_MINUTE, "RELEASED"), (MIDNIGHT, "EXPIRED")):
        freeze(monkeypatch, moment)
        body = client.get(f"/v/{token}", headers={"Accept": "application/json"}).get_json()
        assert (body["genuine"], body["status"]) == (True, status), moment
    page = client.get(f"/v/{token}").get_data(as_text=True)
    assert f"{EXPIRES_ON} 23:59 (Asia/Shanghai)" in page  # the page names the zone, as the label
