"""Clinical pages: the site's patients (registration, consent, the eligibility checklist,
prescriptions, adverse events, the one-month visit, and the treating physician's signed acceptance
of an exceptional release for the patient) and the allocation of units to prescriptions.
A site user sees only the site's own records; another site's is "not found"."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain import clinical as rules
from lotrack.domain import ctcae_measures as measures
from lotrack.domain import dose
from lotrack.domain.ctcae_measures import Measurement
from lotrack.domain.decisions import Meaning
from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.isbt128 import eye_readable
from lotrack.domain.permissions import may
from lotrack.domain.text import N_, said
from lotrack.i18n import expected_terms, spoken, translate, word
from lotrack.models import Patient
from lotrack.request_scope import actor, db_session, lockout, setting
from lotrack.schemas import clinical as io
from lotrack.schemas.release import SignIn, sign_in
from lotrack.services import (
    adverse,
    adverse_lifecycle,
    audit,
    clinical,
    clinical_lists,
    cohort,
    decisions,
    exceptional,
)
from lotrack.services import dose as doses
from lotrack.web.bedside import zone
from lotrack.web.forms import NO_FORM, FormState, form_values, handle_form, submit
from lotrack.web.guard import permission

PATIENT = "/patients/<path:wristband>"
READ, WRITE = "clinical.read", "clinical.write"

# The seriousness criteria (lotrack/domain/clinical.py) marked for translation as words.py marks
# states: the code is the message, so English shows the code as before; a criterion added there
# is shown as it is until it is marked here.
SERIOUSNESS = frozenset(
    (
        N_("death"),
        N_("life_threatening"),
        N_("hospitalization"),
        N_("disability"),
        N_("congenital_anomaly"),
        N_("medically_important"),
    )
)


def seriousness_name(code: str) -> str:
    """A seriousness criterion in the reader's language (in English, its code in words)."""
    return (_(code) if code in SERIOUSNESS else code).replace("_", " ")


def seriousness_list(stored: str) -> str:
    """An adverse event's seriousness criteria (stored as a JSON list), named and listed."""
    names = [seriousness_name(c) for c in json.loads(stored or "[]")]
    shown = names[0] if names else ""
    for name in names[1:]:
        shown = _("%(list)s, %(item)s", list=shown, item=name)
    return shown


def dose_refusal(plan: dose.DosePlan, tolerance: Decimal) -> str:
    """Why a prescription's allocated units give no dose, in the reader's language (the one dose
    rule's refusal)."""
    template, params = dose.refusal(plan, Decimal(tolerance))
    return translate(said(template, **params))


bp = Blueprint("clinical", __name__)
bp.context_processor(
    lambda: {
        "may": may,
        "eye_readable": eye_readable,
        "seriousness_name": seriousness_name,
        "seriousness_list": seriousness_list,
        "dose_refusal": dose_refusal,
    }
)


@bp.get("/patients")
@permission(READ)
def list_patients() -> ResponseReturnValue:
    page = clinical.list_patients(
        db_session(), actor(), request.args.get("page", 1, type=int), setting("PAGE_SIZE")
    )
    problems = {p.id: clinical.problems_of(p) for p in page.items}
    return render_template("clinical/list.html", page=page, problems=problems)


@bp.route("/patients/new", methods=["GET", "POST"])
@permission(WRITE)
def new_patient() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        patient = clinical.register_patient(db_session(), actor(), **data)
        flash(
            _(
                "%(wristband)s registered. Record consent and the eligibility checklist.",
                wristband=patient.wristband,
            )
        )
        return redirect(url_for(".show_patient", wristband=patient.wristband))

    return handle_form(
        io.PatientIn(),
        act,
        "clinical/new.html",
        indications=rules.INDICATIONS,
        site=actor().site,
        cohorts=cohort.list_all(db_session()),
        age_bands=rules.AGE_BANDS,
        sexes=rules.SEXES,
    )


def _page(patient: Patient, form: FormState = NO_FORM, proposal: Any = None) -> str:
    session = db_session()
    record = clinical_lists.patient_record(session, actor(), patient)
    terms = rules.ctcae_terms()
    return render_template(
        "clinical/show.html",
        record=record,
        p=patient,
        form=form,
        answers=json.loads(patient.eligibility or "{}"),
        checklist=clinical.checklist(),
        terms=terms,
        grades_of={t: ",".join(sorted(e["grades"])) for t, e in terms.items()},
        attributions=rules.ATTRIBUTIONS,
        related=rules.RELATED,
        seriousness=rules.SERIOUSNESS,
        outcomes=rules.OUTCOMES,
        responses=io.RESPONSES,
        cohorts=cohort.list_all(session),
        visit_day=setting("VISIT_DAY"),
        visit_window=setting("VISIT_WINDOW_DAYS"),
        today=dt.datetime.now(zone()).date().isoformat(),  # the site's date
        history=audit.history(session, "patient", str(patient.id)),
        releases=decisions.releases_for_patient(session, patient),
        accept_meaning=Meaning.EXCEPTIONAL_RELEASE_ACCEPTED.value,
        views=adverse_lifecycle.views(session, record.adverse_events),
        socs=sorted({e["soc"] for e in terms.values()}),
        measured=sorted(measures.RULES),
        proposal=proposal,
    )


def _patient(wristband: str) -> Patient:
    return clinical.get_patient(db_session(), actor(), wristband)


@bp.get(PATIENT)
@permission(READ)
def show_patient(wristband: str) -> ResponseReturnValue:
    return _page(_patient(wristband))


def _back(patient: Patient, message: str, anchor: str = "") -> ResponseReturnValue:
    flash(message)
    return redirect(url_for(".show_patient", wristband=patient.wristband) + anchor)


@bp.post(PATIENT + "/consent")
@permission(WRITE)
def consent(wristband: str) -> ResponseReturnValue:
    patient = _patient(wristband)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        clinical.record_consent(db_session(), actor(), patient, data["consent_date"])
        return _back(patient, _("Consent of %(date)s recorded.", date=data["consent_date"]))

    return submit("consent", io.ConsentIn(), act, lambda form: _page(patient, form))


@bp.post(PATIENT + "/eligibility")
@permission("eligibility.assess")
def eligibility(wristband: str) -> ResponseReturnValue:
    patient = _patient(wristband)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        problems = clinical.assess_eligibility(db_session(), actor(), patient, data)
        message = (
            _("Eligibility checklist recorded. %(num)s problem(s) remain.", num=len(problems))
            if problems
            else _("Eligibility checklist recorded. The patient is eligible.")
        )
        return _back(patient, message, "#eligibility")

    return submit("eligibility", io.EligibilityIn(), act, lambda form: _page(patient, form))


@bp.post(PATIENT + "/prescriptions")
@permission("prescription.write")
def prescribe(wristband: str) -> ResponseReturnValue:
    patient = _patient(wristband)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        tolerance = Decimal(str(setting("DOSE_TOLERANCE")))
        rx = clinical.prescribe(db_session(), actor(), patient, tolerance=tolerance, **data)
        shown = (
            _(
                "Prescription recorded: %(cells)s cells needed"
                " (%(dose)s cells/kg × %(weight)s kg).",
                cells=format(rx.cells_needed, ","),
                dose=format(rx.dose_per_kg, ","),
                weight=rx.weight_kg,
            )
            if rx.dose_per_kg is not None
            else _(
                "Prescription recorded: a fixed dose of %(cells)s cells.",
                cells=format(rx.cells_needed, ","),
            )
        )
        return _back(patient, shown, "#prescriptions")

    return submit("prescription", io.PrescriptionIn(), act, lambda form: _page(patient, form))


@bp.post(PATIENT + "/adverse-events")
@permission("adverse.write")
def adverse_event(wristband: str) -> ResponseReturnValue:
    patient = _patient(wristband)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        expected = expected_terms(current_app.config)
        event = adverse.record_adverse_event(
            db_session(), actor(), patient, expected_terms=expected, **data
        )
        message = (
            _(
                "%(term)s, grade %(grade)s, recorded. Expedited report due %(due)s.",
                term=event.term,
                grade=event.grade,
                due=event.report_due_on,
            )
            if event.report_due_on
            else _("%(term)s, grade %(grade)s, recorded.", term=event.term, grade=event.grade)
        )
        return _back(patient, message, "#adverse-events")

    values = form_values()  # the seriousness checkboxes arrive as several values of one name
    values["seriousness"] = ",".join(request.form.getlist("seriousness"))
    # "Propose the grade" is the form's first button, so Enter in any field presses it: without
    # a measurement there is nothing to propose and the form is recorded as typed.
    if values.pop("action", "") == "propose" and values.get("measurement"):
        return _propose(patient, values)
    return submit(
        "adverse", io.AdverseEventIn(), act, lambda form: _page(patient, form), values=values
    )


def _propose(patient: Patient, values: dict[str, str]) -> ResponseReturnValue:
    """The grade the measurement gives, shown in the form to confirm or override; no write."""
    measurement = Measurement(
        values.get("measurement", ""), values.get("reference", ""), values.get("hours", "")
    )
    try:
        proposal = measures.propose(values.get("term", ""), measurement)
    except ValidationFailed as err:
        message, reasons = spoken(err.message, err.fields)
        return _page(patient, FormState("adverse", reasons, message, values)), 422
    if proposal.grade is not None:
        values["grade"] = str(proposal.grade)
    return _page(patient, FormState("adverse", {}, "", values), proposal)


@bp.post(PATIENT + "/follow-up")
@permission("followup.write")
def follow_up(wristband: str) -> ResponseReturnValue:
    patient = _patient(wristband)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        visit = adverse.record_follow_up(
            db_session(),
            actor(),
            patient,
            visit_day=setting("VISIT_DAY"),
            window_days=setting("VISIT_WINDOW_DAYS"),
            **data,
        )
        return _back(
            patient,
            _("One-month visit recorded: %(response)s.", response=word(visit.response)),
            "#follow-up",
        )

    return submit("follow_up", io.FollowUpIn(), act, lambda form: _page(patient, form))


@bp.post(PATIENT + "/exceptional/<number>/accept")
@permission("exceptional.accept")
def accept_exceptional(wristband: str, number: str) -> ResponseReturnValue:
    """The treating physician accepts an exceptional release for this patient, under signature
    (a refused signature keeps its failure count, as on every signing form)."""
    session = db_session()
    patient = _patient(wristband)
    er = exceptional.get_request(session, number)
    if er.patient_id != patient.id:
        raise NotFound(
            said(
                "No exceptional release %(number)s for %(patient)s.",
                number=number,
                patient=patient.wristband,
            ),
            {"number": N_("not for this patient")},
        )

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        exceptional.accept_release(session, actor(), er, sign_in(data), lockout())
        return _back(
            patient,
            _("%(number)s accepted for %(patient)s.", number=er.number, patient=patient.wristband),
            "#exceptional",
        )

    return submit(f"accept-{er.number}", SignIn(), act, lambda form: _page(patient, form))


# ---- allocation (technician, QA) ---------------------------------------------------------------


def _page_number() -> int:
    """The page of the work queue: the allocate forms carry it so a refusal shows its own form."""
    return min(max(1, request.args.get("page", 1, type=int)), 1_000_000)  # the API's bound


def _allocations(form: FormState = NO_FORM) -> str:
    session = db_session()
    return render_template(
        "clinical/allocations.html",
        page=clinical_lists.open_prescriptions(
            session, actor(), _page_number(), setting("PAGE_SIZE")
        ),
        units=clinical_lists.available_units(session, actor()),
        form=form,
    )


@bp.get("/allocations")
@permission("allocation.write")
def allocations() -> ResponseReturnValue:
    return _allocations()


@bp.post("/prescriptions/<int:rx_id>/allocate")
@permission("allocation.write")
def allocate(rx_id: int) -> ResponseReturnValue:
    session = db_session()
    if rx_id > clinical_lists.MAX_ID:
        raise NotFound(
            said("No prescription %(id)s.", id=rx_id),
            {"prescription": N_("no such prescription")},
        )
    rx = clinical.get_prescription(session, actor(), rx_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        done = clinical.allocate(session, actor(), rx, data["units"])
        dins = ", ".join(eye_readable(a.unit.din) for a in done)
        flash(_("Allocated to %(patient)s: %(dins)s.", patient=rx.patient.wristband, dins=dins))
        plan, _containers = doses.plan_for(session, rx)  # the rule allocate() just passed
        for draw in plan.draws:
            flash(
                _(
                    "%(din)s: give whole (%(volume)s mL).",
                    din=eye_readable(draw.key),
                    volume=draw.volume_ml,
                )
                if draw.whole
                else _(
                    "%(din)s: draw %(volume)s mL, discard %(discard)s mL.",
                    din=eye_readable(draw.key),
                    volume=draw.volume_ml,
                    discard=draw.discard_ml,
                )
            )
        return redirect(url_for(".allocations", page=_page_number()))

    return submit(f"rx-{rx.id}", io.AllocationIn(), act, lambda form: _allocations(form))
