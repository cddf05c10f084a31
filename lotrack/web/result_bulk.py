"""A lot's results entered at once in a grid (every filled row recorded, or none), and the import
template of a specification version as a CSV download."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.permissions import may
from lotrack.domain.specs import Verdict
from lotrack.domain.text import N_
from lotrack.i18n import word
from lotrack.models import Lot
from lotrack.request_scope import actor, db_session
from lotrack.services import clock, evaluation, result_bulk, specs
from lotrack.services import import_template as templates
from lotrack.services import lot as lots
from lotrack.services.result import OPEN_LOT_STATES
from lotrack.web.forms import NO_FORM, FormState, back_to, form_values, submit
from lotrack.web.guard import permission
from lotrack.web.specs import _version as spec_version

bp = Blueprint("result_bulk", __name__)
bp.context_processor(lambda: {"may": may})

# What a row of the grid holds, as `<field>-<TEST CODE>` in the form.
ROW_FIELDS = ("test", "value", "unit", "performed_on", "instrument")
SHARED_FIELDS = ("performed_on", "instrument", "reagent_lot", "material_lots")


def _page(lot: Lot, form: FormState = NO_FORM) -> str:
    """The grid: one row per test of the lot's pinned specification, with what counts now."""
    session = db_session()
    ev = evaluation.evaluate_lot(session, lot)
    values = form.values or {"performed_on": str(clock.today(session))}
    return render_template(
        "result_bulk/grid.html",
        lot=lot,
        ev=ev,
        form=form,
        values=values,
        open=lot.state in OPEN_LOT_STATES and ev.version is not None,
        enterable={Verdict.MISSING.value},
    )


def _date(text: str, key: str, bad: dict[str, str]) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        bad[key] = N_("a date: YYYY-MM-DD")
        return None


def _parsed(lot: Lot, form: dict[str, str]) -> tuple[list[result_bulk.GridRow], Any]:
    """The grid's rows and shared values from the form, or a refusal naming each bad cell."""
    bad: dict[str, str] = {}
    rows = []
    assert lot.spec_version is not None
    for t in specs.content_of(lot.spec_version).tests:
        cell = {f: form.get(f"{f}-{t.code}", "").strip() for f in ROW_FIELDS}
        if not cell["value"]:
            continue
        rows.append(
            result_bulk.GridRow(
                test=cell["test"] or t.code,
                value=cell["value"],
                unit=cell["unit"],
                performed_on=_date(cell["performed_on"], f"{t.code}.performed_on", bad),
                instrument=cell["instrument"],
            )
        )
    shared = result_bulk.GridDefaults(
        performed_on=_date(form.get("performed_on", ""), "performed_on", bad),
        instrument=form.get("instrument", "").strip()[:200],
        reagent_lot=form.get("reagent_lot", "").strip()[:200],
        material_lots=form.get("material_lots", "").replace(";", ",").replace(",", " ").split(),
    )
    if bad:
        raise ValidationFailed(N_("Some cells are not dates; nothing was recorded."), bad)
    return rows, shared


@bp.route("/lots/<lot_number>/results/grid", methods=["GET", "POST"])
@permission("results.write")
def grid(lot_number: str) -> ResponseReturnValue:
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    if request.method != "POST":
        return _page(lot)

    def act(_data: dict[str, Any]) -> ResponseReturnValue:
        rows, shared = _parsed(lot, form_values())
        done = result_bulk.record_grid(session, actor(), lot, rows, shared)
        flash(
            _(
                "%(num)s results recorded in lot %(lot)s: %(results)s.",
                num=len(done),
                lot=lot.lot_number,
                results="; ".join(f"{r.analyte} {r.value} {word(r.verdict)}" for r in done),
            )
        )
        return redirect(back_to(url_for(".grid", lot_number=lot.lot_number)))

    return submit("grid", None, act, lambda form: _page(lot, form))


@bp.get("/specs/<int:version_id>/import-template.csv")
@permission("manufacturing.read")
def import_template(version_id: int) -> ResponseReturnValue:
    """The CSV a technician fills in and imports: one row per test of the version."""
    version = spec_version(version_id)
    lot_number = request.args.get("lot", "").strip().upper()[:64]
    text = templates.template_csv(version, lot_number)
    # A byte-order mark, so that a spreadsheet opens the UTF-8 (limits hold ≥, µ) as UTF-8.
    resp = Response("\ufeff" + text, mimetype="text/csv")
    resp.headers["Content-Disposition"] = f"attachment; filename={templates.template_name(version)}"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
