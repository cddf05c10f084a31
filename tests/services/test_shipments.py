"""Shipments through their service: released, unexpired units sent once to a trial site, received
there with condition and temperature record, the received set reconciled with the shipped set
(a missing unit is a recorded discrepancy), and each site seeing only its own shipments. A unit's
state follows it: stored -> in transit -> received (or missing)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lotrack.models import Shipment, Site, User
from lotrack.services import audit, clinical, shipment
from lotrack.services import lot as lots
from tests.conftest import user
from tests.services.test_clinical import (
    DEMO_LOT,
    clinical_user,
    count,
    dins,
    enrol,
    prescribed,
    released_lot,
)

CONDITION = "intact; dry shipper sealed"
LOGGER = "data logger DS-07: -182 to -176 °C throughout"


def send(s: Session, units: list[str], site: str = "SZ-GIMI", by: str = "tech") -> Shipment:
    sent = shipment.ship(s, user(s, by), site_code=site, dins=units)
    s.flush()
    return sent


def receive(s: Session, nurse: User, sent: Shipment, got: list[str]) -> Shipment:
    done = shipment.receive(
        s, nurse, sent, received_dins=got, condition=CONDITION, temperature_record=LOGGER
    )
    s.flush()
    return done


def state(s: Session, din: str) -> str:
    unit = lots.get_unit(s, din)
    s.refresh(unit)
    return unit.state


def where(s: Session, din: str) -> tuple[str | None, bool, str | None]:
    """(site code, in transit, shipment number) of a unit."""
    at = shipment.location(s, lots.get_unit(s, din))
    return (s.get(Site, at.site_id).code if at.site_id else None, at.in_transit, at.shipment)


def test_released_units_are_shipped_once_under_a_new_number(session):
    s = session
    one, two = dins(s, DEMO_LOT)[:2]
    assert where(s, one) == (None, False, None)  # still at the manufacturer
    assert state(s, one) == "stored"
    with pytest.raises(Forbidden):
        send(s, [one], by="nurse")
    sent = send(s, [f" {one.lower()} ", two])
    assert (state(s, one), state(s, two)) == ("in_transit", "in_transit")
    year = utcnow().year
    assert re.fullmatch(rf"SHP-{year}-\d{{4}}", sent.number)
    assert (sent.status, sent.site.code) == ("in_transit", "SZ-GIMI")
    assert sent.shipped_by_id == user(s, "tech").id and sent.received_at is None
    assert {i.unit.din for i in sent.items} == {one, two}
    assert where(s, one) == (None, True, sent.number)
    later = send(s, [dins(s, DEMO_LOT)[2]], site="bj-cip")
    assert int(later.number[-4:]) == int(sent.number[-4:]) + 1
    with pytest.raises(Conflict) as again:  # a unit leaves the manufacturer once
        send(s, [one], site="BJ-ACH")
    assert again.value.fields == {one: f"is in transit to SZ-GIMI ({sent.number})"}
    s.commit()
    assert [e.action for e in audit.history(s, "shipment", str(sent.id))] == ["create"]
    moved = audit.history(s, "unit", str(lots.get_unit(s, one).id))[-1]
    assert (moved.action, moved.actor) == ("unit_in_transit", "tech")


@pytest.mark.parametrize(
    "what", ["quarantined", "expired", "unknown", "twice", "none", "site", "destroyed"]
)
def test_a_shipment_that_cannot_be_sent_names_why_and_writes_nothing(session, what):
    s = session
    good = dins(s, DEMO_LOT)[0]
    cases = {
        "quarantined": ([dins(s, "CFM-2025-0002")[0]], "SZ-GIMI", "is QUARANTINE; only a"),
        "unknown": (["A999925999999"], "SZ-GIMI", "unknown DIN"),
        "twice": ([good, good.lower()], "SZ-GIMI", "one or more distinct DINs"),
        "none": ([" "], "SZ-GIMI", "one or more distinct DINs"),
        "site": ([good], "XX-NOWHERE", "unknown site"),
    }
    if what == "expired":
        cases["expired"] = (
            [released_lot(s, units=1, expires_on=dt.date(2025, 9, 1)).units[0].din],
            "SZ-GIMI",
            "expired at the end of 2025-09-01 (Asia/Shanghai)",
        )
    if what == "destroyed":
        gone = released_lot(s, units=1).units[0]
        gone.state = "destroyed"  # no verb destroys a unit yet; the guard must hold when one does
        s.flush()
        cases["destroyed"] = ([gone.din], "SZ-GIMI", "The unit is recorded as destroyed.")
    units, site, why = cases[what]
    before = count(s, Shipment)
    with pytest.raises(ValidationFailed) as refused:
        send(s, units, site=site)
    assert any(why in reason for reason in refused.value.fields.values())
    assert count(s, Shipment) == before


def test_a_receipt_reconciles_what_arrived_with_what_was_shipped(session):
    s, nurse = session, user(session, "nurse")
    one, two = dins(s, DEMO_LOT)[:2]
    sent = send(s, [one, two])
    with pytest.raises(Forbidden):
        receive(s, user(s, "tech"), sent, [one, two])
    for missing in ("condition", "temperature_record"):
        kw = {"condition": CONDITION, "temperature_record": LOGGER} | {missing: " "}
        with pytest.raises(ValidationFailed) as refused:
            shipment.receive(s, nurse, sent, received_dins=[one, two], **kw)
        assert missing in refused.value.fields and sent.status == "in_transit"
    stray = dins(s, "CFM-2025-0002")[0]
    receive(s, nurse, sent, [one.lower(), stray])
    assert sent.status == "discrepancy"
    assert sent.discrepancy == f"missing: {two}; not on the shipment: {stray}"
    assert (sent.received_by_id, sent.condition, sent.temperature_record) == (
        nurse.id,
        CONDITION,
        LOGGER,
    )
    assert {i.unit.din: i.received for i in sent.items} == {one: True, two: False}
    assert where(s, one) == ("SZ-GIMI", False, sent.number)
    assert where(s, two) == (None, False, sent.number)  # lost: at no site, not usable
    assert (state(s, one), state(s, two)) == ("received", "missing")
    with pytest.raises(Conflict):
        receive(s, nurse, sent, [two])
    with pytest.raises(ValidationFailed) as lost:  # its cold chain is unknown: never sent again
        send(s, [two], site="BJ-ACH")
    assert lost.value.fields == {
        two: "The unit was shipped and never received: its cold chain is unknown. Do not use it."
    }
    s.commit()
    actions = [e.action for e in audit.history(s, "shipment", str(sent.id))]
    assert actions[0] == "create" and len(actions) == 2


def test_a_complete_receipt_has_no_discrepancy(session):
    s = session
    one = dins(s, DEMO_LOT)[0]
    sent = receive(s, user(s, "nurse"), send(s, [one]), [one])
    assert (sent.status, sent.discrepancy) == ("received", None)
    assert sent.received_at is not None and where(s, one)[0] == "SZ-GIMI"


def test_each_site_sees_and_receives_its_own_shipments_only(session):
    s = session
    one, two = dins(s, DEMO_LOT)[:2]
    to_sz, to_bj = send(s, [one]), send(s, [two], site="BJ-CIP")
    bj = clinical_user(s, "bjnurse", "BJ-CIP")
    with pytest.raises(NotFound):
        shipment.get_shipment(s, bj, to_sz.number)
    with pytest.raises(NotFound):
        shipment.get_shipment(s, user(s, "nurse"), to_bj.number)
    with pytest.raises(Forbidden):
        receive(s, bj, to_sz, [one])
    assert to_sz.status == "in_transit"
    assert [x.number for x in shipment.list_shipments(s, bj).items] == [to_bj.number]
    sz = [x.number for x in shipment.list_shipments(s, user(s, "nurse")).items]
    assert to_sz.number in sz and to_bj.number not in sz
    for reader in ("tech", "qa", "md", "admin"):
        assert shipment.get_shipment(s, user(s, reader), to_bj.number.lower()) is to_bj
        listed = {x.number for x in shipment.list_shipments(s, user(s, reader)).items}
        assert {to_sz.number, to_bj.number} <= listed
    assert receive(s, bj, to_bj, [two]).status == "received"


def test_a_unit_allocated_to_a_patient_goes_to_that_patients_site_only(session):
    s = session
    nurse = user(s, "nurse")
    p = enrol(s, nurse, "SUBJ-SHIP")
    din = dins(s, DEMO_LOT)[0]
    clinical.allocate(s, user(s, "tech"), prescribed(s, nurse, p), [din])
    s.flush()
    before = count(s, Shipment)
    with pytest.raises(ValidationFailed) as refused:
        send(s, [din], site="BJ-CIP")
    assert refused.value.fields == {
        din: "allocated to SZ-GIMI/SUBJ-SHIP, a patient of another site"
    }
    assert count(s, Shipment) == before and lots.get_unit(s, din).state == "stored"
    assert send(s, [din], site="SZ-GIMI").site.code == "SZ-GIMI"
