"""Input schemas of administration: a user account, and the audit trail's filter."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields

from lotrack.domain.text import N_, said
from lotrack.models.user import ROLES
from lotrack.schemas.base import REQUIRED, InputSchema, Length, OneOf, Range

_DATE = {"invalid": N_("a date: YYYY-MM-DD")}


class UserIn(InputSchema):
    username = fields.String(required=True, error_messages=REQUIRED, validate=Length(max=64))
    full_name = fields.String(load_default="", validate=Length(max=200))
    role = fields.String(
        required=True,
        error_messages=REQUIRED,
        validate=OneOf(ROLES, error=said("one of %(choices)s", choices=", ".join(ROLES))),
    )
    site = fields.String(load_default=None, validate=Length(max=20))
    # Declared so the form is accepted; the value used is the one typed, spaces and all.
    password = fields.String(required=True, error_messages=REQUIRED)


class AuditFilterIn(InputSchema):
    """The audit page's query string. Dates are whole UTC days, both ends included."""

    class Meta:
        unknown = EXCLUDE

    actor = fields.String(load_default=None, validate=Length(max=64))
    entity_type = fields.String(load_default=None, validate=Length(max=40))
    entity_id = fields.String(load_default=None, validate=Length(max=64))
    since = fields.Date(load_default=None, error_messages=_DATE)
    until = fields.Date(load_default=None, error_messages=_DATE)
    page = fields.Integer(
        load_default=1,
        validate=Range(min=1, error=N_("1 or more")),
        error_messages={"invalid": N_("a whole number")},
    )
