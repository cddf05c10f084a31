"""Trace and recall pages: a patient back to the donor, a donor, bank or lot forward to every unit
and patient, and a hold's or recall's impact with its notification log (services/trace.py).

The blueprint is named "tracing" because the API's lineage blueprint holds the name "trace"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lotrack.domain.errors import DomainError, NotFound, ValidationFailed
from lotrack.domain.isbt128 import eye_readable
from lotrack.domain.permissions import may
from lotrack.errors import status_of
from lotrack.i18n import spoken, word
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas import parse
from lotrack.schemas.release import NotifyIn
from lotrack.schemas.trace import ForwardPageArgs, PatientSearchArgs
from lotrack.services import containment as containments
from lotrack.services import exceptional, trace
from lotrack.services.trace import RecallImpact
from lotrack.web.forms import NO_FORM, FormState, submit
from lotrack.web.guard import permission
from lotrack.web.signing import notify_state

bp = Blueprint("trace", __name__)
bp.context_processor(lambda: {"may": may, "eye_readable": eye_readable})
SCOPES = (
    ("donor", _l("Donor code")),
    ("bank", _l("Cell bank code (MCB or WCB)")),
    ("lot", _l("Lot number")),
)


def _refused(template: str, err: DomainError, **context: Any) -> ResponseReturnValue:
    """The search form again, with what was typed and why it found nothing (4xx)."""
    message, fields = spoken(err.message, err.fields)
    page = render_template(template, message=message, errors=fields, **context)
    return page, status_of(err)


@bp.get("/trace/back")
@permission("clinical.read")
def back() -> ResponseReturnValue:
    """The wristband form; with ?patient=, every infusion and the chain behind it."""
    typed = request.args.get("patient", "")
    try:
        wristband = parse(PatientSearchArgs(), request.args.to_dict()).get("patient")
        found = trace.patient_back(db_session(), actor(), wristband) if wristband else None
    except (ValidationFailed, NotFound) as err:
        return _refused("trace/back.html", err, typed=typed, found=None)
    return render_template("trace/back.html", typed=typed, found=found, errors={}, message="")


@bp.get("/trace/forward")
@permission("trace.read")
def forward() -> ResponseReturnValue:
    """The donor/bank/lot form; with one of them, its lots and its units a page at a time (the
    PAGE_SIZE setting), where each is and whom they reached, with the totals of every unit."""
    typed = {k: request.args.get(k, "") for k, _label in SCOPES}
    context: dict[str, Any] = {"typed": typed, "scopes": SCOPES, "found": None}
    try:
        given = parse(ForwardPageArgs(), request.args.to_dict())
        limit, after = given.pop("limit"), given.pop("after", None)
        context |= {"given": given, "after": after}
        if given:
            context["found"] = trace.forward(
                db_session(), actor(), **given, limit=limit, after=after
            )
    except (ValidationFailed, NotFound) as err:
        return _refused("trace/forward.html", err, **context)
    return render_template("trace/forward.html", errors={}, message="", **context)


def _impact_page(found: RecallImpact, form: FormState = NO_FORM) -> str:
    return render_template(
        "trace/impact.html",
        impact=found,
        record=found.containment,
        notify=notify_state(form),
        recipient_roles=exceptional.RECIPIENT_ROLES,
        zone=setting("SITE_TIME_ZONE"),
    )


@bp.get("/containments/<number>/impact")
@permission("trace.read")
def impact(number: str) -> ResponseReturnValue:
    return _impact_page(trace.impact(db_session(), actor(), number))


@bp.post("/containments/<number>/impact/notify")
@permission("release.decide")
def notify(number: str) -> ResponseReturnValue:
    """Record who was told of this hold or recall (audited), then back to the impact list."""
    session = db_session()
    record = containments.get_containment(session, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        exceptional.record_notification(session, actor(), containment_id=record.id, **data)
        flash(_("Notification of the %(role)s recorded.", role=word(data["recipient_role"])))
        return redirect(url_for(".impact", number=record.number) + "#notifications")

    return submit(
        "notify",
        NotifyIn(),
        act,
        lambda form: _impact_page(trace.impact(session, actor(), number), form),
    )
