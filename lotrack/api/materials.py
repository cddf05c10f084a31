"""/api/v1 materials, material lots (received with the supplier's certificate, inspected under a
signature, held or recalled with every product lot they reached, a hold lifted) and the material
lots a run or passage used. Instruments are api/equipment.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields

from lotrack.api import release_schemas as io
from lotrack.api import schemas as out
from lotrack.api.common import READ, Blueprint, permission, signed_in
from lotrack.api.containment import ContainmentView, view
from lotrack.api.record_signing import RecordSignatureOut, record_signed_in, signatures
from lotrack.domain.states import ContainmentKind
from lotrack.models import Material, MaterialLot, MaterialUse
from lotrack.request_scope import actor, db_session, lockout
from lotrack.schemas.base import parse
from lotrack.schemas.materials import (
    InspectionIn,
    LiftIn,
    MaterialIn,
    MaterialLotIn,
    StrikeIn,
)
from lotrack.schemas.paging import PageArgs
from lotrack.schemas.release import SignWithReasonIn
from lotrack.services import containment, material_uses, materials, production
from lotrack.services.common import Page
from lotrack.services.raw_data import RawFile

bp = Blueprint(
    "api_materials",
    __name__,
    description="Materials and their lots (certificate, signed inspection, hold and recall),"
    " and the material lots runs and passages used.",
)
CODE = "<string(maxlength=64):code>"
NUMBER = "<string(maxlength=32):number>"
ID = "<int(min=1, max=2147483647):use_id>"


class MaterialOut(Schema):
    code = fields.String()
    name = fields.String()
    category = fields.String()
    supplier = fields.String()
    catalogue_number = fields.String()


class MaterialLotOut(Schema):
    number = fields.String(metadata={"description": "the receipt number, e.g. MAT-2025-003"})
    material = fields.Function(lambda m: m.material.code, metadata={"type": "string"})
    supplier_lot = fields.String()
    received_on = fields.Date()
    expires_on = fields.Date(metadata={"description": "usable through this whole day"})
    state = fields.String(
        metadata={"description": "quarantine, approved, rejected, on_hold or recalled"}
    )
    certificate_sha256 = fields.Function(
        lambda m: m.certificate.sha256, metadata={"type": "string"}
    )
    certificate_filename = fields.Function(
        lambda m: m.certificate.filename, metadata={"type": "string"}
    )


class MaterialUseOut(Schema):
    id = fields.Integer()
    material_lot = fields.Function(lambda u: u.material_lot.number, metadata={"type": "string"})
    run_id = fields.Integer(allow_none=True)
    passage_id = fields.Integer(allow_none=True)
    result_id = fields.Integer(allow_none=True)
    used_on = fields.Date()
    strikes = fields.Integer(attribute="strikes_id", allow_none=True)
    reason = fields.String()
    recorded_at = fields.DateTime()


class MaterialLotDetail(MaterialLotOut):
    signatures = fields.List(fields.Nested(RecordSignatureOut))
    lots_reached = fields.List(
        fields.String(), metadata={"description": "product lots its standing uses reached"}
    )


@dataclass
class LotView:
    """A material lot with its signatures and the product lots it reached (MaterialLotDetail);
    other attributes are the lot's own."""

    lot: MaterialLot
    signatures: list[dict[str, Any]]
    lots_reached: list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lot, name)


def _lot_detail(lot: MaterialLot) -> LotView:
    session = db_session()
    reached = [x.lot_number for x in material_uses.lots_of_material(session, lot)]
    return LotView(lot, signatures(session, lot), reached)


@bp.route("/materials")
class Materials(MethodView):
    @permission(READ)
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(MaterialOut, "MaterialPage"))
    def get(self, args: dict[str, Any]) -> Page[Material]:
        """Materials, by code"""
        return materials.page_of_materials(db_session(), args["page"], args["per_page"])

    @permission("materials.write")
    @bp.arguments(MaterialIn)
    @bp.response(201, MaterialOut)
    def post(self, data: dict[str, Any]) -> Material:
        """Register a material: one supplier's catalogue item"""
        return materials.register_material(db_session(), actor(), **data)


@bp.route("/material-lots")
class MaterialLots(MethodView):
    @permission(READ)
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(MaterialLotOut, "MaterialLotPage"))
    def get(self, args: dict[str, Any]) -> Page[MaterialLot]:
        """Material lots received, newest first"""
        return materials.list_lots(db_session(), args["page"], args["per_page"])

    @permission("materials.write")
    @bp.doc(
        requestBody={
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [
                            "material",
                            "supplier_lot",
                            "received_on",
                            "expires_on",
                            "certificate",
                        ],
                        "properties": {
                            "material": {"type": "string"},
                            "supplier_lot": {"type": "string"},
                            "received_on": {"type": "string", "format": "date"},
                            "expires_on": {"type": "string", "format": "date"},
                            "certificate": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
        }
    )
    @bp.response(201, MaterialLotOut)
    def post(self) -> MaterialLot:
        """Receive a lot (multipart, with the supplier's certificate `certificate`); it waits in
        quarantine for its incoming inspection"""
        data = parse(MaterialLotIn(), request.form.to_dict())
        upload = request.files.get("certificate")
        certificate = (
            RawFile(upload.filename or "", upload.read())
            if upload is not None and upload.filename
            else None
        )
        return materials.receive_lot(
            db_session(),
            actor(),
            material_code=data["material"],
            supplier_lot=data["supplier_lot"],
            received_on=data["received_on"],
            expires_on=data["expires_on"],
            certificate=certificate,
        )


@bp.route(f"/material-lots/{NUMBER}")
@permission(READ)
@bp.response(200, MaterialLotDetail)
def get_material_lot(number: str) -> LotView:
    """A material lot with its inspection signature and the product lots it reached"""
    return _lot_detail(materials.get_lot(db_session(), number))


@bp.route(f"/material-lots/{NUMBER}/inspection", methods=["POST"])
@permission("materials.inspect")
@bp.arguments(InspectionIn)
@bp.response(200, MaterialLotDetail)
def inspect(data: dict[str, Any], number: str) -> LotView:
    """The incoming inspection, signed: decision 'approved' (meaning 'approved for use') or
    'rejected' (meaning 'rejected')"""
    session = db_session()
    lot = materials.get_lot(session, number)
    sign_in, decided = record_signed_in(data)
    materials.inspect_lot(
        session, actor(), lot, decision=decided["decision"], sign_in=sign_in, lockout=lockout()
    )
    return _lot_detail(lot)


@bp.route(f"/material-lots/{NUMBER}/lift-hold", methods=["POST"])
@permission("release.decide")
@bp.arguments(LiftIn)
@bp.response(200, MaterialLotDetail)
def lift_hold(data: dict[str, Any], number: str) -> LotView:
    """Lift a material lot's hold (meaning 'hold lifted', with a reason); the product lots it held
    wait for QA's decision on each"""
    session = db_session()
    lot = materials.get_lot(session, number)
    sign_in, _decided = record_signed_in(data)
    materials.lift_hold(session, actor(), lot, sign_in=sign_in, lockout=lockout())
    return _lot_detail(lot)


def _contain(kind: str, data: dict[str, Any], number: str) -> ContainmentView:
    session = db_session()
    lot = materials.get_lot(session, number)
    record = containment.contain(
        session, actor(), kind=kind, sign_in=signed_in(data), lockout=lockout(), material_lot=lot
    )
    session.flush()
    session.refresh(record)
    return view(record)


@bp.route(f"/material-lots/{NUMBER}/hold", methods=["POST"])
@permission("release.decide")
@bp.arguments(SignWithReasonIn)
@bp.response(201, io.ContainmentDetail)
def hold(data: dict[str, Any], number: str) -> ContainmentView:
    """Hold a material lot and every product lot it reached (meaning 'placed on hold')"""
    return _contain(ContainmentKind.HOLD, data, number)


@bp.route(f"/material-lots/{NUMBER}/recall", methods=["POST"])
@permission("release.decide")
@bp.arguments(SignWithReasonIn)
@bp.response(201, io.ContainmentDetail)
def recall(data: dict[str, Any], number: str) -> ContainmentView:
    """Recall a material lot: every released product lot it reached is recalled, the others held
    (meaning 'recalled'); its units are blocked wherever they are"""
    return _contain(ContainmentKind.RECALL, data, number)


@bp.route(f"/runs/{CODE}/material-uses")
@permission(READ)
@bp.response(200, MaterialUseOut(many=True))
def run_uses(code: str) -> list[MaterialUse]:
    """The material lots a run and its passages used (struck entries and strikes included)"""
    session = db_session()
    return material_uses.uses_of_run(session, production.get_run(session, code))


@bp.route(f"/material-uses/{ID}/strike", methods=["POST"])
@permission("manufacturing.write")
@bp.arguments(StrikeIn)
@bp.response(201, MaterialUseOut)
def strike(data: dict[str, Any], use_id: int) -> MaterialUse:
    """Strike a use recorded by mistake: a new record naming it, with the reason"""
    session = db_session()
    return material_uses.strike_use(
        session, actor(), material_uses.get_use(session, use_id), **data
    )
