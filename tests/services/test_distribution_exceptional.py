"""Issue 13, hole 1 at allocation and shipping: a lot released by exception goes to the one patient
its request names, and only once the treating physician has accepted it under signature and the
sponsor's notification is logged (EudraLex Vol 4 Part IV §11.5). Allocation and shipping ask the
one distribution rule (domain/distribution.py) with the patient concerned."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import ValidationFailed
from lotrack.models import Allocation, ExceptionalRelease, Lot, Prescription, Shipment
from lotrack.services import clinical, exceptional, shipment
from lotrack.services import lot as lots
from lotrack.services.release import Lockout, SignIn
from tests.conftest import user
from tests.services.test_clinical import count, enrol, prescribed

LOCKOUT = Lockout(5, 15)
FAILING_LOT = "CFM-2025-0003"  # demo: failed viability, open OOS; 5 bags of 72 x 10^6 cells


def released_by_exception(s: Session, rx: Prescription) -> tuple[Lot, ExceptionalRelease]:
    """CFM-2025-0003 released by exception (QA and the medical director signed) for rx's patient."""
    lot = lots.get_lot(s, FAILING_LOT)
    er = exceptional.request_release(
        s,
        user(s, "qa"),
        lot,
        physician="Dr. Demo Physician, SZ-GIMI",
        patient=rx.patient.wristband,
        request="no alternative product; the patient's condition is deteriorating",
        requested_on=dt.date(2025, 11, 1),
        risk_assessment="viability 78.9% against 80%: dose adjusted for viable cells",
    )
    s.flush()
    for who, meaning in (
        ("qa", "exceptional release approved (QA)"),
        ("md", "exceptional release approved (medical director)"),
    ):
        sign_in = SignIn(who, f"demo-{who}-password", meaning, "no alternative")
        exceptional.sign_release(s, user(s, who), er, sign_in, LOCKOUT)
    s.flush()
    assert lot.state == "EXCEPTIONAL_RELEASE"
    return lot, er


@pytest.fixture
def two(session: Session) -> tuple[Prescription, Prescription]:
    """Two SZ-GIMI patients prescribed one bag each: A (named by the release) and B."""
    nurse = user(session, "nurse")
    return (
        prescribed(session, nurse, enrol(session, nurse, "EX-A")),
        prescribed(session, nurse, enrol(session, nurse, "EX-B")),
    )


def test_a_unit_released_by_exception_for_one_patient_is_not_allocated_to_another(session, two):
    s, tech = session, user(session, "tech")
    rx_a, rx_b = two
    lot, _er = released_by_exception(s, rx_a)
    din = lot.units[0].din
    before = count(s, Allocation)
    with pytest.raises(ValidationFailed) as refused:
        clinical.allocate(s, tech, rx_b, [din])
    assert list(refused.value.fields) == [din]  # the field names the DIN
    why = refused.value.fields[din]
    assert f"Lot {FAILING_LOT} was released by exception for another patient only." in why
    assert count(s, Allocation) == before


def test_its_patient_gets_it_once_the_physician_accepted_and_the_sponsor_was_told(session, two):
    s = session
    tech, nurse, qa = (user(s, n) for n in ("tech", "nurse", "qa"))
    rx_a, _rx_b = two
    lot, er = released_by_exception(s, rx_a)
    din, spare = lot.units[0].din, lot.units[1].din
    before = count(s, Allocation), count(s, Shipment)

    def refusal(call) -> str:
        with pytest.raises(ValidationFailed) as refused:
            call()
        assert len(refused.value.fields) == 1
        return next(iter(refused.value.fields.values()))

    why = refusal(lambda: clinical.allocate(s, tech, rx_a, [din]))
    assert f"the treating physician has not accepted {er.number}" in why
    assert f"the sponsor's notification of {er.number} is not logged" in why
    # Nor is a unit of the lot shipped, allocated or not, while its conditions are open.
    why = refusal(lambda: shipment.ship(s, tech, site_code="SZ-GIMI", dins=[spare]))
    assert "has not accepted" in why

    accepted = SignIn(
        "nurse",
        "demo-nurse-password",
        "exceptional release accepted (treating physician)",
        "the patient's physician accepts the risk",
    )
    exceptional.accept_release(s, nurse, er, accepted, LOCKOUT)
    s.flush()
    why = refusal(lambda: clinical.allocate(s, tech, rx_a, [din]))
    assert "has not accepted" not in why and "sponsor's notification" in why
    assert (count(s, Allocation), count(s, Shipment)) == before

    exceptional.record_notification(
        s,
        qa,
        recipient_role="sponsor",
        recipient="Sponsor safety desk",
        method="email",
        notified_at=utcnow() - dt.timedelta(minutes=5),
        er=er,
    )
    s.flush()
    (allocation,) = clinical.allocate(s, tech, rx_a, [din])
    assert allocation.unit.din == din
    sent = shipment.ship(s, tech, site_code="SZ-GIMI", dins=[din])  # to its patient's site
    s.flush()
    assert [i.unit.din for i in sent.items] == [din]
    # Still refused to anyone else, and an unallocated unit may now go on only toward A.
    why = refusal(lambda: clinical.allocate(s, tech, two[1], [spare]))
    assert "for another patient only" in why
