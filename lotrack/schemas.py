"""Input schemas at the boundary, shared by the HTML forms and the JSON API.

They check presence and type and name the field; the services check values against the rules.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from lotrack.domain.donor import MARKERS, RESULTS
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.states import BankTier, Container, Determination

REQUIRED = {"required": "required"}


def flatten(messages: object, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as {"field": "reason"}."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("json", "form", "query", "files") and not prefix:
                out.update(flatten(value))
            elif isinstance(key, int) and prefix:
                # A bad item of a list is reported on the list's own field ("vials", not
                # "vials.0"), where the form shows it; the message names the item.
                for name, reason in flatten(value, prefix).items():
                    item = f"item {key + 1}: {reason}"
                    out[name] = f"{out[name]}; {item}" if name in out else item
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
                out.update(flatten(value, name))
    elif isinstance(messages, list):
        texts = [m for m in messages if isinstance(m, str)]
        if texts:
            out[prefix or "_schema"] = " ".join(texts)
        for item in messages:
            if isinstance(item, dict):
                out.update(flatten(item, prefix))
    else:
        out[prefix or "_schema"] = str(messages)
    return out


def validation_message(fields: dict[str, str]) -> str:
    return "Invalid input: " + "; ".join(f"{k}: {v}" for k, v in fields.items())


def parse(schema: Schema, data: Any) -> dict[str, Any]:
    """Load input or raise ValidationFailed naming every bad field (422, nothing written)."""
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as err:
        named = flatten(err.messages)
        raise ValidationFailed(validation_message(named), named) from err
    return loaded


# What the columns can hold (PostgreSQL INTEGER / BIGINT / NUMERIC(8,2)): a larger value is a
# 422 naming the field, never an overflow surfacing from the database as a 500.
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
DECIMAL_MAX = Decimal("999999.99")
WHOLE = re.compile(r"^[+-]?[0-9]{1,19}$")


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("contains a NUL character")


def _text(**kw: Any) -> fields.String:
    checks = [
        validate.Length(max=kw.pop("max", 200), error="at most {max} characters"),
        _no_nul,
    ]
    if "validate" in kw:
        checks.append(kw.pop("validate"))
    return fields.String(
        required=kw.pop("required", True), error_messages=REQUIRED, validate=checks, **kw
    )


def _date(description: str = "") -> fields.Date:
    return fields.Date(
        required=True,
        error_messages={**REQUIRED, "invalid": "a date: YYYY-MM-DD"},
        metadata={"description": description} if description else {},
    )


class WholeNumber(fields.Integer):
    """An integer as typed ("12") or sent (12); never a fraction silently cut (1.5 is refused)."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, float):
            if not value.is_integer():
                raise self.make_error("invalid")
            value = int(value)
        if isinstance(value, str):
            if not WHOLE.match(value.strip()):
                raise self.make_error("invalid")
            value = int(value)
        return super()._validated(value)


def _int(*, big: bool = False, **kw: Any) -> fields.Integer:
    limit = INT64_MAX if big else INT32_MAX
    return WholeNumber(
        required=kw.pop("required", True),
        error_messages={**REQUIRED, "invalid": "a whole number"},
        validate=validate.Range(min=-limit, max=limit, error="out of range: at most {max}"),
        **kw,
    )


def _places(places: int) -> Any:
    def check(value: Decimal) -> None:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise ValidationError(f"at most {places} decimal places (the value is kept exact)")

    return check


def _decimal(places: int = 2) -> fields.Decimal:
    # No `places=` quantizing: a value with more decimals is refused, never silently rounded.
    return fields.Decimal(
        required=True,
        as_string=True,
        validate=[
            validate.Range(min=-DECIMAL_MAX, max=DECIMAL_MAX, error="out of range: at most {max}"),
            _places(places),
        ],
        error_messages={
            **REQUIRED,
            "invalid": "a number, e.g. 18.25",
            "special": "a finite number",
        },
        # The document states the bounds as numbers (apispec would print a Decimal as a string).
        metadata={"minimum": float(-DECIMAL_MAX), "maximum": float(DECIMAL_MAX)},
    )


class InputSchema(Schema):
    """Strips text, treats empty form fields as absent, splits comma lists, refuses unknown keys."""

    list_fields: ClassVar[tuple[str, ...]] = ()

    class Meta:
        unknown = RAISE

    @pre_load
    def _clean(self, data: Any, **_kw: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for key, value in dict(data).items():
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    continue
                if key in self.list_fields:
                    value = [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
            out[key] = value
        return out


class DonorIn(InputSchema):
    code = _text(max=32)
    consent_date = _date()


class ScreeningIn(InputSchema):
    marker = _text(validate=validate.OneOf(MARKERS))
    method = _text(max=100)
    result = _text(validate=validate.OneOf(RESULTS))
    tested_on = _date()


class DeterminationIn(InputSchema):
    determination = _text(validate=validate.OneOf([d.value for d in Determination]))
    responsible_person = _text()
    reason = _text(max=2000)


class CloneIn(InputSchema):
    code = _text(max=32)
    donor = _text(max=32)
    derived_on = _date()


class BankIn(InputSchema):
    code = _text(max=32)
    tier = _text(validate=validate.OneOf([t.value for t in BankTier]))
    parent = _text(max=32)
    passage_at_banking = _int()
    pdl_at_banking = _decimal()
    banked_on = _date()


class VialsIn(InputSchema):
    list_fields = ("positions",)
    freezer = _text(max=40)
    rack = _text(max=20)
    box = _text(max=20)
    positions = fields.List(
        fields.String(validate=[validate.Length(min=1, max=10), _no_nul]),
        required=True,
        validate=validate.Length(min=1, max=200),
        error_messages=REQUIRED,
    )


class WithdrawIn(InputSchema):
    purpose = _text(max=2000)


class RunIn(InputSchema):
    list_fields = ("vials",)
    code = _text(max=32)
    bank = _text(max=32)
    vials = fields.List(
        WholeNumber(
            error_messages={"invalid": "vial numbers are whole numbers"},
            validate=validate.Range(min=1, max=INT32_MAX, error="a vial number from {min}"),
        ),
        required=True,
        validate=validate.Length(min=1, max=50),
        error_messages=REQUIRED,
    )
    started_on = _date()
    product = fields.String(load_default="cfMSC", validate=validate.OneOf(["cfMSC"]))


class PassageIn(InputSchema):
    seeded_on = _date()
    harvested_on = _date()
    cells_seeded = _int(big=True)
    cells_harvested = _int(big=True)
    viability_percent = _decimal()


class LotIn(InputSchema):
    run = _text(max=32)
    harvested_on = _date()
    expires_on = _date()
    lot_number = _text(max=32, required=False, load_default=None)


class FillIn(InputSchema):
    container = _text(validate=validate.OneOf([c.value for c in Container]))
    count = _int()
    cells_per_unit = _int(big=True)
    volume_ml = _decimal()
    freezer = _text(max=40, required=False, load_default=None)
    rack = _text(max=20, required=False, load_default=None)
    box = _text(max=20, required=False, load_default=None)


class ReasonIn(InputSchema):
    reason = _text(max=2000)
