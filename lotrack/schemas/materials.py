"""Input schemas of materials, material lots and their inspection, material uses and instruments,
shared by the HTML forms and the JSON API."""

from __future__ import annotations

from marshmallow import fields

from lotrack.domain.materials import EquipmentEventKind, MaterialCategory
from lotrack.domain.text import N_
from lotrack.schemas.base import REQUIRED, InputSchema, Length, OneOf, date_field, text_field
from lotrack.schemas.record_signing import RecordSignIn


class MaterialIn(InputSchema):
    code = text_field(max=32)
    name = text_field(max=200)
    category = text_field(validate=OneOf([c.value for c in MaterialCategory]))
    supplier = text_field(max=200)
    catalogue_number = text_field(max=60)


class MaterialLotIn(InputSchema):
    """A lot received; the certificate is the multipart file `certificate`."""

    material = text_field(max=32, metadata={"description": "the material's code"})
    supplier_lot = text_field(max=60)
    received_on = date_field()
    expires_on = date_field("usable through this whole day")


class InspectionIn(RecordSignIn):
    """The incoming inspection, signed: 'approved for use' or 'rejected'."""

    decision = text_field(validate=OneOf(["approved", "rejected"]))


class LiftIn(RecordSignIn):
    """Lifting a material lot's hold, signed with its reason (meaning 'hold lifted')."""

    reason = text_field(max=2000)


class UsesIn(InputSchema):
    list_fields = ("material_lots",)
    material_lots = fields.List(
        text_field(max=20), required=True, validate=Length(min=1, max=30), error_messages=REQUIRED
    )


class StrikeIn(InputSchema):
    reason = text_field(max=2000)


class InstrumentIn(InputSchema):
    code = text_field(max=32)
    name = text_field(max=200)


class EquipmentEventIn(InputSchema):
    kind = text_field(validate=OneOf([k.value for k in EquipmentEventKind]))
    performed_on = date_field()
    due_on = date_field("the next one is due on this day (in calibration through it)")
    passed = fields.Boolean(
        required=True,
        error_messages={**REQUIRED, "invalid": N_("yes or no")},
        metadata={"description": "as found within tolerance"},
    )
    note = text_field(max=2000, required=False, load_default="")
