"""/api/v1 trends: one numeric test's results across lots in harvest order, with the limit and
alert lines of the specification in effect. Numbers are strings (exact, as compared)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from lotrack.api.common import READ, Blueprint, permission
from lotrack.domain.specs import Interval, SpecTest
from lotrack.request_scope import db_session
from lotrack.schemas.quality import TrendArgs
from lotrack.services import trend as service

bp = Blueprint("api_trend", __name__, description="A numeric test across lots, against its limits.")

# Named like every other code in a path (donors, banks), so tools that fill paths know it.
CODE = "<string(maxlength=64):code>"


def _exact(description: str) -> fields.Decimal:
    return fields.Decimal(
        as_string=True, metadata={"type": "string", "format": "decimal", "description": description}
    )


def _alert(test: SpecTest) -> str | None:
    return None if test.alert == Interval() else test.alert.describe(test.unit)


class TrendTestOut(Schema):
    code = fields.String()
    name = fields.String()
    method = fields.String()
    unit = fields.String()
    kind = fields.Function(lambda t: t.kind.value, metadata={"type": "string"})
    decimals = fields.Integer(metadata={"description": "results are rounded to these decimals"})
    alternatives = fields.List(fields.String(), metadata={"description": "a panel's analytes"})
    criterion = fields.Function(lambda t: t.criterion(), metadata={"type": "string"})
    alert = fields.Function(
        _alert, metadata={"type": "string", "description": "the alert limits, or null"}
    )


class LimitLineOut(Schema):
    kind = fields.String(metadata={"description": "spec or alert"})
    side = fields.String(metadata={"description": "lower or upper"})
    value = _exact('the limit, e.g. "80.0"')
    inclusive = fields.Boolean()
    label = fields.String()


class TrendPointOut(Schema):
    result_id = fields.Integer()
    lot_number = fields.String()
    harvested_on = fields.Date()
    performed_on = fields.Date()
    analyte = fields.String()
    value = fields.String(metadata={"description": "as the analyst entered it"})
    compared = _exact("as compared after rounding; a censored value's bound")
    censored = fields.String(metadata={"description": 'empty, or the qualifier: "<", ">=" ...'})
    verdict = fields.String(metadata={"description": "pass, alert or fail"})
    verified = fields.Boolean()
    spec_version = fields.String(metadata={"description": "the version the lot was judged by"})
    limits_differ = fields.Boolean(
        metadata={"description": "judged by a version whose limits differ from the lines"}
    )
    criterion = fields.String(metadata={"description": "the criterion it was judged against"})


class TrendOut(Schema):
    product = fields.String()
    stage = fields.String()
    spec_version = fields.String(metadata={"description": "the effective version (the lines)"})
    test = fields.Nested(TrendTestOut)
    lines = fields.List(fields.Nested(LimitLineOut))
    points = fields.List(fields.Nested(TrendPointOut), metadata={"description": "oldest first"})
    truncated = fields.Boolean(metadata={"description": "older lots were left out (limit)"})
    notes = fields.List(fields.String())


@bp.route(f"/trends/{CODE}")
@permission(READ)
@bp.arguments(TrendArgs, location="query")
@bp.response(200, TrendOut)
def get_trend(args: dict[str, Any], code: str) -> service.Trend:
    """A numeric test's latest valid result per lot, in harvest order, with its limit lines"""
    return service.trend(db_session(), code, limit=args["limit"])
