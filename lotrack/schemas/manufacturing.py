"""Input schemas of manufacturing, shared by the HTML forms and the JSON API: donors and their
screening and eligibility, clones, cell banks and their vials, production runs and passages, lots
and their fill."""

from __future__ import annotations

from marshmallow import fields

from lotrack.domain.donor import MARKERS, RESULTS
from lotrack.domain.states import BankTier, Container, Determination
from lotrack.domain.text import N_, said
from lotrack.schemas.base import (
    INT32_MAX,
    REQUIRED,
    InputSchema,
    Length,
    OneOf,
    Range,
    WholeNumber,
    date_field,
    decimal_field,
    int_field,
    material_lots_field,
    no_nul,
    text_field,
)


class DonorIn(InputSchema):
    code = text_field(max=32)
    consent_date = date_field()


class ScreeningIn(InputSchema):
    marker = text_field(validate=OneOf(MARKERS))
    method = text_field(max=100)
    result = text_field(validate=OneOf(RESULTS))
    tested_on = date_field()


class DeterminationIn(InputSchema):
    determination = text_field(validate=OneOf([d.value for d in Determination]))
    responsible_person = text_field()
    reason = text_field(max=2000)


class CloneIn(InputSchema):
    code = text_field(max=32)
    donor = text_field(max=32)
    derived_on = date_field()


class BankIn(InputSchema):
    code = text_field(max=32)
    tier = text_field(validate=OneOf([t.value for t in BankTier]))
    parent = text_field(max=32)
    passage_at_banking = int_field()
    pdl_at_banking = decimal_field()
    banked_on = date_field()


class VialsIn(InputSchema):
    list_fields = ("positions",)
    freezer = text_field(max=40)
    rack = text_field(max=20)
    box = text_field(max=20)
    positions = fields.List(
        fields.String(validate=[Length(min=1, max=10), no_nul]),
        required=True,
        validate=Length(min=1, max=200),
        error_messages=REQUIRED,
    )


class WithdrawIn(InputSchema):
    purpose = text_field(max=2000)


class RunIn(InputSchema):
    list_fields = ("vials", "material_lots")
    code = text_field(max=32)
    bank = text_field(max=32)
    vials = fields.List(
        WholeNumber(
            error_messages={"invalid": N_("vial numbers are whole numbers")},
            validate=Range(min=1, max=INT32_MAX, error=said("a vial number from %(min)s", min=1)),
        ),
        required=True,
        validate=Length(min=1, max=50),
        error_messages=REQUIRED,
    )
    started_on = date_field()
    product = fields.String(load_default="cfMSC", validate=OneOf(["cfMSC"]))
    material_lots = material_lots_field()


class PassageIn(InputSchema):
    list_fields = ("material_lots",)
    seeded_on = date_field()
    harvested_on = date_field()
    cells_seeded = int_field(big=True)
    cells_harvested = int_field(big=True)
    viability_percent = decimal_field()
    material_lots = material_lots_field()


class LotIn(InputSchema):
    run = text_field(max=32)
    harvested_on = date_field()
    expires_on = date_field()
    lot_number = text_field(max=32, required=False, load_default=None)


class FillIn(InputSchema):
    container = text_field(validate=OneOf([c.value for c in Container]))
    count = int_field()
    cells_per_unit = int_field(big=True)
    volume_ml = decimal_field()
    freezer = text_field(max=40, required=False, load_default=None)
    rack = text_field(max=20, required=False, load_default=None)
    box = text_field(max=20, required=False, load_default=None)
