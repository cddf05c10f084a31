"""Demo work waiting on the roles the rest of the demo leaves idle, so that every demo user's
home page lists something to do (services/worklist.py):

- the medical director, the SZ-GIMI nurse and investigator: a serious adverse event of
  SZ-GIMI/SUBJ-001 (fever needing a hospital stay before dosing, unrelated to the product), its
  sponsor notification due tomorrow and its outcome still to be followed up;
- the BJ-CIP and BJ-ACH investigators: a participant registered at each site, its eligibility
  checklist not yet answered (not consented: the enrolment report does not count it);
- the administrator: a new QA account awaiting a second administrator's approval.
Written through the same services as real data, after the rest of the demo."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain.permissions import Role
from lotrack.models import User
from lotrack.services import adverse, clinical, enrolment

# (investigator, subject code, weight, indication, cohort, age band, sex)
WAITING_PATIENTS = (
    ("doctor-cip", "SUBJ-101", "32.00", "chronic_gvhd", "2e6/kg", "12-17y", "female"),
    ("doctor-ach", "SUBJ-201", "64.50", "acute_gvhd", "1e6/kg", "18-64y", "male"),
)
PENDING_QA = "qa.new"


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def seed_waiting_work(session: Session) -> None:
    """Load the demo's waiting work (see the module's note)."""
    doctor = _user(session, "doctor")
    ready = clinical.get_patient(session, doctor, "SZ-GIMI/SUBJ-001")
    today = adverse.site_today(ready)
    adverse.record_adverse_event(
        session,
        doctor,
        ready,
        term="Fever",
        grade=3,
        onset_on=today,
        aware_on=today,
        attribution="unrelated",
        seriousness=["hospitalization"],
        outcome="recovering",
        description="admitted overnight for fever during conditioning, before dosing",
    )
    for username, subject, weight, indication, cohort, band, sex in WAITING_PATIENTS:
        clinical.register_patient(
            session,
            _user(session, username),
            subject_code=subject,
            weight_kg=Decimal(weight),
            indication=indication,
            cohort=cohort,
            age_band=band,
            sex=sex,
        )
    # The real path: an invitation whose signing role waits on a second administrator.
    enrolment.invite(
        session,
        _user(session, "admin"),
        username=PENDING_QA,
        full_name="Demo New QA Reviewer",
        role=Role.QA,
        site_code=None,
        reason="new QA reviewer joining the release team",
    )
    session.flush()
