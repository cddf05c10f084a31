"""Input schemas of retained samples and their withdrawals, shared by the forms and the API."""

from __future__ import annotations

from marshmallow import fields

from lotrack.domain.retained import QuantityUnit, SampleContainer, SampleType, WithdrawalReason
from lotrack.domain.text import N_
from lotrack.schemas.base import (
    REQUIRED,
    InputSchema,
    OneOf,
    date_field,
    decimal_field,
    int_field,
    text_field,
)


def _choice(enum: type) -> fields.String:
    return text_field(max=16, validate=OneOf([m.value for m in enum]))


def _optional(max_length: int, description: str) -> fields.String:
    return text_field(
        max=max_length, required=False, load_default=None, metadata={"description": description}
    )


class RetainedSampleIn(InputSchema):
    """Samples laid down of one lot (`lot`) or one cell bank (`bank`)."""

    lot = _optional(32, "the lot's number (or bank)")
    bank = _optional(32, "the cell bank's code (or lot)")
    sample_type = _choice(SampleType)
    container = _choice(SampleContainer)
    quantity = decimal_field(3)
    unit = _choice(QuantityUnit)
    freezer = text_field(max=40)
    rack = text_field(max=20)
    box = text_field(max=20)
    position = text_field(max=20)
    laid_down_on = date_field()
    note = text_field(max=2000, required=False, load_default="")


class WithdrawalIn(InputSchema):
    """A withdrawal: a retest names `result`, an investigation `investigation` or `deviation`."""

    quantity = decimal_field(3)
    reason = _choice(WithdrawalReason)
    result = int_field(
        required=False,
        load_default=None,
        metadata={"description": "a retest: the id of the result it re-examines"},
    )
    investigation = _optional(20, "the OOS investigation's number (OOS-2026-001)")
    deviation = _optional(20, "the deviation's number (DEV-2026-001)")
    note = text_field(max=2000, required=False, load_default="")
    withdrawn_on = fields.Date(
        required=False,
        load_default=None,
        error_messages={**REQUIRED, "invalid": N_("a date: YYYY-MM-DD")},
        metadata={"description": "the day it was taken; today when absent"},
    )


class SampleFilter(InputSchema):
    """Which samples a list shows: one lot's or one bank's, or all."""

    lot = _optional(32, "only this lot's")
    bank = _optional(32, "only this cell bank's")
