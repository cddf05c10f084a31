"""Donors (coded ids only), their screening results and eligibility determination, and clones."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from lotrack.domain.donor import MARKERS, RESULTS
from lotrack.domain.permissions import may
from lotrack.domain.states import Determination
from lotrack.models import AuditEvent, Donor
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas.manufacturing import CloneIn, DeterminationIn, DonorIn, ScreeningIn
from lotrack.services import audit
from lotrack.services import donor as donors
from lotrack.web.forms import handle_form
from lotrack.web.guard import permission

bp = Blueprint("donor", __name__)
bp.context_processor(lambda: {"may": may})


def _history(session: Session, donor: Donor) -> list[AuditEvent]:
    """The donor's own events and those of its screening results, in sequence order."""
    records = [("donor", donor.id)] + [("donor_screening", s.id) for s in donor.screening]
    events = [e for kind, ident in records for e in audit.history(session, kind, str(ident))]
    return sorted(events, key=lambda e: e.seq)


@bp.get("/donors")
@permission("manufacturing.read")
def list_donors() -> ResponseReturnValue:
    page = donors.list_donors(
        db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE")
    )
    return render_template("donor/list.html", page=page)


@bp.get("/donors/<code>")
@permission("manufacturing.read")
def show_donor(code: str) -> ResponseReturnValue:
    session = db_session()
    found = donors.get_donor(session, code)
    return render_template("donor/show.html", donor=found, history=_history(session, found))


@bp.route("/donors/new", methods=["GET", "POST"])
@permission("manufacturing.write")
def new_donor() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        created = donors.register_donor(db_session(), actor(), **data)
        return redirect(url_for(".show_donor", code=created.code))

    return handle_form(DonorIn(), act, "donor/new.html")


@bp.route("/donors/<code>/screening", methods=["GET", "POST"])
@permission("manufacturing.write")
def add_screening(code: str) -> ResponseReturnValue:
    session = db_session()
    found = donors.get_donor(session, code)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        donors.record_screening(session, actor(), found, **data)
        return redirect(url_for(".show_donor", code=found.code))

    return handle_form(
        ScreeningIn(),
        act,
        "donor/screening.html",
        donor=found,
        markers=MARKERS,
        results=RESULTS,
    )


@bp.route("/donors/<code>/determination", methods=["GET", "POST"])
@permission("donor.determine")
def determine(code: str) -> ResponseReturnValue:
    session = db_session()
    found = donors.get_donor(session, code)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        donors.determine_eligibility(session, actor(), found, **data)
        return redirect(url_for(".show_donor", code=found.code))

    return handle_form(
        DeterminationIn(),
        act,
        "donor/determination.html",
        donor=found,
        determinations=[d.value for d in Determination],
    )


@bp.get("/clones/<code>")
@permission("manufacturing.read")
def show_clone(code: str) -> ResponseReturnValue:
    session = db_session()
    clone = donors.get_clone(session, code)
    history = audit.history(session, "clone", str(clone.id))
    return render_template("donor/clone.html", clone=clone, history=history)


@bp.route("/clones/new", methods=["GET", "POST"])
@permission("manufacturing.write")
def new_clone() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        clone = donors.register_clone(
            db_session(),
            actor(),
            code=data["code"],
            donor_code=data["donor"],
            derived_on=data["derived_on"],
        )
        return redirect(url_for(".show_clone", code=clone.code))

    prefill = {"donor": request.args.get("donor", "")}
    return handle_form(CloneIn(), act, "donor/clone_new.html", prefill=prefill)
