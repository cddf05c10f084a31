"""/api/v1 retained samples of lots and cell banks, with what is left of each, and their
withdrawals for a retest or an investigation (services/retained.py)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields

from lotrack.api import schemas as out
from lotrack.api.common import READ, Blueprint, permission
from lotrack.domain.retained import amount
from lotrack.models import RetainedSample, RetainedSampleWithdrawal
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas.paging import PageArgs
from lotrack.schemas.retained import RetainedSampleIn, WithdrawalIn
from lotrack.services import retained
from lotrack.services.common import Page

bp = Blueprint(
    "api_retained",
    __name__,
    description="Retained samples of lots and cell banks, and their withdrawals.",
)
NUMBER = "<string(maxlength=32):number>"


def _name(value: Any, attribute: str) -> str | None:
    return getattr(value, attribute) if value is not None else None


class RetainedSampleWithdrawalOut(Schema):
    id = fields.Integer()
    quantity = fields.Function(lambda w: amount(w.quantity), metadata={"type": "string"})
    reason = fields.String(metadata={"description": "retest, investigation or other"})
    result = fields.Integer(
        attribute="result_id",
        allow_none=True,
        metadata={"description": "a retest: the result it re-examines"},
    )
    investigation = fields.Function(
        lambda w: _name(w.investigation, "number"), allow_none=True, metadata={"type": "string"}
    )
    deviation = fields.Function(
        lambda w: _name(w.deviation, "number"), allow_none=True, metadata={"type": "string"}
    )
    note = fields.String()
    withdrawn_on = fields.Date()
    withdrawn_by = fields.Function(lambda w: w.withdrawn_by.username, metadata={"type": "string"})
    recorded_at = fields.DateTime()


class RetainedSampleOut(Schema):
    number = fields.String(metadata={"description": "e.g. RS-2026-001"})
    lot = fields.Function(
        lambda s: _name(s.lot, "lot_number"), allow_none=True, metadata={"type": "string"}
    )
    bank = fields.Function(
        lambda s: _name(s.bank, "code"), allow_none=True, metadata={"type": "string"}
    )
    sample_type = fields.String()
    container = fields.String()
    quantity = fields.Function(
        lambda s: amount(s.quantity), metadata={"type": "string", "description": "as laid down"}
    )
    remaining = fields.Function(
        lambda s: amount(retained.left(s)),
        metadata={"type": "string", "description": "laid down less every withdrawal"},
    )
    unit = fields.String()
    freezer = fields.String()
    rack = fields.String()
    box = fields.String()
    position = fields.String()
    laid_down_on = fields.Date()
    retain_until = fields.Date(
        allow_none=True, metadata={"description": "kept through this day; null: with its bank"}
    )
    note = fields.String()
    laid_down_by = fields.Function(lambda s: s.laid_down_by.username, metadata={"type": "string"})
    withdrawals = fields.List(fields.Nested(RetainedSampleWithdrawalOut))


class RetainedPageArgs(PageArgs):
    lot = fields.String(metadata={"description": "only this lot's samples"})
    bank = fields.String(metadata={"description": "only this cell bank's samples"})


@bp.route("/retained-samples")
class RetainedSamples(MethodView):
    @permission(READ)
    @bp.arguments(RetainedPageArgs, location="query")
    @bp.response(200, out.page_of(RetainedSampleOut, "RetainedSamplePage"))
    def get(self, args: dict[str, Any]) -> Page[RetainedSample]:
        """Retained samples, newest first, with what is left of each"""
        session = db_session()
        lot = bank = None
        if args.get("lot") or args.get("bank"):
            lot, bank = retained.subject_of(session, args.get("lot"), args.get("bank"))
        return retained.list_samples(session, args["page"], args["per_page"], lot=lot, bank=bank)

    @permission("retained.write")
    @bp.arguments(RetainedSampleIn)
    @bp.response(201, RetainedSampleOut)
    def post(self, data: dict[str, Any]) -> RetainedSample:
        """Lay down retained samples of a lot or a cell bank; a lot's are kept until the
        retention period after its expiry date"""
        return retained.record_sample(
            db_session(), actor(), data, setting("RETENTION_MONTHS_AFTER_EXPIRY")
        )


@bp.route(f"/retained-samples/{NUMBER}")
@permission(READ)
@bp.response(200, RetainedSampleOut)
def get_sample(number: str) -> RetainedSample:
    """A retained sample with its withdrawals and what is left"""
    return retained.get_sample(db_session(), number)


@bp.route(f"/retained-samples/{NUMBER}/withdrawals", methods=["POST"])
@permission("retained.withdraw")
@bp.arguments(WithdrawalIn)
@bp.response(201, RetainedSampleWithdrawalOut)
def withdraw(data: dict[str, Any], number: str) -> RetainedSampleWithdrawal:
    """Withdraw from a retained sample for a retest (naming the result) or an investigation
    (naming the OOS investigation or deviation); never more than is left"""
    session = db_session()
    return retained.withdraw(session, actor(), retained.get_sample(session, number), **data)
