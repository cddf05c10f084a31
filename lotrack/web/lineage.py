"""Lineage: a lot back to its donor, and a bank forward to every lot and unit made from it."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from lotrack.domain.isbt128 import eye_readable
from lotrack.request_scope import actor, db_session, setting
from lotrack.services import lineage
from lotrack.services.production import passage_figures
from lotrack.web.guard import permission

bp = Blueprint("lineage", __name__)
bp.context_processor(lambda: {"eye_readable": eye_readable})


@bp.get("/lineage/lot/<lot_number>")
@permission("manufacturing.read")
def lot_back(lot_number: str) -> ResponseReturnValue:
    found = lineage.lot_back(db_session(), actor(), lot_number)
    rows = list(zip(found.run.passages, found.figures, strict=True))
    return render_template("lineage/lot.html", lin=found, rows=rows)


@bp.get("/lineage/bank/<code>")
@permission("manufacturing.read")
def bank_forward(code: str) -> ResponseReturnValue:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    found = lineage.bank_forward(db_session(), actor(), code, page, setting("PAGE_SIZE"))
    # Figures are arithmetic over rows already loaded: the run's bank is one of `found.banks`.
    figures = {run.id: passage_figures(run) for run in found.runs}
    return render_template("lineage/bank.html", fwd=found, figures=figures)
