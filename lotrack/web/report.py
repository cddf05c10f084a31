"""The trial's reports: the primary
outcome (participants with treatment-related adverse events up to one month, CTCAE v4.03) by
worst grade, dose cohort and lot, with per-lot safety signals; the secondary outcome; and the CSV.
A site user's report counts the site's own participants only."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from lotrack.domain import clinical as rules
from lotrack.request_scope import actor, db_session
from lotrack.services import report
from lotrack.web.guard import permission

RULE = (
    "Treatment-related means an adverse event attributed possible, probable or definite, with"
    " onset within 30 days of the participant's first infusion. A participant is counted once,"
    " at the worst grade of such events."
)

bp = Blueprint("report", __name__)


@bp.get("/reports")
@permission("reports.read")
def reports() -> ResponseReturnValue:
    session = db_session()
    outcome = report.primary_outcome(session, actor())
    return render_template(
        "clinical/reports.html",
        outcome=outcome,
        secondary=report.secondary_outcome(session, actor(), outcome),
        rule=RULE,
        related=sorted(rules.RELATED),
    )


@bp.get("/reports/primary-outcome.csv")
@permission("reports.read")
def primary_csv() -> ResponseReturnValue:
    outcome = report.primary_outcome(db_session(), actor())
    return Response(
        report.primary_csv(outcome),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="primary-outcome.csv"'},
    )
