"""Deviations on a run or a lot: the list (open or closed), opening one, its impact assessment and
QA's closure. An open deviation blocks the release of its lot (or of every lot of its run)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.permissions import may
from lotrack.domain.record_signatures import SubjectKind, meanings_of
from lotrack.domain.states import DeviationStatus
from lotrack.domain.text import N_, said
from lotrack.models import Deviation
from lotrack.request_scope import actor, db_session, lockout, setting
from lotrack.schemas.record_signing import CloseSignedIn, split_sign_in
from lotrack.schemas.release import AssessIn, DeviationIn
from lotrack.services import audit, record_signature
from lotrack.services import deviation as deviations
from lotrack.services import lot as lots
from lotrack.services import production as runs
from lotrack.web.forms import NO_FORM, FormState, handle_form, submit
from lotrack.web.guard import permission

bp = Blueprint("deviation", __name__)
bp.context_processor(lambda: {"may": may})
STATUSES = tuple(DeviationStatus)


@bp.get("/deviations")
@permission("manufacturing.read")
def list_deviations() -> ResponseReturnValue:
    status = request.args.get("status", "").strip().lower() or None
    if status is not None and status not in STATUSES:
        raise ValidationFailed(
            said("Unknown deviation status %(status)s.", status=status),
            {"status": N_("open or closed")},
        )
    page = deviations.list_deviations(
        db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE"), status=status
    )
    return render_template("deviation/list.html", page=page, status=status or "", statuses=STATUSES)


@bp.route("/deviations/new", methods=["GET", "POST"])
@permission("deviation.write")
def new_deviation() -> ResponseReturnValue:
    session = db_session()

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        if data["lot"] and data["run"]:
            raise ValidationFailed(
                N_("A deviation concerns one run or one lot, not both."),
                {"run": N_("leave empty when a lot is given")},
            )
        lot = lots.get_lot(session, data["lot"]) if data["lot"] else None
        run = runs.get_run(session, data["run"]) if data["run"] else None
        dev = deviations.open_deviation(
            session, actor(), description=data["description"], lot=lot, run=run
        )
        flash(
            _(
                "Deviation %(number)s opened; it blocks release until QA closes it.",
                number=dev.number,
            )
        )
        return redirect(url_for(".show_deviation", number=dev.number))

    prefill = {k: request.args.get(k, "") for k in ("lot", "run")}
    return handle_form(DeviationIn(), act, "deviation/new.html", prefill=prefill)


def _page(dev: Deviation, form: FormState = NO_FORM) -> str:
    return render_template(
        "deviation/show.html",
        dev=dev,
        form=form,
        history=audit.history(db_session(), "deviation", str(dev.id)),
        meanings=meanings_of(SubjectKind.DEVIATION),
        signatures=record_signature.signatures_of(db_session(), dev),
    )


@bp.get("/deviations/<number>")
@permission("manufacturing.read")
def show_deviation(number: str) -> ResponseReturnValue:
    return _page(deviations.get_deviation(db_session(), number))


@bp.post("/deviations/<number>/assess")
@permission("deviation.write")
def assess(number: str) -> ResponseReturnValue:
    session = db_session()
    dev = deviations.get_deviation(session, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        deviations.assess(session, actor(), dev, data["impact_assessment"])
        flash(_("Impact of %(number)s assessed.", number=dev.number))
        return redirect(url_for(".show_deviation", number=dev.number))

    return submit("assess", AssessIn(), act, lambda form: _page(dev, form))


@bp.post("/deviations/<number>/close")
@permission("deviation.close")
def close(number: str) -> ResponseReturnValue:
    session = db_session()
    dev = deviations.get_deviation(session, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        sign, rest = split_sign_in(data)
        deviations.close(session, actor(), dev, rest["closure"], sign_in=sign, lockout=lockout())
        flash(_("%(number)s closed.", number=dev.number))
        return redirect(url_for(".show_deviation", number=dev.number))

    return submit("close", CloseSignedIn(), act, lambda form: _page(dev, form))
