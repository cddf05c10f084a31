"""/api/v1 adverse events after their first report: the history (follow-ups, never
overwritten), current state and reporting clock of an event; adding a follow-up; recording the
sponsor notification or the regulatory report; the overdue reports; and the CTCAE dictionary
(search, and the grade a measurement gives). Another site's event is a 404."""

from __future__ import annotations

from typing import Any

from lotrack.api import adverse_schemas as out
from lotrack.api.common import Blueprint, permission
from lotrack.api.schemas import page_of
from lotrack.domain import ctcae
from lotrack.domain import ctcae_measures as measures
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_
from lotrack.request_scope import actor, db_session
from lotrack.schemas import adverse as io
from lotrack.schemas.paging import PageArgs
from lotrack.services import adverse_lifecycle as lifecycle
from lotrack.services.common import Page

bp = Blueprint(
    "api_adverse",
    __name__,
    description="Adverse events after their first report: follow-ups, resolution, reports to the"
    " sponsor and the regulator, the reporting clock; and the CTCAE v4.03 dictionary.",
)
EVENT = "/adverse-events/<int(min=1, max=2147483647):event_id>"  # an INTEGER key


@bp.route(EVENT)
@permission("clinical.read")
@bp.response(200, out.EventHistoryOut)
def get_event(event_id: int) -> lifecycle.EventView:
    """An adverse event as first reported, every follow-up, its state now, its clock and the
    reports made"""
    return lifecycle.event_view(db_session(), actor(), event_id)


@bp.route(EVENT + "/follow-ups", methods=["POST"])
@permission("adverse.write")
@bp.arguments(io.AdverseFollowUpIn)
@bp.response(201, out.EventHistoryOut)
def add_follow_up(data: dict[str, Any], event_id: int) -> lifecycle.EventView:
    """Add a follow-up: only what changed (grade, outcome and resolution date, attribution,
    seriousness), the treatment, a note; a grade or attribution change needs a reason"""
    session = db_session()
    event = lifecycle.get_event(session, actor(), event_id)
    lifecycle.add_follow_up(session, actor(), event, **data)
    session.flush()
    return lifecycle.views(session, [event])[event.id]


@bp.route(EVENT + "/reports", methods=["POST"])
@permission("adverse.report")
@bp.arguments(io.AdverseReportIn)
@bp.response(201, out.EventHistoryOut)
def record_report(data: dict[str, Any], event_id: int) -> lifecycle.EventView:
    """Record the site's notification to the sponsor, or the expedited report to the regulator:
    who sent it, when, to whom, under which reference"""
    session = db_session()
    event = lifecycle.get_event(session, actor(), event_id)
    lifecycle.record_report(session, actor(), event, **data)
    session.flush()
    return lifecycle.views(session, [event])[event.id]


@bp.route("/adverse-events/overdue")
@permission("clinical.read")
@bp.arguments(PageArgs, location="query")
@bp.response(200, page_of(out.OverdueRowOut, "OverdueReportPage"))
def overdue(args: dict[str, Any]) -> Page[lifecycle.OverdueRow]:
    """Reports due and not made (sponsor notification, SUSAR report), most late first"""
    rows = lifecycle.overdue_reports(db_session(), actor())
    page, per_page = max(1, args["page"]), max(1, min(args["per_page"], 500))
    return Page(rows[(page - 1) * per_page : page * per_page], page, per_page, len(rows))


@bp.route("/ctcae/terms")
@permission("clinical.read")
@bp.arguments(io.TermSearchArgs, location="query")
@bp.response(200, out.TermListOut)
def terms(args: dict[str, Any]) -> dict[str, Any]:
    """CTCAE v4.03 terms whose name, SOC or MedDRA code hold every word of q, within soc"""
    dictionary = ctcae.active()
    return {
        "source": dictionary.source,
        "total": len(dictionary.terms),
        "terms": dictionary.search(args["q"], args["soc"]),
    }


@bp.route("/ctcae/propose", methods=["POST"])
@permission("clinical.read")
@bp.arguments(io.ProposeIn)
@bp.response(200, out.ProposalOut)
def propose(data: dict[str, Any]) -> dict[str, Any]:
    """The grade a measurement gives by the term's CTCAE definition (nothing is recorded)"""
    if data["measurement"] is None:
        raise ValidationFailed(N_("Give the measurement."), {"measurement": N_("required")})
    proposal = measures.propose(data["term"], data["measurement"])
    return {"term": data["term"], "grade": proposal.grade, "why": proposal.why}
