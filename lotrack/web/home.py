"""Home page and health check. Every role's home page opens with its worklist: what waits on it,
counted, each kind linked to where the work is done (services/worklist.py). QA's also shows the
"needs decision" queue: every lot ON_HOLD with the hold record that put it there
(services/decisions.py). The site's, QA's and the medical director's home pages list the
adverse-event reports that are overdue."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from lotrack.domain.permissions import SITE_ROLES, Role, may
from lotrack.request_scope import actor, db_session, setting
from lotrack.services import adverse_lifecycle, decisions, worklist
from lotrack.web.guard import login_required

bp = Blueprint("home", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    db_session().execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """No icon: pages say so with a data: link, but a browser's PDF viewer still asks."""
    return "", 204


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    user = actor()
    # Adverse-event reports due and not made, on the site's and QA's (and the medical
    # director's) home page: a late SUSAR report is a finding at any inspection.
    late = (
        adverse_lifecycle.overdue_reports(db_session(), user)
        if user.role in (*SITE_ROLES, Role.QA, Role.MEDICAL_DIRECTOR)
        else []
    )
    work = worklist.worklist(db_session(), user, visit_rules())
    if user.role in SITE_ROLES:
        return render_template("home/site.html", site=user.site, overdue=late, work=work)
    if may(user.role, "release.decide"):
        page = decisions.needs_decision(
            db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE")
        )
        return render_template("home/queue.html", page=page, overdue=late, work=work)
    return render_template("home/index.html", overdue=late, work=work)


def visit_rules() -> worklist.VisitRules:
    """The one-month visit's day and window as configured."""
    return worklist.VisitRules(setting("VISIT_DAY"), setting("VISIT_WINDOW_DAYS"))
