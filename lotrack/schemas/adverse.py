"""Input schemas of an adverse event's life, shared by the forms and the API: the measured grade
on the first report, follow-ups, the reports made of an event, and the CTCAE term search."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load

from lotrack.domain import adverse as life
from lotrack.domain import clinical as rules
from lotrack.domain.ctcae_measures import Measurement
from lotrack.domain.text import N_, said
from lotrack.schemas.base import (
    InputSchema,
    Length,
    OneOf,
    Range,
    WholeNumber,
    date_field,
    no_nul,
    text_field,
)


def optional_date(description: str) -> fields.Date:
    return fields.Date(
        load_default=None,
        error_messages={"invalid": N_("a date: YYYY-MM-DD")},
        metadata={"description": description},
    )


def optional_text(max_length: int, description: str = "", **kw: Any) -> fields.String:
    return text_field(
        max=max_length, required=False, load_default="", metadata={"description": description}, **kw
    )


def measured_fields() -> dict[str, fields.Field]:
    """The measurement a grade is proposed from (domain/ctcae_measures.py), as entered."""
    return {
        "measurement": text_field(
            max=20,
            required=False,
            load_default=None,
            metadata={
                "description": "the measured value (°C, 10^9/L, g/dL or the laboratory value)"
                " of a term CTCAE grades by a measurement; the grade it gives is proposed"
            },
        ),
        "reference": optional_text(20, "the laboratory's LLN (counts) or ULN (multiples)"),
        "hours": optional_text(10, "hours a fever above 40.0 °C lasted"),
    }


def to_measurement(data: dict[str, Any]) -> dict[str, Any]:
    """The measurement fields as one Measurement (None when no value was given)."""
    value = data.pop("measurement", None)
    reference, hours = data.pop("reference", ""), data.pop("hours", "")
    data["measurement"] = Measurement(value, reference, hours) if value else None
    return data


class _Measured(InputSchema):
    @post_load
    def _measurement(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        return to_measurement(data)


# The first report's extra fields, added to schemas/clinical.AdverseEventIn.
FIRST_REPORT_FIELDS: dict[str, fields.Field] = {
    "specify": optional_text(200, "the event's name, for an 'Other, specify' term"),
    "aware_on": optional_date(
        "the day the site learned of the event (the reporting clock starts); default the onset"
    ),
    "grade_reason": optional_text(2000, "why the grade differs from the measurement's"),
    **measured_fields(),
}


def _grade(required: bool) -> WholeNumber:
    return WholeNumber(
        required=required,
        load_default=None if not required else fields.missing_,
        error_messages={"invalid": N_("a whole number"), "required": N_("required")},
        validate=Range(min=1, max=5, error=said("from %(min)s to %(max)s", min=1, max=5)),
        metadata={"description": "a grade CTCAE defines for the term"},
    )


class AdverseFollowUpIn(InputSchema):
    list_fields = ("seriousness",)
    aware_on = date_field("the day the site learned what this follow-up records")
    grade = _grade(False)
    outcome = text_field(max=24, required=False, load_default=None, validate=OneOf(rules.OUTCOMES))
    resolved_on = optional_date("the day the event resolved (outcome recovered)")
    attribution = text_field(
        max=12, required=False, load_default=None, validate=OneOf(rules.ATTRIBUTIONS)
    )
    seriousness = fields.List(
        fields.String(validate=OneOf(rules.SERIOUSNESS)),
        load_default=None,
        validate=Length(max=len(rules.SERIOUSNESS)),
        metadata={"description": "the criteria met now; left out: unchanged; [] not serious"},
    )
    treatment = optional_text(5000, "treatment given for the event")
    note = optional_text(5000)
    reason = optional_text(2000, "why the grade or attribution changes (required then)")


class AdverseReportIn(InputSchema):
    kind = text_field(
        max=12,
        validate=OneOf(life.REPORT_KINDS),
        metadata={"description": "sponsor (the site's notification) or regulatory (SUSAR)"},
    )
    reported_on = date_field("the day it was sent (the site's date)")
    reported_by = text_field(max=120, metadata={"description": "who sent it"})
    recipient = text_field(max=200, metadata={"description": "to whom, e.g. NMPA CDE"})
    reference = text_field(max=120, metadata={"description": "its case or submission number"})


class ProposeIn(_Measured):
    term = text_field(max=120, metadata={"description": "a CTCAE v4.03 term"})
    locals().update(measured_fields())


class TermSearchArgs(Schema):
    q = fields.String(load_default="", validate=[Length(max=120), no_nul])
    soc = fields.String(load_default="", validate=[Length(max=120), no_nul])
