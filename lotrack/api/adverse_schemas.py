"""Output schemas of an adverse event's life: its history, current state, clock and reports."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, fields

from lotrack.api.clinical_schemas import AdverseEventOut


def _fn(get: Any, kind: str = "string", description: str = "", **kw: Any) -> fields.Function:
    return fields.Function(get, metadata={"type": kind, "description": description, **kw})


class FollowUpEntryOut(Schema):
    id = fields.Integer()
    aware_on = fields.Date()
    grade = fields.Integer(allow_none=True, metadata={"description": "null: unchanged"})
    outcome = fields.String(allow_none=True)
    resolved_on = fields.Date(allow_none=True)
    attribution = fields.String(allow_none=True)
    seriousness = _fn(
        lambda u: json.loads(u.seriousness) if u.seriousness is not None else None,
        "array",
        "the criteria met from then on; null: unchanged",
        nullable=True,
    )
    treatment = fields.String()
    note = fields.String()
    reason = fields.String()
    recorded_by = _fn(lambda u: u.recorded_by.username)
    recorded_at = fields.DateTime()


class ReportOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "sponsor or regulatory"})
    reported_on = fields.Date()
    reported_by = fields.String()
    recipient = fields.String()
    reference = fields.String()
    recorded_at = fields.DateTime()


class CurrentOut(Schema):
    grade = fields.Integer()
    worst_grade = fields.Integer()
    outcome = fields.String()
    resolved_on = fields.Date(allow_none=True)
    attribution = fields.String()
    related = fields.Boolean()
    serious = fields.Boolean()
    seriousness = fields.List(fields.String())
    closed = fields.Boolean(metadata={"description": "recovered, with sequelae, or fatal"})


class ClockOut(Schema):
    sponsor_due = fields.Date(allow_none=True, metadata={"description": "serious: notify by"})
    regulatory_due = fields.Date(allow_none=True, metadata={"description": "SUSAR: report by"})
    regulatory_days = fields.Integer(allow_none=True, metadata={"description": "7 or 15"})


class OverdueOut(Schema):
    kind = fields.String()
    due = fields.Date()
    days_late = fields.Integer()


class EventHistoryOut(Schema):
    event = fields.Nested(AdverseEventOut, metadata={"description": "as first reported"})
    current = fields.Nested(CurrentOut)
    follow_ups = fields.List(fields.Nested(FollowUpEntryOut), attribute="updates")
    reports = fields.List(fields.Nested(ReportOut))
    clock = fields.Nested(ClockOut)
    overdue = fields.List(fields.Nested(OverdueOut))


class OverdueRowOut(Schema):
    event = _fn(lambda r: r.view.event.id, "integer")
    patient = _fn(lambda r: r.view.event.patient.wristband)
    term = _fn(lambda r: r.view.event.term)
    kind = _fn(lambda r: r.late.kind.value)
    due = _fn(lambda r: r.late.due.isoformat(), description="date")
    days_late = _fn(lambda r: r.late.days_late, "integer")


class TermOut(Schema):
    term = fields.String()
    meddra = fields.String()
    soc = fields.String()
    grades = fields.Dict(keys=fields.String(), values=fields.String())
    definition = fields.String()


class TermListOut(Schema):
    source = fields.String()
    total = fields.Integer(metadata={"description": "terms in the dictionary"})
    terms = fields.List(fields.Nested(TermOut))


class ProposalOut(Schema):
    term = fields.String()
    grade = fields.Integer(allow_none=True, metadata={"description": "null: no grade met"})
    why = fields.String()
