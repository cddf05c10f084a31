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

from lotrack.config import DEFAULTS
from lotrack.db import utcnow
from lotrack.domain import clinical as rules
from lotrack.domain import dose as dose_rules
from lotrack.domain.dose import DoseBasis
from lotrack.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lotrack.domain.permissions import SITE_ROLES, require
from lotrack.domain.states import PrescriptionStatus
from lotrack.domain.text import N_, Said, said
from lotrack.models import (
    Allocation,
    Infusion,
    Patient,
    Prescription,
    Site,
    Unit,
    User,
)
from lotrack.services import audit
from lotrack.services import cohort as cohorts
from lotrack.services import dose as doses
from lotrack.services import lot as lots
from lotrack.services.common import Page, check_code, in_turn, norm, page_of

DEFAULT_TOLERANCE = Decimal(DEFAULTS["DOSE_TOLERANCE"])


def site_scope(actor: User) -> int | None:
    """The site a user is bound to (clinical staff), or None for users who see every site."""
    return actor.site_id if actor.role in SITE_ROLES else None


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
    age_band: str | None = None,
    sex: str | None = None,
) -> Patient:
    """A participant at the actor's site, known only by a subject code, in one of the
    protocol's dose cohorts; age band and sex for enrolment (never a date of birth)."""
    require(actor.role, "clinical.write")
    code = check_code(subject_code, "subject_code")
    site = actor.site if actor.role in SITE_ROLES else None
    if site is None:
        site = session.scalar(select(Site).where(Site.code == norm(site_code)))
    if site is None:
        raise ValidationFailed(N_("Name the trial site."), {"site": N_("unknown site")})
    fields: dict[str, str] = {}
    if weight_kg <= 0 or weight_kg > 400:
        fields["weight_kg"] = N_("between 0 and 400 kg")
    if indication not in rules.INDICATIONS:
        fields["indication"] = said("one of %(choices)s", choices=", ".join(rules.INDICATIONS))
    found = cohorts.named(session, cohort)
    if found is None:
        fields["cohort"] = cohorts.choices(session)
    if age_band is not None and age_band not in rules.AGE_BANDS:
        fields["age_band"] = said("one of %(choices)s", choices=", ".join(rules.AGE_BANDS))
    if sex is not None and sex not in rules.SEXES:
        fields["sex"] = said("one of %(choices)s", choices=", ".join(rules.SEXES))
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
        dose_cohort=found,
        age_band=age_band,
        sex=sex,
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
    require(actor.role, "eligibility.assess")
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
    session: Session,
    actor: User,
    patient: Patient,
    *,
    planned_on: dt.date,
    dose_per_kg: int | None = None,
    fixed_cells: int | None = None,
    cohort: str | None = None,
    tolerance: Decimal = DEFAULT_TOLERANCE,
) -> Prescription:
    """A dose for one infusion, at the dose level of a protocol cohort (the patient's unless
    another is named): in cells/kg (cells needed = dose × weight) or a fixed number of cells. A
    dose typed as well must be the cohort's, so a slip is caught. The tolerance (±) is the
    protocol's setting, kept on the prescription."""
    require(actor.role, "prescription.write")
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
    level = cohorts.named(session, cohort) if cohort else patient.dose_cohort
    if level is None:
        raise ValidationFailed(
            N_("Name the protocol's dose cohort."), {"cohort": cohorts.choices(session)}
        )
    fields: dict[str, str] = {}
    per_kg = level.dose_basis == DoseBasis.PER_KG
    if dose_per_kg is not None and fixed_cells is not None:
        fields["fixed_cells"] = N_("either a dose per kg or a fixed dose, not both")
    typed, name = (dose_per_kg, "dose_per_kg") if per_kg else (fixed_cells, "fixed_cells")
    other = "fixed_cells" if per_kg else "dose_per_kg"
    if (fixed_cells if per_kg else dose_per_kg) is not None:
        fields[other] = said(
            "cohort %(cohort)s is dosed by %(basis)s",
            cohort=level.code,
            basis=Said(_basis_name(level.dose_basis)),  # said in the reader's language
        )
    elif typed is not None and typed != level.amount:
        fields[name] = said(
            "cohort %(cohort)s's dose is %(amount)s", cohort=level.code, amount=f"{level.amount:,}"
        )
    if fields:
        raise ValidationFailed(N_("The prescription does not match its cohort."), fields)
    weight = Decimal(patient.weight_kg)
    if per_kg:
        needed = rules.cells_needed(level.amount, weight)
    else:
        needed = rules.cells_needed(level.amount, Decimal(1))  # the same bounds, per patient
    rx = Prescription(
        patient=patient,
        dose_basis=level.dose_basis,
        dose_per_kg=level.amount if per_kg else None,
        fixed_cells=None if per_kg else level.amount,
        cohort=level,
        weight_kg=weight,
        cells_needed=needed,
        tolerance=dose_rules.check_tolerance(str(tolerance)),
        planned_on=planned_on,
        status=PrescriptionStatus.OPEN,
        prescribed_by_id=actor.id,
    )
    audit.created(session, actor, rx)
    return rx


def _basis_name(basis: str) -> str:
    return N_("cells per kg") if basis == DoseBasis.PER_KG else N_("a fixed number of cells")


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
    facility's zone, the unit's condition), unallocated, and giving the dose by the one rule of
    domain/dose.py: whole containers, the last one drawn, within tolerance, endotoxin within
    the limit. The units are taken in the order given: the last is the one drawn from."""
    require(actor.role, "allocation.write")
    wanted = lots.read_dins(dins)
    found_units = {u.din: u for u in session.scalars(select(Unit).where(Unit.din.in_(wanted)))}
    units = [found_units[d] for d in wanted if d in found_units]
    fields: dict[str, str] = {}
    missing = [d for d in wanted if d not in found_units]
    if missing:
        fields["units"] = said("unknown DIN %(dins)s", dins=", ".join(missing))
    for u in units:
        if reasons := lots.unit_refusals(session, u, patient_id=rx.patient_id):
            fields[u.din] = lots.refusal_text(reasons)
        elif session.scalar(select(func.count()).where(Allocation.unit_id == u.id)):
            fields[u.din] = N_("allocated already")
    if fields:
        raise ValidationFailed(N_("The units cannot be allocated."), fields)
    plan, _containers = doses.plan_for(session, rx, units)
    if not plan.ok:
        template, params = dose_rules.refusal(plan, Decimal(rx.tolerance))
        raise ValidationFailed(said(template, **params), {"units": said(template, **params)})
    out = []
    for u in units:
        a = Allocation(prescription=rx, unit=u, allocated_by_id=actor.id)
        audit.created(session, actor, a)
        out.append(a)
    return out


def cells_infused(session: Session, rx: Prescription) -> int:
    """Cells infused under the prescription: the achieved cells recorded with each infusion
    (the unit's cells for one recorded before revision 0021, given whole then)."""
    return (
        session.scalar(
            select(func.coalesce(func.sum(func.coalesce(Infusion.achieved_cells, Unit.cells)), 0))
            .select_from(Unit)
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
