"""Patients, their eligibility and consent, prescriptions and the allocation of units to them.

Site users see and act on their own site only; QA, the medical director and admins see every site.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lotrack.db import utcnow
from lotrack.domain import clinical as rules
from lotrack.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lotrack.domain.permissions import Role, require
from lotrack.domain.states import PrescriptionStatus
from lotrack.domain.text import N_, said
from lotrack.models import Allocation, Infusion, Patient, Prescription, Site, Unit, User
from lotrack.services import audit
from lotrack.services import lot as lots
from lotrack.services.common import Page, check_code, in_turn, norm, page_of


def site_scope(actor: User) -> int | None:
    """The site a user is bound to (clinical staff), or None for users who see every site."""
    return actor.site_id if actor.role == Role.CLINICAL else None


def _check_site(actor: User, site_id: int) -> None:
    scope = site_scope(actor)
    if scope is not None and scope != site_id:
        # Another site's patient is not shown to exist at all.
        raise NotFound(N_("No such patient at your site."), {"patient": N_("not at your site")})


def list_patients(
    session: Session, actor: User, page: int = 1, per_page: int = 50
) -> Page[Patient]:
    require(actor.role, "clinical.read")
    stmt = select(Patient).options(selectinload(Patient.site)).order_by(Patient.wristband)
    if site_scope(actor) is not None:
        stmt = stmt.where(Patient.site_id == site_scope(actor))
    return page_of(session, stmt, page, per_page)


def get_patient(session: Session, actor: User, wristband: str) -> Patient:
    require(actor.role, "clinical.read")
    patient = session.scalar(select(Patient).where(Patient.wristband == norm(wristband)))
    if patient is None:
        raise NotFound(
            said("No patient %(patient)s.", patient=wristband), {"patient": N_("no such patient")}
        )
    _check_site(actor, patient.site_id)
    return patient


def register_patient(
    session: Session,
    actor: User,
    *,
    subject_code: str,
    weight_kg: Decimal,
    indication: str,
    cohort: str,
    site_code: str | None = None,
) -> Patient:
    """A participant at the actor's site, known only by a subject code."""
    require(actor.role, "clinical.write")
    code = check_code(subject_code, "subject_code")
    site = actor.site if actor.role == Role.CLINICAL else None
    if site is None:
        site = session.scalar(select(Site).where(Site.code == norm(site_code)))
    if site is None:
        raise ValidationFailed(N_("Name the trial site."), {"site": N_("unknown site")})
    fields: dict[str, str] = {}
    if weight_kg <= 0 or weight_kg > 400:
        fields["weight_kg"] = N_("between 0 and 400 kg")
    if indication not in rules.INDICATIONS:
        fields["indication"] = said("one of %(choices)s", choices=", ".join(rules.INDICATIONS))
    if not (cohort or "").strip():
        fields["cohort"] = N_("required")
    if fields:
        raise ValidationFailed(N_("The patient cannot be registered."), fields)
    wristband = f"{site.code}/{code}"
    if session.scalar(select(func.count()).where(Patient.wristband == wristband)):
        raise Conflict(
            said("%(code)s exists already at %(site)s.", code=code, site=site.code),
            {"subject_code": N_("already used")},
        )
    patient = Patient(
        site=site,
        subject_code=code,
        wristband=wristband,
        weight_kg=weight_kg,
        indication=indication,
        cohort=cohort.strip(),
        eligibility="{}",
    )
    audit.created(session, actor, patient)
    return patient


def record_consent(session: Session, actor: User, patient: Patient, consent_date: dt.date) -> None:
    require(actor.role, "clinical.write")
    _check_site(actor, patient.site_id)
    # The date at the patient's site: east of UTC the site's today is ahead of UTC's.
    if consent_date > utcnow().astimezone(ZoneInfo(patient.site.time_zone)).date():
        raise ValidationFailed(
            N_("Consent cannot be dated in the future."), {"consent_date": N_("future")}
        )
    audit.changed(
        session, actor, patient, {"consent_date": consent_date}, reason="informed consent recorded"
    )


def assess_eligibility(
    session: Session, actor: User, patient: Patient, answers: dict[str, bool]
) -> list[str]:
    """Record the checklist answers; returns what still makes the patient ineligible."""
    require(actor.role, "clinical.write")
    _check_site(actor, patient.site_id)
    known = {k for k, _ in rules.INCLUSION + rules.EXCLUSION}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ValidationFailed(
            N_("Unknown checklist items."), {k: N_("unknown item") for k in unknown}
        )
    audit.changed(
        session,
        actor,
        patient,
        {
            "eligibility": json.dumps(answers, sort_keys=True),
            "eligibility_by_id": actor.id,
            "eligibility_at": utcnow(),
        },
        reason="eligibility checklist assessed",
    )
    return problems_of(patient)


def problems_of(patient: Patient) -> list[str]:
    out = rules.eligibility_problems(json.loads(patient.eligibility or "{}"))
    if patient.consent_date is None:
        out.insert(0, said("informed consent not recorded"))
    return out


def prescribe(
    session: Session, actor: User, patient: Patient, *, dose_per_kg: int, planned_on: dt.date
) -> Prescription:
    require(actor.role, "clinical.write")
    _check_site(actor, patient.site_id)
    problems = problems_of(patient)
    if problems:
        raise Conflict(
            said(
                "An ineligible or unconsented patient cannot be dosed: %(problems)s.",
                problems=in_turn(problems),
            ),
            {"patient": N_("not eligible")},
        )
    rx = Prescription(
        patient=patient,
        dose_per_kg=dose_per_kg,
        weight_kg=patient.weight_kg,
        cells_needed=rules.cells_needed(dose_per_kg, Decimal(patient.weight_kg)),
        tolerance=Decimal("0.10"),
        planned_on=planned_on,
        status=PrescriptionStatus.OPEN,
        prescribed_by_id=actor.id,
    )
    audit.created(session, actor, rx)
    return rx


def get_prescription(session: Session, actor: User, rx_id: int) -> Prescription:
    rx = session.get(Prescription, rx_id)
    if rx is None:
        raise NotFound(
            said("No prescription %(id)s.", id=rx_id), {"prescription": N_("no such prescription")}
        )
    _check_site(actor, rx.patient.site_id)
    return rx


def allocate(session: Session, actor: User, rx: Prescription, dins: list[str]) -> list[Allocation]:
    """Set units aside for a prescription: units that may go on to its patient (the one rule of
    domain/distribution.py: lot state, exceptional release for this patient only, expiry in the
    facility's zone, the unit's condition), unallocated, and enough cells."""
    require(actor.role, "allocation.write")
    wanted = lots.read_dins(dins)
    units = list(session.scalars(select(Unit).where(Unit.din.in_(wanted))))
    found = {u.din for u in units}
    fields: dict[str, str] = {}
    missing = [d for d in wanted if d not in found]
    if missing:
        fields["units"] = said("unknown DIN %(dins)s", dins=", ".join(missing))
    for u in units:
        if reasons := lots.unit_refusals(session, u, patient_id=rx.patient_id):
            fields[u.din] = lots.refusal_text(reasons)
        elif session.scalar(select(func.count()).where(Allocation.unit_id == u.id)):
            fields[u.din] = N_("allocated already")
    if fields:
        raise ValidationFailed(N_("The units cannot be allocated."), fields)
    have = sum(a.unit.cells for a in rx.allocations)
    total = have + sum(u.cells for u in units)
    if total < rx.cells_needed:
        raise ValidationFailed(
            said(
                "These units give %(total)s cells; the prescription needs %(needed)s.",
                total=f"{total:,}",
                needed=f"{rx.cells_needed:,}",
            ),
            {"units": N_("not enough cells for the dose")},
        )
    ceiling = Decimal(rx.cells_needed) * (1 + Decimal(rx.tolerance))
    if total > ceiling:
        raise ValidationFailed(
            said(
                "These units give %(total)s cells, more than the prescribed %(needed)s"
                " (+%(tolerance)s).",
                total=f"{total:,}",
                needed=f"{rx.cells_needed:,}",
                tolerance=f"{Decimal(rx.tolerance):.0%}",
            ),
            {"units": N_("more cells than the dose allows")},
        )
    out = []
    for u in units:
        a = Allocation(prescription=rx, unit=u, allocated_by_id=actor.id)
        audit.created(session, actor, a)
        out.append(a)
    return out


def cells_infused(session: Session, rx: Prescription) -> int:
    return (
        session.scalar(
            select(func.coalesce(func.sum(Unit.cells), 0))
            .join(Infusion, Infusion.unit_id == Unit.id)
            .where(Infusion.prescription_id == rx.id)
        )
        or 0
    )


def checklist() -> dict[str, Any]:
    return {"inclusion": rules.INCLUSION, "exclusion": rules.EXCLUSION}


def require_same_site(actor: User, site_id: int) -> None:
    if site_scope(actor) is not None and site_scope(actor) != site_id:
        raise Forbidden(N_("This belongs to another site."), {"site": N_("not your site")})
