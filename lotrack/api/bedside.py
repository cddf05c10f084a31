"""/api/v1 bedside: the hard stop before infusion (`bedside/check`, and `bedside/check-photo` for
a photographed label decoded on the server with zxing-cpp), the thaw, and the infusion record.
Every check is recorded and committed, GO or NO-GO; an infusion cites a GO check."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_babel import gettext

from lotrack.api import clinical_schemas as out
from lotrack.api.common import Blueprint, permission
from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.states import ScanMethod
from lotrack.domain.text import N_
from lotrack.i18n import said_reasons
from lotrack.models import BedsideScan, Infusion, Thaw, Unit
from lotrack.request_scope import actor, db_session, lockout
from lotrack.schemas import clinical as io
from lotrack.schemas import parse
from lotrack.schemas.paging import PageArgs
from lotrack.services import bedside, clinical_lists
from lotrack.services import infusion as infusions
from lotrack.services.common import Page

bp = Blueprint(
    "api_bedside",
    __name__,
    description="The bedside check (GO or NO-GO with every reason, each attempt recorded), the"
    " thaw and the infusion record.",
)

SCAN = "bedside.scan"
PHOTO_MAX_BYTES = 16 * 1024 * 1024  # a phone's photo; the app's default limit is 2 MiB


@bp.url_value_preprocessor
def _photo_limit(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    if endpoint == "api_bedside.check_photo":
        request.max_content_length = PHOTO_MAX_BYTES


def answer(done: bedside.Checked, decoded: str | None = None) -> dict[str, Any]:
    """The check as clients read it (out.CheckOut)."""
    scan, verdict = done.scan, done.verdict
    db_session().flush()  # the scan's id
    return {
        "go": scan.go,
        # In the language asked for (Accept-Language); `codes` are the stable machine field and
        # scan.reasons keeps the English record.
        "reasons": said_reasons(verdict.said, verdict.reasons),
        "codes": list(verdict.codes),
        "notes": [gettext(note) for note in verdict.notes],
        "scan_id": scan.id,
        "needs_acknowledgement": verdict.needs_acknowledgement,
        "patient": done.patient_code,
        "din": done.din,
        "method": scan.method,
        "scanned_at": scan.scanned_at,
        "decoded": decoded,
        "draw": verdict.draw,  # out.DrawOut
    }


def _check(
    patient: str, scan: str, method: str | None, acknowledge: bool, expiry: str = ""
) -> bedside.Checked:
    return bedside.run_check(
        db_session(),
        actor(),
        key=current_app.extensions["lotrack_signing_key"],
        patient_text=patient,
        scan_text=scan,
        method=bedside.entry_method(scan, method),
        acknowledge_exceptional=acknowledge,
        expiry_text=expiry,
    )


@bp.route("/bedside/check", methods=["POST"])
@permission(SCAN)
@bp.arguments(io.CheckIn)
@bp.response(200, out.CheckOut)
def check(data: dict[str, Any]) -> dict[str, Any]:
    """GO or NO-GO for this unit and this patient now, with every reason (the most serious
    first); always recorded. `patient` is the wristband text; `scan` the label's QR text, its
    Code 128 DIN read by a scanner, camera or photo (`method` wedge, camera or photo; `notes` then
    says that a bar code does not prove the label genuine), or a DIN typed with its check
    character (`method` typed, or no `method` for a DIN without "="); `expiry` the label's
    expiry bar code (005), compared with the record when given. A lot
    released by exception for this patient needs `acknowledge_exceptional`, offered
    (`needs_acknowledgement`) only when nothing else blocks"""
    done = _check(
        data["patient"],
        data["scan"],
        data["method"],
        data["acknowledge_exceptional"],
        data["expiry"],
    )
    body = answer(done)
    return body


@bp.route("/bedside/check-photo", methods=["POST"])
@permission(SCAN)
@bp.doc(
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["patient", "image"],
                    "properties": {
                        "patient": {"type": "string", "description": "the wristband text"},
                        "acknowledge_exceptional": {"type": "boolean"},
                        "image": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
)
@bp.response(200, out.CheckOut)
def check_photo() -> dict[str, Any]:
    """The same check from a photo of the label (multipart: `image`, `patient`); the code read
    from the photo is answered as `decoded` (its expiry bar code, when read, is compared with the
    record); a photo with no readable code is a recorded NO-GO"""
    data = parse(io.PhotoCheckIn(), request.form.to_dict())
    image = request.files.get("image")
    if image is None or not image.filename:
        raise ValidationFailed(N_("Attach the photo of the label."), {"image": N_("required")})
    try:
        decoded = io.read_photo(image.stream)
    finally:
        image.close()  # a large upload is spooled to a temporary file: closed once read
    done = _check(
        data["patient"],
        decoded.scan,
        ScanMethod.PHOTO,
        data["acknowledge_exceptional"],
        decoded.expiry,
    )
    body = answer(done, decoded.scan)
    return body


@bp.route("/thaws", methods=["POST"])
@permission(SCAN)
@bp.arguments(io.ZonedThawIn)
@bp.response(201, out.ThawOut)
def thaw(data: dict[str, Any]) -> dict[str, Any]:
    """Record when a unit received at your site was thawed: the post-thaw window runs from it"""
    try:
        record: Thaw = infusions.record_thaw(db_session(), actor(), data["din"], data["thawed_at"])
    except NotFound as err:  # a body naming an unknown unit is bad input, not a missing page
        raise ValidationFailed(err.message, {"din": N_("no such unit")}) from err
    db_session().flush()
    body = {
        "din": db_session().get(Unit, record.unit_id).din,  # type: ignore[union-attr]
        "thawed_at": record.thawed_at,
        "recorded_at": record.recorded_at,
    }
    return body


def scan_of(scan_id: int) -> BedsideScan:
    try:
        return clinical_lists.get_scan(db_session(), actor(), scan_id)
    except NotFound as err:
        raise ValidationFailed(err.message, {"scan_id": N_("no such check at your site")}) from err


@bp.route("/infusions")
class Infusions(MethodView):
    @permission("clinical.read")
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(out.InfusionOut, "InfusionPage"))
    def get(self, args: dict[str, Any]) -> Page[Infusion]:
        """Infusions at your site, latest first"""
        return clinical_lists.list_infusions(db_session(), actor(), args["page"], args["per_page"])

    @permission(SCAN)
    @bp.arguments(io.ZonedInfusionIn)
    @bp.response(201, out.InfusionOut)
    def post(self, data: dict[str, Any]) -> Infusion:
        """Record the infusion that followed your GO check (`scan_id`): it starts no earlier than
        the check and within its validity (30 minutes), and the bedside rule is checked again at
        its start (post-thaw window, lot state, expiry). A second clinician of your site signs as
        witness: `witness` (username), `witness_password` (re-entered; a wrong one is a 403 that
        counts toward the witness's lockout) and `witness_meaning` ("witnessed"). `volume_ml`
        is the volume given from the unit (the check's `draw`): the achieved cells and cells/kg
        and the discarded remainder are recorded with it, and a volume that would take the dose
        out of its tolerance is refused"""
        session = db_session()
        scan = scan_of(data.pop("scan_id"))
        infusion = infusions.record_infusion(session, actor(), scan, lockout=lockout(), **data)
        session.flush()
        session.refresh(infusion)
        return infusion
