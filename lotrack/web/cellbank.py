"""Cell banks (MCB from a clone, WCB from an MCB), their vials and vial withdrawals."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from lotrack.context import actor, db_session, setting
from lotrack.domain.permissions import may
from lotrack.domain.states import BankTier
from lotrack.models import AuditEvent, Vial
from lotrack.schemas import BankIn, VialsIn, WithdrawIn
from lotrack.services import audit
from lotrack.services import cellbank as banks
from lotrack.web.forms import handle_form
from lotrack.web.guard import permission

bp = Blueprint("cellbank", __name__)
bp.context_processor(lambda: {"may": may})


def _vial_history(session: Session, vial: Vial) -> list[AuditEvent]:
    events = audit.history(session, "vial", str(vial.id))
    if vial.withdrawal is not None:
        events += audit.history(session, "vial_withdrawal", str(vial.withdrawal.id))
    return sorted(events, key=lambda e: e.seq)


@bp.get("/banks")
@permission("manufacturing.read")
def list_banks() -> ResponseReturnValue:
    page = banks.list_banks(
        db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE")
    )
    return render_template("cellbank/list.html", page=page)


@bp.get("/banks/<code>")
@permission("manufacturing.read")
def show_bank(code: str) -> ResponseReturnValue:
    session = db_session()
    bank = banks.get_bank(session, code)
    return render_template(
        "cellbank/show.html",
        bank=bank,
        history=audit.history(session, "cell_bank", str(bank.id)),
    )


@bp.route("/banks/new", methods=["GET", "POST"])
@permission("manufacturing.write")
def new_bank() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        data["parent_code"] = data.pop("parent")
        bank = banks.register_bank(db_session(), actor(), **data)
        return redirect(url_for(".show_bank", code=bank.code))

    prefill = {k: request.args.get(k, "") for k in ("tier", "parent")}
    return handle_form(
        BankIn(), act, "cellbank/new.html", prefill=prefill, tiers=[t.value for t in BankTier]
    )


@bp.route("/banks/<code>/vials/new", methods=["GET", "POST"])
@permission("manufacturing.write")
def add_vials(code: str) -> ResponseReturnValue:
    session = db_session()
    bank = banks.get_bank(session, code)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        banks.add_vials(session, actor(), bank, **data)
        return redirect(url_for(".show_bank", code=bank.code))

    return handle_form(VialsIn(), act, "cellbank/vials.html", bank=bank)


def _vial_page(code: str, number: int, write: bool) -> ResponseReturnValue:
    session = db_session()
    vial = banks.get_vial(session, code, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        banks.withdraw_vial(session, actor(), vial, purpose=data["purpose"])
        return redirect(url_for(".show_vial", code=code, number=number))

    context = {"vial": vial, "history": _vial_history(session, vial)}
    if not write:  # the read-only view of the same page
        return render_template("cellbank/vial.html", errors={}, message="", values={}, **context)
    return handle_form(WithdrawIn(), act, "cellbank/vial.html", **context)


@bp.get("/banks/<code>/vials/<int:number>")
@permission("manufacturing.read")
def show_vial(code: str, number: int) -> ResponseReturnValue:
    return _vial_page(code, number, write=False)


@bp.route("/banks/<code>/vials/<int:number>/withdraw", methods=["GET", "POST"])
@permission("manufacturing.write")
def withdraw_vial(code: str, number: int) -> ResponseReturnValue:
    return _vial_page(code, number, write=True)
