"""/api/v1 cell banks (MCB from a clone, WCB from an MCB), their vials and vial withdrawals."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from lotrack.api import schemas as out
from lotrack.api.common import READ, WRITE, Blueprint, permission
from lotrack.api.quality_schemas import Row
from lotrack.api.record_signing import SignedBankDetail, signed_row
from lotrack.models import CellBank, Vial
from lotrack.request_scope import actor, db_session
from lotrack.schemas.manufacturing import BankIn, VialsIn, WithdrawIn
from lotrack.schemas.paging import PageArgs
from lotrack.services import cellbank as service
from lotrack.services.common import Page

bp = Blueprint(
    "api_cellbank", __name__, description="Master and working cell banks and their vials."
)

CODE = "<string(maxlength=64):code>"
NUMBER = "<int(min=1, max=2147483647):number>"


@bp.route("/banks")
class Banks(MethodView):
    @permission(READ)
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(out.BankOut, "BankPage"))
    def get(self, args: dict[str, Any]) -> Page[CellBank]:
        """List cell banks by code"""
        return service.list_banks(db_session(), args["page"], args["per_page"])

    @permission(WRITE)
    @bp.arguments(BankIn)
    @bp.response(201, out.BankDetail)
    def post(self, data: dict[str, Any]) -> CellBank:
        """Register an MCB (parent: a clone) or a WCB (parent: an MCB)"""
        data["parent_code"] = data.pop("parent")
        bank = service.register_bank(db_session(), actor(), **data)
        return bank


@bp.route(f"/banks/{CODE}")
@permission(READ)
@bp.response(200, SignedBankDetail)
def get_bank(code: str) -> Row:
    """A cell bank with its vials, their storage positions and state, and the signatures of QA's
    qualification decisions"""
    session = db_session()
    return signed_row(session, service.get_bank(session, code))


@bp.route(f"/banks/{CODE}/vials", methods=["POST"])
@permission(WRITE)
@bp.arguments(VialsIn)
@bp.response(201, out.VialsCreated)
def add_vials(data: dict[str, Any], code: str) -> dict[str, Any]:
    """Store new vials of a bank, one per free position of a freezer / rack / box"""
    session = db_session()
    bank = service.get_bank(session, code)
    vials = service.add_vials(session, actor(), bank, **data)
    return {"bank": bank.code, "vials": vials}


@bp.route(f"/banks/{CODE}/vials/{NUMBER}/withdraw", methods=["POST"])
@permission(WRITE)
@bp.arguments(WithdrawIn)
@bp.response(201, out.VialOut)
def withdraw_vial(data: dict[str, Any], code: str, number: int) -> Vial:
    """Withdraw a stored vial, saying why; a vial is withdrawn once"""
    session = db_session()
    withdrawal = service.withdraw_vial(
        session, actor(), service.get_vial(session, code, number), purpose=data["purpose"]
    )
    return withdrawal.vial
