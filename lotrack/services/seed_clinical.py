"""The clinical demo: the protocol's dose cohorts, two participants at SZ-GIMI, one ready for the
bedside demo. Written through the same services as real data (the audit trail shows who did
what): the medical director records the cohorts, the nurse registers and records consent, the
site's investigator assesses eligibility and prescribes.

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
from lotrack.services import clinical, cohort, shipment
from lotrack.services import lot as lots

SITE = "SZ-GIMI"
DEMO_LOT = "CFM-2025-0001"
# Demo dose levels (the protocol's "various dosages"; the demo's, not the trial's published ones).
COHORTS = (
    ("1e6/kg", "per_kg", 1_000_000),
    ("2e6/kg", "per_kg", 2_000_000),
    ("100e6", "fixed", 100_000_000),
)


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def seed_clinical(session: Session) -> None:
    """Load the clinical demo on top of seed_demo's users, sites and released lot."""
    nurse, tech = _user(session, "nurse"), _user(session, "tech")
    doctor, md = _user(session, "doctor"), _user(session, "md")
    for code, basis, amount in COHORTS:
        cohort.add_cohort(session, md, code=code, dose_basis=basis, amount=amount)
    session.flush()
    ready = clinical.register_patient(
        session,
        nurse,
        subject_code="SUBJ-001",
        weight_kg=Decimal("70.00"),
        indication="acute_gvhd",
        cohort="1e6/kg",
        age_band="18-64y",
        sex="female",
    )
    clinical.register_patient(
        session,
        nurse,
        subject_code="SUBJ-002",
        weight_kg=Decimal("55.50"),
        indication="chronic_gvhd",
        cohort="1e6/kg",
        age_band="12-17y",
        sex="male",
    )
    session.flush()
    today = dt.datetime.now(dt.UTC).date()
    clinical.record_consent(session, nurse, ready, today - dt.timedelta(days=7))
    answers = {key: True for key, _text in rules.INCLUSION}
    answers.update({key: False for key, _text in rules.EXCLUSION})
    clinical.assess_eligibility(session, doctor, ready, answers)
    rx = clinical.prescribe(session, doctor, ready, planned_on=today)
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
