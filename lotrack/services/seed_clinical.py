"""The clinical demo: two participants at SZ-GIMI, one ready for the bedside demo. Written through
the same services as real data (the audit trail shows who did what).

SZ-GIMI/SUBJ-001 is consented, eligible and prescribed 1×10^6 cells/kg at 70 kg (70×10^6 cells);
one 72×10^6-cell bag of CFM-2025-0001 is allocated to it, shipped and received at SZ-GIMI, so a
bedside check gives GO once the nurse records the thaw. SZ-GIMI/SUBJ-002 is registered only: its
page lists every problem that keeps it from being dosed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain import clinical as rules
from lotrack.models import User
from lotrack.services import clinical, shipment
from lotrack.services import lot as lots

SITE = "SZ-GIMI"
DEMO_LOT = "CFM-2025-0001"


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def seed_clinical(session: Session) -> None:
    """Load the clinical demo on top of seed_demo's users, sites and released lot."""
    nurse, tech = _user(session, "nurse"), _user(session, "tech")
    ready = clinical.register_patient(
        session,
        nurse,
        subject_code="SUBJ-001",
        weight_kg=Decimal("70.00"),
        indication="acute_gvhd",
        cohort="1e6/kg",
    )
    clinical.register_patient(
        session,
        nurse,
        subject_code="SUBJ-002",
        weight_kg=Decimal("55.50"),
        indication="chronic_gvhd",
        cohort="1e6/kg",
    )
    session.flush()
    today = dt.datetime.now(dt.UTC).date()
    clinical.record_consent(session, nurse, ready, today - dt.timedelta(days=7))
    answers = {key: True for key, _text in rules.INCLUSION}
    answers.update({key: False for key, _text in rules.EXCLUSION})
    clinical.assess_eligibility(session, nurse, ready, answers)
    rx = clinical.prescribe(session, nurse, ready, dose_per_kg=1_000_000, planned_on=today)
    session.flush()
    # The lot's last bag: tests that take the first units of the demo lot find them untouched.
    unit = lots.get_lot(session, DEMO_LOT).units[-1]
    clinical.allocate(session, tech, rx, [unit.din])
    session.flush()
    sent = shipment.ship(session, tech, site_code=SITE, dins=[unit.din])
    session.flush()
    shipment.receive(
        session,
        nurse,
        sent,
        received_dins=[unit.din],
        condition="intact; dry shipper sealed",
        temperature_record="data logger DS-07: -182 °C to -176 °C throughout",
    )
    session.flush()
