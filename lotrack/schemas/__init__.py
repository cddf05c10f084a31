"""Input schemas, one home each, shared by the HTML forms and the JSON API, by concept:
manufacturing, quality, release, documents, clinical, trace, paging (the API's list arguments)
and admin. Response schemas live with the API (lotrack/api/*schemas.py).

The package itself offers the base pieces (lotrack/schemas/base.py): `parse` and friends."""

from lotrack.schemas.base import (
    REQUIRED,
    InputSchema,
    ReasonIn,
    ZonedIn,
    flatten,
    parse,
    validation_message,
)

__all__ = [
    "REQUIRED",
    "InputSchema",
    "ReasonIn",
    "ZonedIn",
    "flatten",
    "parse",
    "validation_message",
]
