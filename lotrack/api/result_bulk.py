"""/api/v1 many results of a lot at once: verified in one request (every one or none, one audited
verification each, never one's own), entered as a batch (every entry or none); a pending result's
final reading; a specification's import template."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from lotrack.api import quality_schemas as qout
from lotrack.api.common import READ, Blueprint, permission
from lotrack.request_scope import actor, db_session
from lotrack.schemas.quality import GridIn, ReadingIn, VerifySelectedIn
from lotrack.services import import_template, result_bulk, result_reading, specs
from lotrack.services import lot as lots
from lotrack.services import result as service

bp = Blueprint(
    "api_result_bulk",
    __name__,
    description="A lot's results verified or entered at once, all or none; a pending result's"
    " final reading; import templates.",
)

LOT = "<string(maxlength=64):lot_number>"
ID = "<int(min=1, max=2147483647):result_id>"
VERSION = "<int(min=1, max=2147483647):version_id>"
CSV = {200: {"description": "the template, UTF-8 CSV", "content": {"text/csv": {}}}}


@bp.route(f"/lots/{LOT}/results/verify", methods=["POST"])
@permission("results.verify")
@bp.arguments(VerifySelectedIn)
@bp.response(200, qout.ResultOut(many=True))
def verify_results(data: dict[str, Any], lot_number: str) -> list[qout.Row]:
    """Verify the listed results of a lot as the second person: every one, or none (a list
    holding one's own result is refused naming it)"""
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    done = result_bulk.verify_results(session, actor(), lot, data["results"])
    return qout.result_rows(session, done)


@bp.route(f"/lots/{LOT}/results/batch", methods=["POST"])
@permission("results.write")
@bp.arguments(GridIn)
@bp.response(201, qout.ResultOut(many=True))
def record_batch(data: dict[str, Any], lot_number: str) -> list[qout.Row]:
    """Record many results of a lot at once, each judged as a single entry: every entry with a
    value, or none (refusals keyed `TEST.field`)"""
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    rows = [result_bulk.GridRow(**row) for row in data.pop("rows")]
    done = result_bulk.record_grid(session, actor(), lot, rows, result_bulk.GridDefaults(**data))
    return qout.result_rows(session, done)


@bp.route(f"/results/{ID}/complete", methods=["POST"])
@permission("results.write")
@bp.arguments(ReadingIn)
@bp.response(201, qout.ResultOut)
def complete(data: dict[str, Any], result_id: int) -> qout.Row:
    """Record the final reading of a pending (incubating) result, read on or after its due date"""
    session = db_session()
    pending = service.get_result(session, result_id)
    done = result_reading.complete_pending(session, actor(), pending, **data)
    return qout.result_rows(session, [done])[0]


@bp.route(f"/specs/{VERSION}/import-template.csv")
@permission(READ)
@bp.doc(responses=CSV)
def template(version_id: int) -> Response:
    """The import template of a specification version: the import's columns, one row per test
    (?lot= fills the lot column)"""
    version = specs.get_version(db_session(), version_id)
    text = import_template.template_csv(version, request.args.get("lot", "").strip()[:64])
    name = import_template.template_name(version)
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
