"""An adverse event's page: its first report, every follow-up after it (none overwritten), its
current state and reporting clock, the reports made; the forms that add a follow-up or record a
report; the overdue reports; the events a report's count stands for; and the CTCAE dictionary,
searchable by term and system organ class with each grade's definition."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain import adverse as life
from lotrack.domain import clinical as rules
from lotrack.domain import ctcae
from lotrack.domain.errors import NotFound
from lotrack.models import AdverseEvent
from lotrack.request_scope import actor, db_session
from lotrack.schemas import adverse as io
from lotrack.services import adverse_lifecycle as lifecycle
from lotrack.services import report
from lotrack.web.clinical import PATIENT, seriousness_list, seriousness_name
from lotrack.web.forms import NO_FORM, FormState, form_values, submit
from lotrack.web.guard import permission

EVENT = PATIENT + "/adverse-events/<int(min=1, max=2147483647):event_id>"  # an INTEGER key

bp = Blueprint("adverse", __name__)
bp.context_processor(
    lambda: {"seriousness_name": seriousness_name, "seriousness_list": seriousness_list}
)


def _event(wristband: str, event_id: int) -> AdverseEvent:
    event = lifecycle.get_event(db_session(), actor(), event_id)
    if event.patient.wristband != wristband:
        raise NotFound(_("No such adverse event for this patient."), {"event": _("not found")})
    return event


def _page(event: AdverseEvent, form: FormState = NO_FORM) -> str:
    session = db_session()
    view = lifecycle.views(session, [event])[event.id]
    return render_template(
        "adverse/event.html",
        view=view,
        e=event,
        entry=ctcae.active().terms.get(event.term),
        form=form,
        outcomes=rules.OUTCOMES,
        attributions=rules.ATTRIBUTIONS,
        seriousness=rules.SERIOUSNESS,
        kinds=life.REPORT_KINDS,
        measurement=json.loads(event.measurement) if event.measurement else None,
        today=lifecycle.site_today(event.patient).isoformat(),
    )


@bp.get(EVENT)
@permission("clinical.read")
def show_event(wristband: str, event_id: int) -> ResponseReturnValue:
    return _page(_event(wristband, event_id))


def _back(event: AdverseEvent, message: str) -> ResponseReturnValue:
    flash(message)
    return redirect(
        url_for(".show_event", wristband=event.patient.wristband, event_id=event.id) + "#history"
    )


@bp.post(EVENT + "/follow-ups")
@permission("adverse.write")
def follow_up(wristband: str, event_id: int) -> ResponseReturnValue:
    event = _event(wristband, event_id)
    values = form_values()
    changes_seriousness = values.pop("change_seriousness", "") == "yes"
    values["seriousness"] = ",".join(request.form.getlist("seriousness"))

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        # Ticked "seriousness changes" with no criterion: the event is no longer serious.
        if not changes_seriousness:
            data["seriousness"] = None
        elif data["seriousness"] is None:
            data["seriousness"] = []
        lifecycle.add_follow_up(db_session(), actor(), event, **data)
        return _back(event, _("Follow-up of AE %(id)s recorded.", id=event.id))

    return submit(
        "follow_up", io.AdverseFollowUpIn(), act, lambda form: _page(event, form), values=values
    )


@bp.post(EVENT + "/reports")
@permission("adverse.report")
def record_report(wristband: str, event_id: int) -> ResponseReturnValue:
    event = _event(wristband, event_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        lifecycle.record_report(db_session(), actor(), event, **data)
        return _back(event, _("Report of AE %(id)s recorded.", id=event.id))

    return submit("report", io.AdverseReportIn(), act, lambda form: _page(event, form))


@bp.get("/adverse-events")
@permission("reports.read")
def list_events() -> ResponseReturnValue:
    """The events behind a count of the primary-outcome report (?event=1&event=2 ...)."""
    ids = [int(i) for i in request.args.getlist("event") if i.isdigit()][:1000]
    views = report.events_by_id(db_session(), actor(), ids)
    return render_template("adverse/list.html", views=views)


@bp.get("/adverse-events/overdue")
@permission("clinical.read")
def overdue() -> ResponseReturnValue:
    rows = lifecycle.overdue_reports(db_session(), actor())
    return render_template("adverse/overdue.html", rows=rows)


@bp.get("/ctcae")
@permission("clinical.read")
def terms() -> ResponseReturnValue:
    q = request.args.get("q", "")[:120]
    soc = request.args.get("soc", "")[:120]
    dictionary = ctcae.active()
    return render_template(
        "adverse/terms.html",
        dictionary=dictionary,
        found=dictionary.search(q, soc),
        q=q,
        soc=soc,
    )
