"""Input schemas of administration: a user account, and the audit trail's filter."""

from __future__ import annotations

from marshmallow import EXCLUDE, fields

from lotrack.domain.text import N_, said
from lotrack.models.user import ROLES
from lotrack.schemas.base import REQUIRED, InputSchema, Length, OneOf, Range, text_field

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
    # No password: the person sets their own with the enrolment code (services/enrolment.py).
    # Why the role is needed: a role that takes a second person is asked for with it.
    reason = text_field(max=2000, required=False, load_default="")


class RoleIn(InputSchema):
    role = fields.String(
        required=True,
        error_messages=REQUIRED,
        validate=OneOf(ROLES, error=said("one of %(choices)s", choices=", ".join(ROLES))),
    )
    reason = text_field(max=2000)


class EmailIn(InputSchema):
    # Empty: notices to this person are shown in the app only (services/mail_log.py checks it).
    email = fields.String(load_default="", validate=Length(max=254))
    reason = text_field(max=2000)


DECISIONS = ("approve", "refuse")


class GrantDecisionIn(InputSchema):
    decision = fields.String(
        required=True,
        error_messages=REQUIRED,
        validate=OneOf(DECISIONS, error=said("one of %(choices)s", choices=", ".join(DECISIONS))),
    )
    reason = text_field(max=2000, required=False, load_default="")


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
