"""The bedside page, for a phone or tablet at the patient's side: scan the wristband and the unit
label (keyboard-wedge scanner, camera, photo, or the DIN typed with its check character) and get
a full-width GO or NO-GO with every reason. Every check is recorded, GO or NO-GO. Then the thaw
and, after a GO, the infusion record. static/js/bedside.js adds the camera; the page works
without it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from lotrack.domain.bedside import WITNESSED, BedsideVerdict
from lotrack.domain.errors import DomainError, NotFound, ValidationFailed
from lotrack.domain.isbt128 import eye_readable
from lotrack.domain.permissions import may
from lotrack.domain.states import ScanMethod
from lotrack.errors import status_of
from lotrack.i18n import said_reasons, translate
from lotrack.models import BedsideScan, Patient, Unit
from lotrack.request_scope import actor, db_session, lockout, setting
from lotrack.schemas import clinical as io
from lotrack.schemas import parse
from lotrack.services import bedside, clinical_lists
from lotrack.services import dose as doses
from lotrack.services import infusion as infusions
from lotrack.web.forms import NO_FORM, FormState, form_values, refusal
from lotrack.web.guard import permission

bp = Blueprint("bedside", __name__)
bp.context_processor(lambda: {"may": may, "eye_readable": eye_readable})
SCAN = "bedside.scan"
PHOTO_MAX_BYTES = 16 * 1024 * 1024  # a phone's photo; the app's default limit is 2 MiB


@bp.url_value_preprocessor
def _photo_limit(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # Before the CSRF check reads the form: the photo may be larger than other uploads.
    if endpoint == "bedside.check":
        request.max_content_length = PHOTO_MAX_BYTES


def zone() -> ZoneInfo:
    """The user's site's time zone (forms take and show local wall-clock time)."""
    site = actor().site
    return ZoneInfo(site.time_zone if site is not None else setting("SITE_TIME_ZONE"))


def local_now() -> str:
    return dt.datetime.now(zone()).strftime("%Y-%m-%dT%H:%M")


def to_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A wall-clock time typed at the site, as UTC."""
    return None if moment is None else moment.replace(tzinfo=zone()).astimezone(dt.UTC)


def _verdict(scan: BedsideScan, verdict: BedsideVerdict | None = None) -> dict[str, Any]:
    """What the banner shows, from the recorded check (and the verdict, when just given)."""
    session = db_session()
    session.flush()
    # What to give from the unit, from the one dose rule (the same the check judged).
    plan, draw = (
        doses.plan_of_unit(session, scan.unit_id) if scan.go and scan.unit_id else (None, None)
    )
    return {
        "go": scan.go,
        "plan": plan,
        "draw": draw,
        # Just given: said in the reader's language; else as recorded (in English), each fixed
        # sentence the catalog holds in the reader's language.
        "reasons": said_reasons(verdict.said, verdict.reasons)
        if verdict is not None
        else [translate(r) for r in json.loads(scan.reasons)],
        "scan": scan,
        "needs_acknowledgement": verdict is not None and verdict.needs_acknowledgement,
        "notes": [_(n) for n in verdict.notes] if verdict is not None else (),
        # The thaw form opens itself only when the thaw is the step left: never after a recall,
        # a hold, a wrong patient or an expiry, when recording a thaw would be wrong.
        "thaw_next": verdict is not None and verdict.thaw_next,
        "unit": session.get(Unit, scan.unit_id) if scan.unit_id else None,
        "patient": session.get(Patient, scan.patient_id) if scan.patient_id else None,
    }


def _page(
    verdict: dict[str, Any] | None = None,
    form: FormState = NO_FORM,
    values: dict[str, str] | None = None,
) -> str:
    return render_template(
        "bedside/scan.html",
        verdict=verdict,
        form=form,
        values=values or {},
        now=local_now(),
        zone=zone().key,
        witnessed=WITNESSED,
        go_valid_minutes=int(bedside.SCAN_VALID_FOR.total_seconds() // 60),
    )


@bp.get("/bedside")
@permission(SCAN)
def scan_page() -> ResponseReturnValue:
    # After a thaw is recorded the page comes back with the last check's fields, ready again.
    keep = {k: request.args.get(k, "")[:400] for k in ("patient", "scan", "method", "expiry")}
    return _page(values={k: v for k, v in keep.items() if v})


def _photo() -> FileStorage | None:
    image = request.files.get("image")
    return image if image is not None and image.filename else None


@bp.post("/bedside/check")
@permission(SCAN)
def check() -> ResponseReturnValue:
    """Check, record (a NO-GO is recorded too) and show the answer."""
    values = form_values()
    try:
        image = _photo()
        if image is not None:
            data = parse(
                io.PhotoCheckIn(),
                {k: v for k, v in values.items() if k in ("patient", "acknowledge_exceptional")},
            )
            try:
                photo = io.read_photo(image.stream)
                data.update(scan=photo.scan, expiry=photo.expiry, method=ScanMethod.PHOTO)
            finally:
                image.close()  # a large upload is spooled to a temporary file: closed once read
        else:
            # Empty unless static/js/bedside.js timed the typing or a camera read the code.
            values["method"] = bedside.entry_method(values.get("scan", ""), values.get("method"))
            data = parse(io.CheckIn(), values)
        scan, verdict = bedside.check_scan(
            db_session(),
            actor(),
            key=current_app.extensions["lotrack_signing_key"],
            patient_text=data["patient"],
            scan_text=data["scan"],
            method=data["method"],
            acknowledge_exceptional=data["acknowledge_exceptional"],
            expiry_text=data["expiry"],
        )
        shown = _verdict(scan, verdict)
    except DomainError as err:
        return _page(form=refusal("check", err, values), values=values), status_of(err)
    return _page(shown)


@bp.post("/bedside/thaw")
@permission(SCAN)
def record_thaw() -> ResponseReturnValue:
    values = form_values()
    try:
        data = parse(io.ThawIn(), {k: v for k, v in values.items() if k in ("din", "thawed_at")})
        thaw = infusions.record_thaw(db_session(), actor(), data["din"], to_utc(data["thawed_at"]))
    except DomainError as err:
        return _page(form=refusal("thaw", err, values), values={}), status_of(err)
    at = thaw.thawed_at.astimezone(zone())
    flash(
        _("Thaw recorded at %(time)s (%(zone)s). Check again.", time=f"{at:%H:%M}", zone=zone().key)
    )
    again = {k: values.get(k, "") for k in ("patient", "scan", "method", "expiry") if values.get(k)}
    return redirect(url_for(".scan_page", **again))


@bp.post("/bedside/infusion")
@permission(SCAN)
def record_infusion() -> ResponseReturnValue:
    """The infusion after a GO: the operator is you; another clinician of the site signs as the
    witness (username and password re-entered, meaning "witnessed")."""
    values = form_values()
    session = db_session()
    scan = None
    try:
        data = parse(io.InfusionIn(), values)
        try:
            scan = clinical_lists.get_scan(session, actor(), data["scan_id"])
        except NotFound as err:
            raise ValidationFailed(err.message, {"scan_id": "unknown"}) from err
        infusion = infusions.record_infusion(
            session,
            actor(),
            scan,
            witness=data["witness"],
            # The password exactly as typed (the schema strips text; a password keeps spaces).
            witness_password=request.form.get("witness_password", ""),
            witness_meaning=data["witness_meaning"],
            started_at=to_utc(data["started_at"]),  # type: ignore[arg-type]
            stopped_at=to_utc(data["stopped_at"]),
            volume_ml=data["volume_ml"],
            premedication=data["premedication"],
            vital_signs=data["vital_signs"],
            immediate_reactions=data["immediate_reactions"],
            lockout=lockout(),
        )
        session.flush()
        wristband = session.get(Patient, infusion.patient_id).wristband  # type: ignore[union-attr]
    except DomainError as err:
        # A refused witness signature keeps its failure count (forms.refusal), nothing else.
        state = refusal("infusion", err, values)
        shown = _verdict(scan) if scan is not None and scan.go else None
        return _page(shown, state), status_of(err)
    flash(_("Infusion recorded. Record any adverse event on the patient's page."))
    return redirect(url_for("clinical.show_patient", wristband=wristband))
