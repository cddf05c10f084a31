"""Input schemas of the quality record, shared by the HTML forms and the JSON API: results and
their corrections, instrument imports, OOS investigations, a bank's qualification and the trend's
arguments. Presence and type here; the services judge the values."""

from __future__ import annotations

from marshmallow import Schema, fields

from lotrack.domain.states import Conclusion, Qualification
from lotrack.domain.text import N_
from lotrack.schemas.base import (
    REQUIRED,
    InputSchema,
    OneOf,
    Range,
    date_field,
    int_field,
    material_lots_field,
    text_field,
)
from lotrack.services.trend import MAX_LIMIT


class ResultIn(InputSchema):
    """`test` is the spec's test code, or for a panel the alternative measured (CD14, CD11b...)."""

    list_fields = ("material_lots",)
    test = text_field(max=40)
    value = text_field(max=60)
    unit = text_field(max=20, required=False, load_default="")
    performed_on = date_field(
        "the test date; for an incubated test (sterility) the inoculation date, from which the"
        " incubation counts: not in the future (the facility's calendar), not before the lot's"
        " harvest, the bank's banking or the passage's seeding, and for a correction or a final"
        " reading never earlier than the incubation on record"
    )
    method = text_field(max=200, required=False, load_default="")
    instrument = text_field(max=120, required=False, load_default="")
    reagent_lot = text_field(max=60, required=False, load_default="")
    material_lots = material_lots_field()


class CorrectionIn(ResultIn):
    """A replacement value and why the old one was wrong; the test defaults to the old one's."""

    test = text_field(max=40, required=False, load_default=None)
    reason = text_field(max=2000)


class ImportDefaultsIn(InputSchema):
    """Values for columns an instrument export leaves out."""

    performed_on = text_field(max=10, required=False, load_default="")
    instrument = text_field(max=120, required=False, load_default="")
    method = text_field(max=200, required=False, load_default="")
    reagent_lot = text_field(max=60, required=False, load_default="")


class ReadingIn(InputSchema):
    """The final reading of a pending (incubating) result and the day it was read."""

    list_fields = ("material_lots",)
    value = text_field(max=60)
    read_on = date_field(
        "the day the reading was made: on or after the pending result's due date (inoculation +"
        " incubation days) and not in the future by the facility's calendar"
    )
    method = text_field(max=200, required=False, load_default="")
    instrument = text_field(max=120, required=False, load_default="")
    reagent_lot = text_field(max=60, required=False, load_default="")
    material_lots = material_lots_field()


class VerifySelectedIn(InputSchema):
    """The results of one lot to verify in one confirmation."""

    results = fields.List(
        int_field(),
        required=True,
        error_messages=REQUIRED,
        metadata={"description": "ids of the lot's results; every one is verified or none"},
    )


class GridRowIn(InputSchema):
    """One entry of a batch: as `ResultIn`, the date optional when the batch gives one."""

    test = text_field(max=40)
    value = text_field(max=60)
    unit = text_field(max=20, required=False, load_default="")
    performed_on = fields.Date(
        required=False, load_default=None, error_messages={"invalid": N_("a date: YYYY-MM-DD")}
    )
    instrument = text_field(max=120, required=False, load_default="")


class GridIn(InputSchema):
    """A lot's results entered at once: every entry recorded, or none."""

    list_fields = ("material_lots",)
    rows = fields.List(fields.Nested(GridRowIn), required=True, error_messages=REQUIRED)
    performed_on = fields.Date(
        required=False, load_default=None, error_messages={"invalid": N_("a date: YYYY-MM-DD")}
    )
    method = text_field(max=200, required=False, load_default="")
    instrument = text_field(max=120, required=False, load_default="")
    reagent_lot = text_field(max=60, required=False, load_default="")
    material_lots = material_lots_field()


class FindingsIn(InputSchema):
    findings = text_field(max=5000)


class ConclusionIn(InputSchema):
    conclusion = text_field(validate=OneOf([c.value for c in Conclusion]))
    findings = text_field(max=5000)
    assignable_cause = text_field(max=2000, required=False, load_default="")


class QualifyIn(InputSchema):
    decision = text_field(
        validate=OneOf([Qualification.QUALIFIED.value, Qualification.NOT_QUALIFIED.value])
    )
    reason = text_field(max=2000)


class TrendArgs(Schema):
    limit = fields.Integer(
        load_default=200,
        validate=Range(min=1, max=MAX_LIMIT),
        metadata={"description": "at most this many lots, the most recently harvested"},
    )
