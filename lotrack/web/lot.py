"""Drug-product lots harvested from a run, and the units filled from them with their DINs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from lotrack.context import actor, db_session, setting
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.isbt128 import eye_readable
from lotrack.domain.permissions import may
from lotrack.domain.states import Container, LotState
from lotrack.schemas import FillIn, LotIn
from lotrack.services import audit
from lotrack.services import lot as lots
from lotrack.web.forms import handle_form
from lotrack.web.guard import permission

bp = Blueprint("lot", __name__)
bp.context_processor(lambda: {"may": may, "eye_readable": eye_readable})
STATES = [s.value for s in LotState]


@bp.get("/lots")
@permission("manufacturing.read")
def list_lots() -> ResponseReturnValue:
    state = request.args.get("state", "").strip().upper() or None
    if state is not None and state not in STATES:
        raise ValidationFailed(
            f"Unknown lot state {state}.", {"state": f"one of {', '.join(STATES)}"}
        )
    page = lots.list_lots(
        db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE"), state=state
    )
    return render_template("lot/list.html", page=page, state=state or "", states=STATES)


@bp.get("/lots/<lot_number>")
@permission("manufacturing.read")
def show_lot(lot_number: str) -> ResponseReturnValue:
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    history = audit.history(session, "lot", str(lot.id))
    return render_template("lot/show.html", lot=lot, history=history)


@bp.route("/lots/new", methods=["GET", "POST"])
@permission("manufacturing.write")
def new_lot() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        lot = lots.register_lot(
            db_session(),
            actor(),
            run_code=data["run"],
            harvested_on=data["harvested_on"],
            expires_on=data["expires_on"],
            lot_number=data["lot_number"],
        )
        return redirect(url_for(".show_lot", lot_number=lot.lot_number))

    prefill = {"run": request.args.get("run", "")}
    return handle_form(LotIn(), act, "lot/new.html", prefill=prefill)


@bp.route("/lots/<lot_number>/fill", methods=["GET", "POST"])
@permission("manufacturing.write")
def fill_units(lot_number: str) -> ResponseReturnValue:
    session = db_session()
    lot = lots.get_lot(session, lot_number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        lots.fill_units(session, actor(), lot, facility_id=setting("FACILITY_ID"), **data)
        return redirect(url_for(".show_lot", lot_number=lot.lot_number))

    return handle_form(
        FillIn(), act, "lot/fill.html", lot=lot, containers=[c.value for c in Container]
    )


@bp.get("/units/<din>")
@permission("manufacturing.read")
def show_unit(din: str) -> ResponseReturnValue:
    session = db_session()
    unit = lots.get_unit(session, din)
    history = audit.history(session, "unit", str(unit.id))
    return render_template("lot/unit.html", unit=unit, history=history)
