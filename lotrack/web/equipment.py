"""Instrument pages: the instruments with their calibration and maintenance due dates, one
instrument's records, and the forms that register an instrument and record a calibration or a
maintenance."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain.materials import EquipmentEventKind
from lotrack.domain.permissions import may
from lotrack.models import Instrument
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas.materials import EquipmentEventIn, InstrumentIn
from lotrack.services import clock, equipment
from lotrack.web.forms import NO_FORM, FormState, handle_form, submit
from lotrack.web.guard import permission

bp = Blueprint("equipment", __name__)
bp.context_processor(lambda: {"may": may})
READ = "manufacturing.read"


def _rows(instruments: list[Instrument]) -> list[dict[str, Any]]:
    """Each instrument with its next due dates and whether it is in calibration today."""
    today = clock.today(db_session())
    return [
        {
            "instrument": i,
            "calibration_due": equipment.next_due(i, EquipmentEventKind.CALIBRATION),
            "maintenance_due": equipment.next_due(i, EquipmentEventKind.MAINTENANCE),
            "out": equipment.status_on(i, today),
        }
        for i in instruments
    ]


@bp.get("/instruments")
@permission(READ)
def list_instruments() -> ResponseReturnValue:
    """A page of instruments and their due dates (3 queries)."""
    page = equipment.list_instruments(
        db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE")
    )
    return render_template("equipment/list.html", rows=_rows(page.items), page=page)


@bp.route("/instruments/new", methods=["GET", "POST"])
@permission("equipment.write")
def new_instrument() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        made = equipment.register_instrument(db_session(), actor(), **data)
        return redirect(url_for(".show_instrument", code=made.code))

    return handle_form(InstrumentIn(), act, "equipment/new.html")


def _page(instrument: Instrument, form: FormState = NO_FORM) -> str:
    return render_template(
        "equipment/show.html",
        row=_rows([instrument])[0],
        kinds=[k.value for k in EquipmentEventKind],
        form=form,
    )


@bp.get("/instruments/<code>")
@permission(READ)
def show_instrument(code: str) -> ResponseReturnValue:
    return _page(equipment.get_instrument(db_session(), code))


@bp.post("/instruments/<code>/events")
@permission("equipment.write")
def record_event(code: str) -> ResponseReturnValue:
    session = db_session()
    instrument = equipment.get_instrument(session, code)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        equipment.record_event(session, actor(), instrument, **data)
        flash(_("Record kept for %(code)s.", code=instrument.code))
        return redirect(url_for(".show_instrument", code=instrument.code))

    return submit("event", EquipmentEventIn(), act, lambda form: _page(instrument, form))
