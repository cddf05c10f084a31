"""/api/v1 QA lot decisions under electronic signature: the release review, release, rejection,
lifting a hold, review signatures, exceptional release (and the treating physician's acceptance),
the "needs decision" queue of held lots, the lot's signatures and audit timeline.
The same services, rules and refusals as the HTML pages: a wrong password is a 403 whose failure
count is kept (the request's unit of work commits it), a blocker or a decision taken first by
someone else a 409."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response
from flask.views import MethodView

from lotrack.api import decision_schemas as dio
from lotrack.api import release_schemas as io
from lotrack.api.common import READ, Blueprint, permission, signed_in
from lotrack.domain.decisions import Action
from lotrack.domain.states import ExceptionalStatus
from lotrack.models import ExceptionalRelease, Lot, Notification, Signature
from lotrack.request_scope import actor, db_session, lockout
from lotrack.schemas import ReasonIn
from lotrack.schemas.release import ExceptionalIn, SignIn, SignWithReasonIn, ZonedNotifyIn
from lotrack.services import clinical, containment, decisions, exceptional, release, signature
from lotrack.services import lot as lots
from lotrack.services import timeline as timelines
from lotrack.services.signature import ShownSignature

bp = Blueprint(
    "api_release",
    __name__,
    description="QA release review and signed decisions: release, reject, lift a hold, review,"
    " exceptional release; the lot's signatures and audit timeline.",
)

LOT = "<string(maxlength=64):lot_number>"
NUMBER = "<string(maxlength=32):number>"
PATIENT = "<path:wristband>"  # "<SITE>/<SUBJECT>": the wristband holds a slash
DECIDE = "release.decide"
CSV = {200: {"description": "the timeline as CSV", "content": {"text/csv": {}}}}


def decision(lot: Lot, signed: Signature, containment_number: str | None = None) -> dict[str, Any]:
    """The lot's new state and the signature given (io.DecisionOut)."""
    return {
        "lot_number": lot.lot_number,
        "state": lot.state,
        "held_from": lot.held_from,
        "signature": signed,
        "containment": containment_number,
    }


def _decide(action: Action, data: dict[str, Any], lot_number: str) -> dict[str, Any]:
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    signed = release.decide(session, actor(), lot, action, signed_in(data), lockout())
    return decision(lot, signed)


@bp.route(f"/lots/{LOT}/release")
class Release(MethodView):
    @permission(READ)
    @bp.response(200, io.ReviewOut)
    def get(self, lot_number: str) -> dict[str, Any]:
        """The release review: state, every blocker, open deviations, signatures, spec version"""
        session = db_session()
        lot = lots.get_lot(session, lot_number)
        rv = release.review(session, lot)
        version, newer = rv.evaluation.version, rv.evaluation.newer
        requests = exceptional.requests_of(session, lot)
        return {
            "lot_number": lot.lot_number,
            "state": lot.state,
            "held_from": lot.held_from,
            "releasable": rv.releasable,
            "blockers": rv.blockers,
            "warnings": list(rv.evaluation.evaluation.warnings),
            "spec_version": version,
            "newer_spec_version": newer.label if newer is not None else None,
            "deviations": rv.deviations,
            "signatures": rv.signatures,
            "exceptional_releases": requests,
            "containments": containment.containments_of(session, lot),
            "hold": dio.hold_view(decisions.latest_hold(session, lot)),
        }

    @permission(DECIDE)
    @bp.arguments(SignIn)
    @bp.response(200, io.DecisionOut)
    def post(self, data: dict[str, Any], lot_number: str) -> dict[str, Any]:
        """Release a quarantined lot (meaning 'approved for release'); refused while a blocker
        remains, to whoever entered or verified its results, and if someone decided first"""
        return _decide(Action.RELEASE, data, lot_number)


@bp.route(f"/lots/{LOT}/reject", methods=["POST"])
@permission(DECIDE)
@bp.arguments(SignWithReasonIn)
@bp.response(200, io.DecisionOut)
def reject(data: dict[str, Any], lot_number: str) -> dict[str, Any]:
    """Reject a quarantined or held lot (meaning 'rejected', with a reason)"""
    return _decide(Action.REJECT, data, lot_number)


@bp.route(f"/lots/{LOT}/unhold", methods=["POST"])
@permission(DECIDE)
@bp.arguments(SignWithReasonIn)
@bp.response(200, io.DecisionOut)
def unhold(data: dict[str, Any], lot_number: str) -> dict[str, Any]:
    """Lift a hold (meaning 'hold lifted', with a reason): back to the state it interrupted"""
    return _decide(Action.UNHOLD, data, lot_number)


@bp.route(f"/lots/{LOT}/review", methods=["POST"])
@permission(DECIDE)
@bp.arguments(SignIn)
@bp.response(201, io.DecisionOut)
def sign_review(data: dict[str, Any], lot_number: str) -> dict[str, Any]:
    """Sign the dossier as it stands as 'reviewed', without a change of state"""
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    signed = release.sign_review(session, actor(), lot, signed_in(data), lockout())
    return decision(lot, signed)


@bp.route(f"/lots/{LOT}/signatures")
@permission(READ)
@bp.response(200, io.SignaturesOut)
def signatures(lot_number: str) -> dict[str, Any]:
    """Every signature on the lot, oldest first; `void` once the dossier changed after it"""
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    return {"lot": lot.lot_number, "items": signature.signatures_of(session, lot)}


@bp.route(f"/lots/{LOT}/timeline")
@permission(READ)
@bp.response(200, io.TimelineOut)
def timeline(lot_number: str) -> dict[str, Any]:
    """Every audit event of the lot's dossier, in sequence order"""
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    return {"lot": lot.lot_number, "items": timelines.lot_timeline(session, lot)}


@bp.route(f"/lots/{LOT}/timeline.csv")
@permission(READ)
@bp.doc(responses=CSV)
def timeline_csv(lot_number: str) -> Response:
    """The audit timeline as CSV (seq, at_utc, actor, action, record, changes, reason)"""
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    return Response(
        timelines.to_csv(timelines.lot_timeline(session, lot)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{lot.lot_number}-timeline.csv"'},
    )


# ---- exceptional release ----------------------------------------------------------------------


@dataclass
class ErView:
    """An exceptional release with its signatures (void or not), notifications, and the signature
    just given; every other attribute is the request's own (io.ExceptionalDetail)."""

    er: ExceptionalRelease
    signatures: list[ShownSignature]
    notifications: list[Notification]
    acceptance: Signature | None
    before_allocation: list[str]
    signature: Signature | None = None

    @property
    def awaiting_acceptance(self) -> bool:
        return self.acceptance is None and self.er.status in (
            ExceptionalStatus.PENDING,
            ExceptionalStatus.APPROVED,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.er, name)


def er_view(er: ExceptionalRelease, signed: Signature | None = None) -> ErView:
    session = db_session()
    shown = [
        s
        for s in signature.signatures_of(session, er.lot)
        if s.signature.exceptional_release_id == er.id
    ]
    told = exceptional.notifications_of(session, er_id=er.id)
    # Once approved: what still stands between the release and its first allocation.
    approved = er.status == ExceptionalStatus.APPROVED
    terms = exceptional.terms_of(session, er.lot) if approved else None
    missing = list(terms.problems) if terms is not None else []
    return ErView(er, shown, told, exceptional.acceptance_of(session, er), missing, signed)


@bp.route(f"/lots/{LOT}/exceptional-release", methods=["POST"])
@permission("exceptional.request")
@bp.arguments(ExceptionalIn)
@bp.response(201, io.ExceptionalOut)
def request_exceptional(data: dict[str, Any], lot_number: str) -> ExceptionalRelease:
    """Record a physician's request and the risk assessment for a lot that fails its spec"""
    session = db_session()
    er = exceptional.request_release(session, actor(), lots.get_lot(session, lot_number), **data)
    return er


@bp.route(f"/exceptional-releases/{NUMBER}")
@permission(READ)
@bp.response(200, io.ExceptionalDetail)
def get_exceptional(number: str) -> ErView:
    """An exceptional release request with its signatures and notifications"""
    return er_view(exceptional.get_request(db_session(), number))


@bp.route(f"/exceptional-releases/{NUMBER}/sign", methods=["POST"])
@permission("exceptional.sign")
@bp.arguments(SignIn)
@bp.response(200, io.ExceptionalSigned)
def sign_exceptional(data: dict[str, Any], number: str) -> ErView:
    """QA's or the medical director's signature; with both, the lot is EXCEPTIONAL_RELEASE"""
    session = db_session()
    er = exceptional.get_request(session, number)
    signed = exceptional.sign_release(session, actor(), er, signed_in(data), lockout())
    return er_view(er, signed)


@bp.route(f"/exceptional-releases/{NUMBER}/accept", methods=["POST"])
@permission("exceptional.accept")
@bp.arguments(SignIn)
@bp.response(200, io.ExceptionalSigned)
def accept_exceptional(data: dict[str, Any], number: str) -> ErView:
    """The treating physician (clinical staff of the patient's site) accepts the exceptional
    release for their patient, signing with meaning 'exceptional release accepted (treating
    physician)'. No unit is allocated before this acceptance and the sponsor's notification"""
    session = db_session()
    er = exceptional.get_request(session, number)
    signed = exceptional.accept_release(session, actor(), er, signed_in(data), lockout())
    return er_view(er, signed)


@bp.route(f"/patients/{PATIENT}/exceptional-releases")
@permission("clinical.read")
@bp.response(200, dio.PatientReleasesOut)
def patient_releases(wristband: str) -> dict[str, Any]:
    """The exceptional releases requested for a patient, oldest first, each with the treating
    physician's acceptance or that it awaits one (site staff see their own site's patients)"""
    session = db_session()
    patient = clinical.get_patient(session, actor(), wristband)
    found = decisions.releases_for_patient(session, patient)
    return {"patient": patient.wristband, "items": [dio.ReleaseView(r) for r in found]}


@bp.route(f"/exceptional-releases/{NUMBER}/notifications", methods=["POST"])
@permission(DECIDE)
@bp.arguments(ZonedNotifyIn)
@bp.response(201, io.NotificationOut)
def notify_exceptional(data: dict[str, Any], number: str) -> Notification:
    """Log that the physician, the sponsor or a site was told"""
    session = db_session()
    er = exceptional.get_request(session, number)
    told = exceptional.record_notification(session, actor(), er=er, **data)
    return told


@bp.route(f"/exceptional-releases/{NUMBER}/withdraw", methods=["POST"])
@permission("exceptional.request")
@bp.arguments(ReasonIn)
@bp.response(200, io.ExceptionalDetail)
def withdraw_exceptional(data: dict[str, Any], number: str) -> ErView:
    """Withdraw a pending request, saying why"""
    session = db_session()
    er = exceptional.get_request(session, number)
    exceptional.withdraw(session, actor(), er, data["reason"])
    return er_view(er)
