"""/api/v1 lineage: a lot back to its donor, and a bank forward to every lot and unit."""

from __future__ import annotations

from typing import Any

from lotrack.api import schemas as out
from lotrack.api.common import READ, Blueprint, permission
from lotrack.domain.states import BankTier
from lotrack.models import CellBank, ProductionRun
from lotrack.request_scope import actor, db_session
from lotrack.schemas.trace import TraceBackArgs, TraceForwardArgs
from lotrack.services import lineage as service

bp = Blueprint(
    "api_lineage", __name__, description="Lineage, back to the donor and forward to units."
)


class _BankWithRuns:
    """A WCB as the forward tree shows it: its own fields, plus the runs made from it."""

    def __init__(self, bank: CellBank, runs: list[ProductionRun]) -> None:
        self._bank = bank
        self.runs = runs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bank, name)


@bp.route("/trace/back")
@permission(READ)
@bp.arguments(TraceBackArgs, location="query")
@bp.response(200, out.TraceBack)
def trace_back(args: dict[str, Any]) -> service.LotLineage:
    """From a lot back to its donor: donor, clone, MCB, WCB, run with passages, lot with units"""
    return service.lot_back(db_session(), actor(), args["lot"])


@bp.route("/trace/forward")
@permission(READ)
@bp.arguments(TraceForwardArgs, location="query")
@bp.response(200, out.TraceForward)
def trace_forward(args: dict[str, Any]) -> dict[str, Any]:
    """From a bank forward: its WCBs (itself, for a WCB), a page of their runs with each run's
    lots and units; the counts are of every run"""
    tree = service.bank_forward(db_session(), actor(), args["bank"], args["page"], args["per_page"])
    wcbs = [b for b in tree.banks if b.tier == BankTier.WCB]
    return {
        "bank": tree.bank,
        "wcbs": [_BankWithRuns(b, tree.runs_of(b)) for b in wcbs],
        "run_count": tree.page.total,
        "lot_count": tree.lot_count,
        "unit_count": tree.unit_count,
        "page": tree.page.page,
        "per_page": tree.page.per_page,
        "pages": tree.page.pages,
    }
