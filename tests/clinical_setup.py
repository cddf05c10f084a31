"""Clinical situations for the page and API tests, built through the services on the demo data.

The demo (services/seed_clinical.py): SZ-GIMI/SUBJ-001 is consented, eligible, prescribed
70×10^6 cells (1×10^6/kg at 70 kg) and has the last bag of CFM-2025-0001 (72×10^6 cells)
allocated, shipped and received at SZ-GIMI; nothing is thawed. nurse and nurse2 work there.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.documents.tokens import make_token
from lotrack.domain import clinical as rules
from lotrack.domain.permissions import Role
from lotrack.models import Allocation, BedsideScan, Patient, Prescription, Site, Unit, User
from lotrack.services import (
    accounts,
    adverse,
    api_tokens,
    bedside,
    clinical,
    cohort,
    containment,
    exceptional,
    shipment,
)
from lotrack.services import infusion as infusions
from lotrack.services import lot as lots
from lotrack.services.release import Lockout, SignIn
from tests.conftest import PASSWORDS, user

READY = "SZ-GIMI/SUBJ-001"
NOT_ASSESSED = "SZ-GIMI/SUBJ-002"
DEMO_LOT = "CFM-2025-0001"
LOCKOUT = Lockout(max_failures=5, lockout_minutes=15)
ALL_GOOD = {k: True for k, _ in rules.INCLUSION} | {k: False for k, _ in rules.EXCLUSION}


def db(app: Flask) -> Session:
    return app.extensions["lotrack_db"].sessionmaker()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """The date at SZ-GIMI (Asia/Shanghai): onsets and visits are the site's dates."""
    return now().astimezone(ZoneInfo("Asia/Shanghai")).date()


def ready_din(app: Flask) -> tuple[str, str]:
    """(DIN, check character) of the unit allocated to SUBJ-001 and received at SZ-GIMI."""
    with db(app) as s:
        unit = s.scalars(
            select(Unit)
            .join(Allocation, Allocation.unit_id == Unit.id)
            .join(Prescription, Allocation.prescription_id == Prescription.id)
            .join(Patient, Prescription.patient_id == Patient.id)
            .where(Patient.wristband == READY)
        ).one()
        return unit.din, unit.check_character


def free_din(app: Flask, lot_number: str = DEMO_LOT, index: int = 0) -> tuple[str, str]:
    """A unit of the lot that the demo did not allocate."""
    with db(app) as s:
        unit = lots.get_lot(s, lot_number).units[index]
        return unit.din, unit.check_character


def label(app: Flask, din: str) -> str:
    """What the label's QR code holds: the verification address with the signed token."""
    key = app.extensions["lotrack_signing_key"]
    return f"{app.config['LOTRACK_PUBLIC_BASE_URL']}/v/{make_token(key, 'U', din)}"


def thaw(app: Flask, din: str, minutes_ago: int = 5, nurse: str = "nurse") -> None:
    with db(app) as s:
        infusions.record_thaw(s, user(s, nurse), din, now() - dt.timedelta(minutes=minutes_ago))
        s.commit()


def investigator_of(s: Session, site_id: int) -> User:
    """The site's investigator: the demo's at its sites, else one made for the test."""
    found = s.scalars(
        select(User).where(User.site_id == site_id, User.role == Role.INVESTIGATOR)
    ).first()
    if found is not None:
        return found
    made = accounts.create_user(
        s,
        None,
        username=f"doctor-{site_id}",
        full_name="Test Site Investigator",
        role="investigator",
        password=f"demo-doctor-{site_id}-password",
        site_code=s.get_one(Site, site_id).code,
        must_change_password=False,
    )
    s.flush()
    return made


def cohort_of(s: Session, code: str, amount: int = 2_000_000, basis: str = "per_kg") -> str:
    """The dose cohort `code`, recorded by the medical director when missing; its code."""
    if cohort.named(s, code) is None:
        cohort.add_cohort(s, user(s, "md"), code=code, dose_basis=basis, amount=amount)
        s.flush()
    return code


def enrol(
    app: Flask,
    subject: str,
    *,
    nurse: str = "nurse",
    weight: str = "70.00",
    consent: bool = True,
    cohort: str = "1e6/kg",
) -> str:
    """A consented, eligible patient with a prescription of the cohort's dose (1×10^6 cells/kg),
    registered by the nurse, assessed and prescribed by the site's investigator; its wristband."""
    with db(app) as s:
        actor = user(s, nurse)
        p = clinical.register_patient(
            s,
            actor,
            subject_code=subject,
            weight_kg=Decimal(weight),
            indication="acute_gvhd",
            cohort=cohort,
            age_band="18-64y",
            sex="female",
        )
        s.flush()
        if consent:
            doctor = investigator_of(s, p.site_id)
            clinical.record_consent(s, actor, p, today() - dt.timedelta(days=1))
            clinical.assess_eligibility(s, doctor, p, ALL_GOOD)
            clinical.prescribe(s, doctor, p, planned_on=today())
        s.commit()
        return p.wristband


def allocate(app: Flask, wristband: str, din: str) -> None:
    with db(app) as s:
        p = clinical.get_patient(s, user(s, "qa"), wristband)
        rx = s.scalars(select(Prescription).where(Prescription.patient_id == p.id)).one()
        clinical.allocate(s, user(s, "tech"), rx, [din])
        s.commit()


def ship(app: Flask, din: str, site: str = "SZ-GIMI", *, received: bool | None = True) -> str:
    """Ship one unit; receive it (received=True), report it missing (False) or leave it in transit
    (None). Returns the shipment number."""
    with db(app) as s:
        sent = shipment.ship(s, user(s, "tech"), site_code=site, dins=[din])
        s.flush()
        if received is not None:
            receiver = user(s, "nurse" if site == "SZ-GIMI" else "nurse-bj")
            shipment.receive(
                s,
                receiver,
                sent,
                received_dins=[din] if received else [],
                condition="intact",
                temperature_record="logger: below -150 °C throughout",
            )
        s.commit()
        return sent.number


def recall(app: Flask, lot_number: str = DEMO_LOT) -> None:
    with db(app) as s:
        containment.contain(
            s,
            user(s, "qa"),
            kind="recall",
            sign_in=SignIn("qa", "demo-qa-password", "recalled", "test: sterility failure"),
            lockout=LOCKOUT,
            lot=lots.get_lot(s, lot_number),
        )
        s.commit()


def site_user(
    app: Flask, username: str = "nurse-bj", site: str = "BJ-CIP", role: str = "clinical"
) -> str:
    """A clinical user (or investigator) of another site; returns an API token for it."""
    with db(app) as s:
        made = accounts.create_user(
            s,
            None,
            username=username,
            full_name="Beijing Site Nurse" if role == "clinical" else "Beijing Investigator",
            role=role,
            password=f"demo-{username}-password",
            site_code=site,
            must_change_password=False,
        )
        s.flush()
        token = api_tokens.create_token(s, None, made)
        s.commit()
        return token


# The demo bag's volume: the demo prescription (70 kg × 1×10^6/kg) takes the 72×10^6 bag whole.
GIVEN = {"volume_ml": Decimal("18.00")}
GIVEN_JSON = {"volume_ml": "18.00"}  # the same, as an API body carries it
WITNESS = {
    "witness": "nurse2",
    "witness_password": PASSWORDS["nurse2"],
    "witness_meaning": "witnessed",
}


def infuse(app: Flask, wristband: str, din: str, volume_ml: str = "18.00") -> None:
    """Thaw, a GO check and the infusion, by nurse with nurse2 signing as witness."""
    thaw(app, din)
    with db(app) as s:
        nurse = user(s, "nurse")
        scan, verdict = bedside.check_scan(
            s,
            nurse,
            key=app.extensions["lotrack_signing_key"],
            patient_text=wristband,
            scan_text=label(app, din),
        )
        assert verdict.go, verdict.reasons
        s.flush()
        infusions.record_infusion(
            s, nurse, scan, started_at=now(), volume_ml=Decimal(volume_ml), **WITNESS
        )
        s.commit()


def adverse_event(
    app: Flask, wristband: str, grade: int = 3, attribution: str = "probable"
) -> None:
    with db(app) as s:
        doctor = user(s, "doctor")
        adverse.record_adverse_event(
            s,
            doctor,
            clinical.get_patient(s, doctor, wristband),
            term="Infusion related reaction",
            grade=grade,
            onset_on=today(),
            attribution=attribution,
            seriousness=["hospitalization"] if grade >= 3 else [],
            outcome="recovered",
        )
        s.commit()


def exceptional_release(app: Flask, wristband: str, lot_number: str = "CFM-2025-0002") -> str:
    """The lot released by exception for the patient `wristband` (QA and the medical director
    signed), accepted by the treating physician (nurse, at SZ-GIMI) and the sponsor told, as
    before any allocation: the request's number."""
    with db(app) as s:
        qa, md = user(s, "qa"), user(s, "md")
        er = exceptional.request_release(
            s,
            qa,
            lots.get_lot(s, lot_number),
            physician="Dr. Demo",
            patient=wristband,
            request="no alternative treatment",
            requested_on=now().date(),
            risk_assessment="sterility pending; benefit outweighs the risk",
        )
        s.flush()
        for who, meaning in (
            (qa, "exceptional release approved (QA)"),
            (md, "exceptional release approved (medical director)"),
        ):
            sign_in = SignIn(who.username, PASSWORDS[who.username], meaning, "urgent")
            exceptional.sign_release(s, who, er, sign_in, LOCKOUT)
        accepted = "exceptional release accepted (treating physician)"
        nurse = user(s, "nurse")
        exceptional.accept_release(
            s, nurse, er, SignIn("nurse", PASSWORDS["nurse"], accepted, "for my patient"), LOCKOUT
        )
        exceptional.record_notification(
            s,
            qa,
            recipient_role="sponsor",
            recipient="Sponsor pharmacovigilance",
            method="e-mail",
            notified_at=now() - dt.timedelta(minutes=1),
            er=er,
        )
        s.commit()
        return er.number


def exceptional_unit(app: Flask, subject: str = "SUBJ-040") -> tuple[str, str, str]:
    """A unit of CFM-2025-0002 released by exception for a new patient, allocated to that
    patient, received at SZ-GIMI and thawed: (wristband, DIN, check)."""
    wristband = enrol(app, subject)
    exceptional_release(app, wristband)
    din, check = free_din(app, "CFM-2025-0002")
    allocate(app, wristband, din)
    ship(app, din)
    thaw(app, din)
    return wristband, din, check


def scans(app: Flask) -> int:
    with db(app) as s:
        return s.scalar(select(func.count()).select_from(BedsideScan)) or 0
