"""The pieces every input schema is made of: the base class, the field makers that bound values to
what the columns hold, and `parse`, which turns a refusal into ValidationFailed naming each field.

They check presence and type and name the field; the services check values against the rules.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, pre_load, validate

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, Said, said

REQUIRED = {"required": N_("required")}
# marshmallow's own sentences, marked so the catalog holds them (translated by exact match).
MARSHMALLOW_SENTENCES = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Unknown field."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid boolean."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Invalid input type."),
    N_("Invalid value."),
    N_("Not a valid email address."),
    N_("Not a valid URL."),
    N_("Shorter than minimum length 1."),
)


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
                    again = reason if isinstance(reason, Said) else Said(reason)
                    item = said("item %(n)s: %(reason)s", n=key + 1, reason=again)
                    out[name] = (
                        said("%(first)s; %(then)s", first=out[name], then=item)
                        if name in out
                        else item
                    )
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
                out.update(flatten(value, name))
    elif isinstance(messages, list):
        texts = [m for m in messages if isinstance(m, str)]
        if texts:
            # One reason is kept as it was said (a Said stays one, for the edge to translate).
            out[prefix or "_schema"] = texts[0] if len(texts) == 1 else " ".join(texts)
        for item in messages:
            if isinstance(item, dict):
                out.update(flatten(item, prefix))
    else:
        out[prefix or "_schema"] = str(messages)
    return out


def validation_message(fields: dict[str, str]) -> str:
    """One sentence naming every refused field and its reason (the edges say it again in the
    reader's language from the fields)."""
    return said(
        "Invalid input: %(details)s", details="; ".join(f"{k}: {v}" for k, v in fields.items())
    )


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


# marshmallow formats a validator's message into a plain str, which loses a Said's template;
# these validators give a Said message as it is, and say marshmallow's own sentences (with the
# validator's values) as Said too, so that the edge says every refusal in the reader's language.
class OneOf(validate.OneOf):
    def _format_error(self, value: Any) -> str:
        if isinstance(self.error, Said):
            return self.error
        if self.error == self.default_message:
            return said("Must be one of: %(choices)s.", choices=self.choices_text)
        return super()._format_error(value)


class Length(validate.Length):
    def _format_error(self, value: Any, message: str) -> str:
        if isinstance(self.error, Said):
            return self.error
        if self.error is None and self.equal is None:
            if self.max is None:
                return said("Shorter than minimum length %(min)s.", min=self.min)
            if self.min is None:
                return said("Longer than maximum length %(max)s.", max=self.max)
            return said("Length must be between %(min)s and %(max)s.", min=self.min, max=self.max)
        return super()._format_error(value, message)


class Range(validate.Range):
    def _format_error(self, value: Any, message: str) -> str:
        if isinstance(self.error, Said):
            return self.error
        if self.error is None and self.min_inclusive and self.max_inclusive:
            if self.max is None:
                return said("Must be greater than or equal to %(min)s.", min=self.min)
            if self.min is None:
                return said("Must be less than or equal to %(max)s.", max=self.max)
            return said(
                "Must be greater than or equal to %(min)s and less than or equal to %(max)s.",
                min=self.min,
                max=self.max,
            )
        return super()._format_error(value, message)


class ZonedDateTime(fields.AwareDateTime):
    """An aware datetime whose refusals may be said with values (see OneOf above)."""

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        message = self.error_messages.get(key)
        if isinstance(message, Said) and message.params:
            return ValidationError(message)
        return super().make_error(key, **kwargs)


def no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError(N_("contains a NUL character"))


def at_most(length: int) -> Length:
    """Text of at most `length` characters, said so."""
    return Length(max=length, error=said("at most %(max)s characters", max=length))


def text_field(**kw: Any) -> fields.String:
    """Text of at most `max` characters (200), required unless `required=False`."""
    checks = [at_most(kw.pop("max", 200)), no_nul]
    if "validate" in kw:
        checks.append(kw.pop("validate"))
    return fields.String(
        required=kw.pop("required", True), error_messages=REQUIRED, validate=checks, **kw
    )


def date_field(description: str = "") -> fields.Date:
    return fields.Date(
        required=True,
        error_messages={**REQUIRED, "invalid": N_("a date: YYYY-MM-DD")},
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


def int_field(*, big: bool = False, **kw: Any) -> fields.Integer:
    """A whole number an INTEGER column holds (BIGINT with `big`)."""
    limit = INT64_MAX if big else INT32_MAX
    return WholeNumber(
        required=kw.pop("required", True),
        error_messages={**REQUIRED, "invalid": N_("a whole number")},
        validate=Range(
            min=-limit, max=limit, error=said("out of range: at most %(max)s", max=limit)
        ),
        **kw,
    )


def material_lots_field() -> fields.List:
    """The material lots a run, passage or result used: receipt numbers (MAT-2025-003); a form
    sends them comma separated."""
    return fields.List(
        text_field(max=20),
        required=False,
        load_default=list,
        validate=Length(max=30),
        error_messages=REQUIRED,
        metadata={"description": "receipt numbers of approved, unexpired material lots used"},
    )


def at_most_places(places: int) -> Any:
    def check(value: Decimal) -> None:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            raise ValidationError(
                said("at most %(places)s decimal places (the value is kept exact)", places=places)
            )

    return check


def decimal_field(places: int = 2) -> fields.Decimal:
    # No `places=` quantizing: a value with more decimals is refused, never silently rounded.
    return fields.Decimal(
        required=True,
        as_string=True,
        validate=[
            Range(
                min=-DECIMAL_MAX,
                max=DECIMAL_MAX,
                error=said("out of range: at most %(max)s", max=DECIMAL_MAX),
            ),
            at_most_places(places),
        ],
        error_messages={
            **REQUIRED,
            "invalid": N_("a number, e.g. 18.25"),
            "special": N_("a finite number"),
        },
        # The document states the bounds as numbers (apispec would print a Decimal as a string).
        metadata={"minimum": float(-DECIMAL_MAX), "maximum": float(DECIMAL_MAX)},
    )


def local_time_field(required: bool = True) -> fields.NaiveDateTime:
    """A wall-clock time as a form sends it (the page names the zone)."""
    return fields.NaiveDateTime(
        required=required,
        **({} if required else {"load_default": None}),
        error_messages={**REQUIRED, "invalid": N_("a date and time, e.g. 2026-05-04T14:30")},
    )


def zoned_time_field(required: bool = True, example: str = "2026-05-04T14:30:00+08:00") -> Any:
    """A time as the API takes it: ISO 8601 with its zone (a time without one is refused)."""
    return ZonedDateTime(
        required=required,
        **({} if required else {"load_default": None}),
        error_messages={
            **REQUIRED,
            "invalid": N_("a date and time, ISO 8601"),
            "invalid_awareness": said(
                "a date and time with its zone, e.g. %(example)s", example=example
            ),
        },
    )


class InputSchema(Schema):
    """Strips text, treats empty form fields as absent, splits comma lists, refuses unknown keys.
    A password (`verbatim_fields`) is kept exactly as typed, spaces and all."""

    list_fields: ClassVar[tuple[str, ...]] = ()
    verbatim_fields: ClassVar[tuple[str, ...]] = ()

    class Meta:
        unknown = RAISE

    @pre_load
    def _clean(self, data: Any, **_kw: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for key, value in dict(data).items():
            if isinstance(value, str) and not (value and key in self.verbatim_fields):
                value = value.strip()
                if value == "":
                    continue
                if key in self.list_fields:
                    value = [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
            out[key] = value
        return out


class ZonedIn(InputSchema):
    """API variant: every datetime carries its zone and is turned to UTC."""

    @post_load
    def _utc(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        for key, value in data.items():
            if isinstance(value, dt.datetime):
                data[key] = value.astimezone(dt.UTC)
        return data


class ReasonIn(InputSchema):
    reason = text_field(max=2000)
