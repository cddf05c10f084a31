"""/api/v1 cold chain: a shipment's temperature-logger file (attached at receipt, judged against
the product's range), its record with the readings, and QA's signed decision on an excursion —
the mirror of the shipment page's cold-chain section (web/cold_chain.py)."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, fields

from lotrack.api.common import Blueprint, permission
from lotrack.api.record_signing import RecordSignatureOut, record_signed_in, signatures
from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.text import N_
from lotrack.models import ColdChainLog, Shipment
from lotrack.request_scope import actor, db_session, lockout, setting
from lotrack.schemas import parse
from lotrack.schemas.cold_chain import ExcursionIn, LoggerIn
from lotrack.services import cold_chain
from lotrack.services import shipment as shipments
from lotrack.services.raw_data import RawFile

bp = Blueprint(
    "api_cold_chain",
    __name__,
    description="A shipment's temperature-logger file, judged against the product's range at"
    " receipt: an excursion holds the shipment's units until QA decides, signed.",
)
NUMBER = "<string(maxlength=32):number>"


class ProblemOut(Schema):
    kind = fields.String(metadata={"description": "above, below (the range) or gap (no reading)"})
    start = fields.String(metadata={"description": "ISO 8601 (UTC)"})
    end = fields.String(metadata={"description": "ISO 8601 (UTC)"})
    extreme = fields.String(allow_none=True, metadata={"description": "°C, exact"})
    within_allowance = fields.Boolean()


class ReadingOut(Schema):
    at = fields.DateTime(metadata={"description": "ISO 8601 (UTC)"})
    celsius = fields.String(metadata={"description": "as the logger wrote it"})
    line = fields.Integer(metadata={"description": "its line in the file"})


class ColdChainOut(Schema):
    shipment = fields.Function(lambda v: v["log"].shipment.number, metadata={"type": "string"})
    excursion = fields.Function(lambda v: v["log"].excursion, metadata={"type": "boolean"})
    held = fields.Function(
        lambda v: (
            v["log"].excursion
            and (v["log"].decision is None or v["log"].decision.outcome != "released")
        ),
        metadata={"type": "boolean", "description": "the shipment's units are held by it"},
    )
    file = fields.Function(lambda v: v["log"].attachment.filename, metadata={"type": "string"})
    sha256 = fields.Function(lambda v: v["log"].attachment.sha256, metadata={"type": "string"})
    mapping = fields.Function(lambda v: v["log"].mapping, metadata={"type": "string"})
    max_c = fields.Function(lambda v: v["log"].max_c, metadata={"type": "string", "nullable": True})
    min_c = fields.Function(lambda v: v["log"].min_c, metadata={"type": "string", "nullable": True})
    range_source = fields.Function(lambda v: v["log"].range_source, metadata={"type": "string"})
    allowed_minutes = fields.Function(
        lambda v: v["log"].allowed_minutes, metadata={"type": "integer"}
    )
    max_gap_minutes = fields.Function(
        lambda v: v["log"].max_gap_minutes, metadata={"type": "integer"}
    )
    window_start = fields.Function(
        lambda v: v["log"].window_start.isoformat(), metadata={"type": "string"}
    )
    window_end = fields.Function(
        lambda v: v["log"].window_end.isoformat(), metadata={"type": "string"}
    )
    judged = fields.Function(lambda v: v["log"].judged, metadata={"type": "integer"})
    ignored = fields.Function(lambda v: v["log"].ignored, metadata={"type": "integer"})
    blanks = fields.Function(lambda v: v["log"].blanks, metadata={"type": "integer"})
    highest = fields.Function(
        lambda v: v["log"].highest, metadata={"type": "string", "nullable": True}
    )
    lowest = fields.Function(
        lambda v: v["log"].lowest, metadata={"type": "string", "nullable": True}
    )
    problems = fields.List(fields.Nested(ProblemOut))
    decision = fields.Function(
        lambda v: v["log"].decision.outcome.value if v["log"].decision else None,
        metadata={"type": "string", "nullable": True, "description": "released or rejected"},
    )
    signatures = fields.List(fields.Nested(RecordSignatureOut))
    readings = fields.List(fields.Nested(ReadingOut))


def _view(log: ColdChainLog) -> dict[str, Any]:
    session = db_session()
    decision = log.decision
    trace = cold_chain.trace_of(log)
    return {
        "log": log,
        "problems": cold_chain.problems_of(log),
        "signatures": signatures(session, decision) if decision else [],
        "readings": [
            {"at": r.at, "celsius": str(r.celsius), "line": r.line} for r in trace.readings
        ],
    }


def _log(shipment: Shipment) -> ColdChainLog:
    log = cold_chain.log_of(db_session(), shipment)
    if log is None:
        raise NotFound(N_("No logger file for this shipment."), {"logger_file": N_("none")})
    return log


LOGGER_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["logger_file"],
                "properties": {
                    "logger_file": {"type": "string", "format": "binary"},
                    "mapping": {
                        "type": "string",
                        "description": "generic, temptale, elpro, logtag",
                    },
                },
            }
        }
    },
}


@bp.route(f"/shipments/{NUMBER}/logger", methods=["GET"])
@permission("shipment.read")
@bp.response(200, ColdChainOut)
def get_logger(number: str) -> dict[str, Any]:
    """The shipment's logger record as judged, its readings and QA's decision"""
    return _view(_log(shipments.get_shipment(db_session(), actor(), number)))


@bp.route(f"/shipments/{NUMBER}/logger", methods=["POST"])
@permission("shipment.receive")
@bp.doc(requestBody=LOGGER_BODY)
@bp.response(201, ColdChainOut)
def attach(number: str) -> dict[str, Any]:
    """Attach the received shipment's logger file (multipart `logger_file`, and its `mapping`) and
    judge it once: an excursion holds the shipment's units until QA decides. An unreadable file
    is a 422 naming the line and why, with nothing written"""
    session = db_session()
    shipment = shipments.get_shipment(session, actor(), number)
    data = parse(LoggerIn(), request.form.to_dict())
    upload = request.files.get("logger_file")
    if upload is None or not upload.filename:
        raise ValidationFailed(
            N_("Attach the data logger's CSV export."), {"logger_file": N_("required")}
        )
    log = cold_chain.attach(
        session,
        actor(),
        shipment,
        file=RawFile(upload.filename, upload.read()),
        mapping=data["mapping"],
        settings=setting("COLD_CHAIN"),
    )
    session.flush()
    return _view(log)


@bp.route(f"/shipments/{NUMBER}/excursion", methods=["POST"])
@permission("cold_chain.decide")
@bp.arguments(ExcursionIn)
@bp.response(200, ColdChainOut)
def decide(data: dict[str, Any], number: str) -> dict[str, Any]:
    """QA's decision on the shipment's excursion, signed: outcome 'released' (meaning 'released for
    use': the units go on) or 'rejected' (meaning 'rejected': the units are destroyed)"""
    session = db_session()
    shipment = shipments.get_shipment(session, actor(), number)
    sign_in, decided = record_signed_in(data)
    cold_chain.decide(
        session, actor(), shipment, outcome=decided["outcome"], sign_in=sign_in, lockout=lockout()
    )
    session.flush()
    log = _log(shipment)
    session.refresh(log)
    return _view(log)
