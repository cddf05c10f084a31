"""/api/v1 clinical: patients (consent, eligibility, prescriptions, the one-month visit), the
allocation of units to prescriptions, shipments to sites and their receipt, adverse events and the
trial's primary outcome. Site users see their own site only: another site's record is a 404."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from lotrack.api import clinical_schemas as out
from lotrack.api.common import Blueprint, permission
from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.text import N_, said
from lotrack.i18n import expected_terms
from lotrack.models import AdverseEvent, FollowUp, Patient, Shipment
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas import clinical as io
from lotrack.schemas.paging import PageArgs
from lotrack.services import adverse, clinical, clinical_lists, cohort, report, shipment
from lotrack.services.clinical_lists import PatientRecord, PrescriptionView
from lotrack.services.common import Page

bp = Blueprint(
    "api_clinical",
    __name__,
    description="Trial participants at the clinical sites, their prescriptions and the units"
    " allocated and shipped to them, adverse events (CTCAE v4.03) and the trial's outcomes.",
)

PATIENT = "<path:wristband>"  # "<SITE>/<SUBJECT>": the wristband holds a slash
NUMBER = "<string(maxlength=32):number>"
READ, WRITE = "clinical.read", "clinical.write"
RULE = (
    "A participant counts when an adverse event attributed possible, probable or definite"
    " (treatment-related) began within 30 days of the participant's first infusion; grades are"
    " CTCAE v4.03."
)


@dataclass
class PatientView:
    """A patient with its record (out.PatientDetail); other attributes are the patient's."""

    record: PatientRecord

    def __getattr__(self, name: str) -> Any:
        if name in ("prescriptions", "infusions", "adverse_events", "follow_up"):
            return getattr(self.record, name)
        return getattr(self.record.patient, name)


def _patient(wristband: str) -> Patient:
    return clinical.get_patient(db_session(), actor(), wristband)


@bp.route("/patients")
class Patients(MethodView):
    @permission(READ)
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(out.PatientOut, "PatientPage"))
    def get(self, args: dict[str, Any]) -> Page[Patient]:
        """Patients of your site (every site for QA, the medical director and admins)"""
        return clinical.list_patients(db_session(), actor(), args["page"], args["per_page"])

    @permission(WRITE)
    @bp.arguments(io.PatientIn)
    @bp.response(201, out.PatientOut)
    def post(self, data: dict[str, Any]) -> Patient:
        """Register a participant at your site by subject code (never a name)"""
        patient = clinical.register_patient(db_session(), actor(), **data)
        return patient


@bp.route(f"/patients/{PATIENT}")
@permission(READ)
@bp.response(200, out.PatientDetail)
def get_patient(wristband: str) -> PatientView:
    """A patient with prescriptions, allocated units, infusions, adverse events and the visit"""
    patient = _patient(wristband)
    return PatientView(clinical_lists.patient_record(db_session(), actor(), patient))


@bp.route(f"/patients/{PATIENT}/consent", methods=["POST"])
@permission(WRITE)
@bp.arguments(io.ConsentIn)
@bp.response(200, out.PatientOut)
def consent(data: dict[str, Any], wristband: str) -> Patient:
    """Record the date of informed consent"""
    patient = _patient(wristband)
    clinical.record_consent(db_session(), actor(), patient, data["consent_date"])
    return patient


@bp.route(f"/patients/{PATIENT}/eligibility", methods=["POST"])
@permission("eligibility.assess")
@bp.arguments(io.EligibilityIn)
@bp.response(200, out.EligibilityOut)
def eligibility(data: dict[str, Any], wristband: str) -> dict[str, Any]:
    """Answer the protocol's checklist (each item true/false); answers what still bars dosing"""
    patient = _patient(wristband)
    problems = clinical.assess_eligibility(db_session(), actor(), patient, data)
    return {"wristband": patient.wristband, "eligible": not problems, "problems": problems}


@bp.route(f"/patients/{PATIENT}/prescriptions", methods=["POST"])
@permission("prescription.write")
@bp.arguments(io.PrescriptionIn)
@bp.response(201, out.PrescriptionOut)
def prescribe(data: dict[str, Any], wristband: str) -> PrescriptionView:
    """Prescribe the dose level of a protocol cohort (the patient's unless named): cells/kg
    (cells needed = dose × weight) or a fixed dose; a dose typed too must be the cohort's. The
    tolerance (±) is LOTRACK_DOSE_TOLERANCE. Eligible, consented patients only; investigators"""
    patient = _patient(wristband)
    tolerance = Decimal(str(setting("DOSE_TOLERANCE")))
    rx = clinical.prescribe(db_session(), actor(), patient, tolerance=tolerance, **data)
    return clinical_lists.views_of(db_session(), [rx])[0]


@bp.route(f"/patients/{PATIENT}/follow-up", methods=["POST"])
@permission("followup.write")
@bp.arguments(io.FollowUpIn)
@bp.response(201, out.FollowUpOut)
def follow_up(data: dict[str, Any], wristband: str) -> FollowUp:
    """Record the one-month visit: improved, stable or worse (the secondary outcome), inside the
    protocol window (LOTRACK_VISIT_DAY ± LOTRACK_VISIT_WINDOW_DAYS after the first infusion),
    never in the future; the site's investigator"""
    visit = adverse.record_follow_up(
        db_session(),
        actor(),
        _patient(wristband),
        visit_day=setting("VISIT_DAY"),
        window_days=setting("VISIT_WINDOW_DAYS"),
        **data,
    )
    return visit


@bp.route("/cohorts")
class Cohorts(MethodView):
    @permission(READ)
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(out.CohortOut, "CohortPage"))
    def get(self, args: dict[str, Any]) -> Page[Any]:
        """The protocol's dose cohorts and their dose levels"""
        return cohort.page_of_cohorts(db_session(), args["page"], args["per_page"])

    @permission("cohorts.manage")
    @bp.arguments(io.CohortIn)
    @bp.response(201, out.CohortOut)
    def post(self, data: dict[str, Any]) -> Any:
        """Record a dose cohort: a code and its dose level (cells/kg, or a fixed number of
        cells); the medical director"""
        return cohort.add_cohort(db_session(), actor(), **data)


@bp.route("/reports/enrolment")
@permission("reports.read")
@bp.response(200, out.EnrolmentOut)
def enrolment() -> dict[str, Any]:
    """Consented participants against the target (LOTRACK_ENROLMENT_TARGET, 100), by site and
    cohort, age band and sex; site staff see their site's"""
    return asdict(report.enrolment(db_session(), actor(), setting("ENROLMENT_TARGET")))


@bp.route("/prescriptions")
@permission("allocation.write")
@bp.arguments(PageArgs, location="query")
@bp.response(200, out.page_of(out.PrescriptionOut, "PrescriptionPage"))
def open_prescriptions(args: dict[str, Any]) -> Page[PrescriptionView]:
    """Open prescriptions whose allocated units do not yet cover the dose, earliest planned first"""
    return clinical_lists.open_prescriptions(db_session(), actor(), args["page"], args["per_page"])


@bp.route("/prescriptions/<int:rx_id>/allocations", methods=["POST"])
@permission("allocation.write")
@bp.arguments(io.AllocationIn)
@bp.response(201, out.PrescriptionOut)
def allocate(data: dict[str, Any], rx_id: int) -> PrescriptionView:
    """Set units aside for a prescription: units that may go to its patient (released, unexpired
    on the facility's calendar; a lot released by exception only to the patient it names, once
    the physician accepted and the sponsor was told), unallocated, covering the dose"""
    session = db_session()
    if rx_id > clinical_lists.MAX_ID:
        raise NotFound(
            said("No prescription %(id)s.", id=rx_id), {"prescription": N_("no such prescription")}
        )
    rx = clinical.get_prescription(session, actor(), rx_id)
    clinical.allocate(session, actor(), rx, data["units"])
    session.flush()
    view = clinical_lists.views_of(session, [rx])[0]
    return view


@bp.route("/adverse-events")
class AdverseEvents(MethodView):
    @permission(READ)
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(out.AdverseEventOut, "AdverseEventPage"))
    def get(self, args: dict[str, Any]) -> Page[AdverseEvent]:
        """Adverse events of your site's patients, latest onset first"""
        return clinical_lists.list_adverse_events(
            db_session(), actor(), args["page"], args["per_page"]
        )

    @permission("adverse.write")
    @bp.arguments(io.PatientAdverseEventIn)
    @bp.response(201, out.AdverseEventOut)
    def post(self, data: dict[str, Any]) -> AdverseEvent:
        """Record an adverse event: CTCAE v4.03 term and a grade it defines, attribution,
        seriousness (report due date follows), outcome"""
        try:
            patient = _patient(data.pop("patient"))
        except NotFound as err:  # a body naming an unknown patient is bad input, not a 404
            raise ValidationFailed(
                err.message, {"patient": N_("no such patient at your site")}
            ) from err
        expected = expected_terms(current_app.config)
        return adverse.record_adverse_event(
            db_session(), actor(), patient, expected_terms=expected, **data
        )


@bp.route("/shipments")
class Shipments(MethodView):
    @permission("shipment.read")
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(out.ShipmentOut, "ShipmentPage"))
    def get(self, args: dict[str, Any]) -> Page[Shipment]:
        """Shipments, newest first (a site sees its own)"""
        return shipment.list_shipments(db_session(), actor(), args["page"], args["per_page"])

    @permission("shipment.send")
    @bp.arguments(io.ShipmentIn)
    @bp.response(201, out.ShipmentOut)
    def post(self, data: dict[str, Any]) -> Shipment:
        """Ship units still stored at the manufacturer that may go on (to the patient each is
        allocated to, if any); they are in transit until received. A unit leaves once: one
        shipped already, or by a parallel request, is a 409 naming it"""
        session = db_session()
        sent = shipment.ship(session, actor(), site_code=data["site"], dins=data["units"])
        session.flush()
        session.refresh(sent)
        return sent


@bp.route(f"/shipments/{NUMBER}")
@permission("shipment.read")
@bp.response(200, out.ShipmentOut)
def get_shipment(number: str) -> Shipment:
    """A shipment, its units and their receipt"""
    return shipment.get_shipment(db_session(), actor(), number)


@bp.route(f"/shipments/{NUMBER}/receive", methods=["POST"])
@permission("shipment.receive")
@bp.arguments(io.ReceiveIn)
@bp.response(200, out.ShipmentOut)
def receive(data: dict[str, Any], number: str) -> Shipment:
    """Receive a shipment at your site: the DINs that arrived, condition, temperature record;
    anything missing or extra is recorded as a discrepancy. Each unit is received (or missing)
    once: a parallel receipt is a 409"""
    session = db_session()
    got = shipment.get_shipment(session, actor(), number)
    shipment.receive(
        session,
        actor(),
        got,
        received_dins=data["received"],
        condition=data["condition"],
        temperature_record=data["temperature_record"],
    )
    return got


@bp.route("/reports/primary-outcome")
@permission("reports.read")
@bp.arguments(io.ReportArgs, location="query")
@bp.response(200, out.PrimaryOutcomeOut)
@bp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def primary_outcome(args: dict[str, Any]) -> dict[str, Any] | Response:
    """Participants with treatment-related adverse events up to one month (CTCAE v4.03), by worst
    grade, dose cohort and lot, with the secondary outcome; ?format=csv for a spreadsheet"""
    session = db_session()
    outcome = report.primary_outcome(session, actor())
    if args["format"] == "csv":
        return Response(
            report.primary_csv(outcome),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="primary-outcome.csv"'},
        )

    def rows(table: dict[Any, list[int]]) -> list[dict[str, Any]]:
        return [
            {"value": str(k), "participants": n, "with_related": w}
            for k, (n, w) in sorted(table.items())
        ]

    return {
        "rule": RULE,
        "participants": outcome.participants,
        "with_related": outcome.with_related,
        "by_worst_grade": [
            {"grade": g, "participants": k} for g, k in sorted(outcome.by_grade.items())
        ],
        "by_cohort": rows(outcome.by_cohort),
        "by_lot": rows(outcome.by_lot),
        "by_soc_grade": [
            {"soc": soc, "grade": grade, "events": len(ids), "event_ids": ids}
            for (soc, grade), ids in sorted(outcome.by_soc_grade.items())
        ],
        "events_by_cohort": outcome.events_by_cohort,
        "events_by_lot": outcome.events_by_lot,
        "not_counted": outcome.not_counted,
        "signals": outcome.signals,
        "exceptional": outcome.exceptional,
        "secondary": report.secondary_outcome(session, actor(), outcome),
    }
