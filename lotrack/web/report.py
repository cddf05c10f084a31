"""The trial's reports: the primary
outcome (participants with treatment-related adverse events up to one month, CTCAE v4.03) by
worst grade, dose cohort and lot, with per-lot safety signals; the secondary outcome; and the CSV.
A site user's report counts the site's own participants only."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lotrack.domain import clinical as rules
from lotrack.i18n import word
from lotrack.request_scope import actor, db_session, setting
from lotrack.services import report
from lotrack.services.common import Page
from lotrack.web.guard import permission

RULE = _l(
    "Treatment-related means an adverse event attributed possible, probable or definite, with"
    " onset within 30 days of the participant's first infusion. A participant is counted once,"
    " at the worst grade of such events."
)
NOT_SEEN = "not yet seen"  # services.report.secondary_outcome's row of those not yet visited
TOTAL = "reduced or stabilised"  # and its total, improved + stable: the secondary outcome


def _secondary(counts: dict[str, int]) -> list[tuple[str, int]]:
    """The secondary outcome's rows: each response named in the reader's language, its count,
    then the outcome itself, "reduced or stabilised"."""
    names = {NOT_SEEN: _("not yet seen"), TOTAL: _("reduced or stabilised (improved + stable)")}
    return [
        (names[r] if r in names else word(r), counts[r])
        for r in (*rules.RESPONSES, NOT_SEEN, TOTAL)
    ]


bp = Blueprint("report", __name__)


@bp.get("/reports")
@permission("reports.read")
def reports() -> ResponseReturnValue:
    session = db_session()
    outcome = report.primary_outcome(session, actor())
    signalled = " ".join(outcome.signals)
    # The by-lot table grows with every lot infused: it is shown a page at a time (the CSV and
    # the API give every lot), so the page's size does not grow with the programme.
    per_page = setting("PAGE_SIZE")
    rows = sorted(outcome.by_lot.items())
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    return render_template(
        "clinical/reports.html",
        outcome=outcome,
        lots=Page(rows[(page - 1) * per_page : page * per_page], page, per_page, len(rows)),
        flagged={lot for lot in outcome.by_lot if f"Lot {lot}:" in signalled},
        secondary=_secondary(report.secondary_outcome(session, actor(), outcome)),
        enrolment=report.enrolment(session, actor(), setting("ENROLMENT_TARGET")),
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
