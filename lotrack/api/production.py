"""/api/v1 production runs started from WCB vials, and their passages with population doublings."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from lotrack.api import schemas as out
from lotrack.api.common import READ, WRITE, Blueprint, permission
from lotrack.models import ProductionRun
from lotrack.request_scope import actor, db_session
from lotrack.schemas.manufacturing import PassageIn, RunIn
from lotrack.schemas.paging import PageArgs
from lotrack.services import production as service
from lotrack.services.common import Page

bp = Blueprint("api_production", __name__, description="Production runs and passages.")

CODE = "<string(maxlength=64):code>"


@bp.route("/runs")
class Runs(MethodView):
    @permission(READ)
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(out.RunOut, "RunPage"))
    def get(self, args: dict[str, Any]) -> Page[ProductionRun]:
        """List production runs, latest first"""
        return service.list_runs(db_session(), args["page"], args["per_page"])

    @permission(WRITE)
    @bp.arguments(RunIn)
    @bp.response(201, out.RunDetail)
    def post(self, data: dict[str, Any]) -> ProductionRun:
        """Start a run from stored vials of one WCB (the vials are withdrawn for it)"""
        run = service.start_run(
            db_session(),
            actor(),
            code=data["code"],
            bank_code=data["bank"],
            vial_numbers=data["vials"],
            started_on=data["started_on"],
            product=data["product"],
            material_lots=data["material_lots"],
        )
        return run


@bp.route(f"/runs/{CODE}")
@permission(READ)
@bp.response(200, out.RunDetail)
def get_run(code: str) -> ProductionRun:
    """A run with its vials, passages (doublings, cumulative level, limit flags) and lots"""
    return service.get_run(db_session(), code)


@bp.route(f"/runs/{CODE}/passages", methods=["POST"])
@permission(WRITE)
@bp.arguments(PassageIn)
@bp.response(201, out.PassageOut)
def record_passage(data: dict[str, Any], code: str) -> dict[str, Any]:
    """Record the run's next passage; answers its doublings, cumulative level and flags"""
    session = db_session()
    run = service.get_run(session, code)
    passage = service.record_passage(session, actor(), run, **data)
    return next(row for row in out.passage_rows(run) if row["number"] == passage.number)
