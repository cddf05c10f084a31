"""/api/v1 instruments with their calibration and maintenance records and due dates; a result
naming a registered instrument is judged by them (services/equipment.py)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from lotrack.api import schemas as out
from lotrack.api.common import READ, Blueprint, permission
from lotrack.models import EquipmentEvent, Instrument
from lotrack.request_scope import actor, db_session
from lotrack.schemas.materials import EquipmentEventIn, InstrumentIn
from lotrack.schemas.paging import PageArgs
from lotrack.services import equipment
from lotrack.services.common import Page

bp = Blueprint(
    "api_equipment",
    __name__,
    description="Instruments with their calibration and maintenance records.",
)
CODE = "<string(maxlength=64):code>"


class EquipmentEventOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    performed_on = fields.Date()
    due_on = fields.Date()
    passed = fields.Boolean()
    note = fields.String()


class InstrumentOut(Schema):
    code = fields.String()
    name = fields.String()
    events = fields.List(fields.Nested(EquipmentEventOut))


@bp.route("/instruments")
class Instruments(MethodView):
    @permission(READ)
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(InstrumentOut, "InstrumentPage"))
    def get(self, args: dict[str, Any]) -> Page[Instrument]:
        """Instruments with their calibration and maintenance records, by code"""
        return equipment.list_instruments(db_session(), args["page"], args["per_page"])

    @permission("equipment.write")
    @bp.arguments(InstrumentIn)
    @bp.response(201, InstrumentOut)
    def post(self, data: dict[str, Any]) -> Instrument:
        """Register an instrument; results name it by its code"""
        return equipment.register_instrument(db_session(), actor(), **data)


@bp.route(f"/instruments/{CODE}")
@permission(READ)
@bp.response(200, InstrumentOut)
def get_instrument(code: str) -> Instrument:
    """An instrument with its records"""
    return equipment.get_instrument(db_session(), code)


@bp.route(f"/instruments/{CODE}/events", methods=["POST"])
@permission("equipment.write")
@bp.arguments(EquipmentEventIn)
@bp.response(201, EquipmentEventOut)
def record_event(data: dict[str, Any], code: str) -> EquipmentEvent:
    """Record a calibration or maintenance and when the next is due; a calibration that found the
    instrument out of tolerance puts its results since the last good one in doubt"""
    session = db_session()
    return equipment.record_event(session, actor(), equipment.get_instrument(session, code), **data)
