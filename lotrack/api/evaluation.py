"""/api/v1 evaluations: how each lot and cell bank measures up against the specification version
it pinned, by the one release rule (domain/release.py): per test the result judged, and every
blocker."""

from __future__ import annotations

from typing import Any

from lotrack.api import quality_schemas as qout
from lotrack.api.common import READ, Blueprint, permission
from lotrack.request_scope import db_session
from lotrack.services import cellbank as banks
from lotrack.services import evaluation
from lotrack.services import lot as lots

bp = Blueprint(
    "api_evaluation",
    __name__,
    description="Whether a lot is releasable and a cell bank qualified, with every blocker.",
)

LOT = "<string(maxlength=64):lot_number>"
CODE = "<string(maxlength=64):code>"


@bp.route(f"/lots/{LOT}/evaluation")
@permission(READ)
@bp.response(200, qout.LotEvaluationOut)
def lot_evaluation(lot_number: str) -> dict[str, Any]:
    """Whether a lot is releasable: per test the result judged, and every blocker"""
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    ev = evaluation.evaluate_lot(session, lot)
    return {"lot": lot.lot_number, "state": lot.state, **qout.evaluation_body(session, ev)}


@bp.route(f"/banks/{CODE}/evaluation")
@permission(READ)
@bp.response(200, qout.BankEvaluationOut)
def bank_evaluation(code: str) -> dict[str, Any]:
    """Whether a cell bank meets its qualification specification, with every blocker"""
    session = db_session()
    bank = banks.get_bank(session, code)
    ev = evaluation.evaluate_bank(session, bank)
    return {
        "bank": bank.code,
        "tier": bank.tier,
        "qualification": bank.qualification,
        **qout.evaluation_body(session, ev),
    }
