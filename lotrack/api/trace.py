"""/api/v1 trace and recall impact (services/trace.py): a patient back to the donor, a donor, bank
or lot forward to every unit, where it is and who received it, and what a hold or recall means in
the field. Each answers in a number of queries that does not grow with the number of units.

A patient's trace is clinical.read and site-scoped (another site's patient is a 404, as on the
patient record); the forward trace and the impact name patients of every site (trace.read).
Notifications of a hold or recall are recorded with POST containments/<number>/notifications
(api/containment.py) and listed here with the impact."""

from __future__ import annotations

from typing import Any

from lotrack.api import trace_schemas as io
from lotrack.api.common import Blueprint, permission
from lotrack.request_scope import actor, db_session
from lotrack.schemas.trace import ForwardPageArgs, PatientArgs
from lotrack.services import trace as service

bp = Blueprint(
    "api_trace",
    __name__,
    description="Trace a patient back to the donor, a donor, bank or lot forward to every unit"
    " and patient, and a hold's or recall's impact: patients to follow, units to quarantine.",
)

NUMBER = "<string(maxlength=32):number>"


@bp.route("/trace/patient")
@permission("clinical.read")
@bp.arguments(PatientArgs, location="query")
@bp.response(200, io.PatientTraceOut)
def trace_patient(args: dict[str, Any]) -> service.PatientTrace:
    """A patient's every infusion: unit → lot → run → passages → WCB → MCB → clone → donor"""
    return service.patient_back(db_session(), actor(), args["patient"].strip())


@bp.route("/trace/units")
@permission("trace.read")
@bp.arguments(ForwardPageArgs, location="query")
@bp.response(200, io.ForwardOut)
@bp.alt_response(404, response="NOT_FOUND")  # a donor, bank or lot named by the query
def trace_units(args: dict[str, Any]) -> service.ForwardTrace:
    """From exactly one donor, bank or lot: its lots, its units a page at a time (`limit`, then
    `after` = the page's `next_after`) with where each is and who received it, and the totals of
    every unit (`unit_count`, `infused_count`, `patient_count`)"""
    limit, after = args.pop("limit"), args.pop("after", None)
    given = {k: (v or "").strip() or None for k, v in args.items()}
    return service.forward(db_session(), actor(), **given, limit=limit, after=after)


@bp.route(f"/containments/{NUMBER}/impact")
@permission("trace.read")
@bp.response(200, io.ImpactOut)
def containment_impact(number: str) -> service.RecallImpact:
    """A hold's or recall's impact: infused patients to follow up, units at sites to quarantine,
    in transit, in the store or missing, and who was told"""
    return service.impact(db_session(), actor(), number)
