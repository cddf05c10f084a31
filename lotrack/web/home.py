"""Home page and health check. QA's home page is its "needs decision" queue: every lot ON_HOLD
with the hold record that put it there (services/decisions.py). The site's, QA's and the medical
director's home pages list the adverse-event reports that are overdue."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from lotrack.domain.permissions import SITE_ROLES, Role, may
from lotrack.request_scope import actor, db_session, setting
from lotrack.services import adverse_lifecycle, decisions
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
    if user.role in SITE_ROLES:
        return render_template("home/site.html", site=user.site, overdue=late)
    if may(user.role, "release.decide"):
        page = decisions.needs_decision(
            db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE")
        )
        return render_template("home/queue.html", page=page, overdue=late)
    if user.role == Role.TECHNICIAN:
        return redirect(url_for("lot.list_lots"))
    return render_template("home/index.html", overdue=late)
