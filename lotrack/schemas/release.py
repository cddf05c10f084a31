"""Input schemas of QA's decisions, shared by the HTML forms and the JSON API: the electronic
signature, exceptional release, notifications, deviations and their closure.

Times: a notification's time typed without a zone (the form's wall-clock time) is in the
facility's zone (SITE_TIME_ZONE); the API's variant (`ZonedNotifyIn`) takes ISO 8601 with its zone.
Either way it is loaded in UTC, as it is stored and shown."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import fields, post_load

from lotrack.domain.decisions import Meaning
from lotrack.domain.text import N_
from lotrack.request_scope import setting
from lotrack.schemas.base import (
    REQUIRED,
    InputSchema,
    OneOf,
    date_field,
    text_field,
    zoned_time_field,
)
from lotrack.services import signature
from lotrack.services.exceptional import RECIPIENT_ROLES


class SignIn(InputSchema):
    """The signer's credentials, re-entered at each signing (21 CFR 11.200), and the meaning. The
    password is kept exactly as typed, checked by the service and never shown back."""

    username = text_field(
        max=64, metadata={"description": "the token's own user: a signature is yours"}
    )
    password = text_field(
        max=200, metadata={"description": "checked now; failures count to lockout"}
    )
    meaning = text_field(
        max=60,
        validate=OneOf([m.value for m in Meaning]),
        metadata={"description": "e.g. 'approved for release', 'rejected', 'recalled'"},
    )
    reason = text_field(max=2000, required=False, load_default="")

    verbatim_fields = ("password",)


def sign_in(data: dict[str, Any]) -> signature.SignIn:
    """What the signer typed (a loaded `SignIn`), as the signing services take it."""
    return signature.SignIn(data["username"], data["password"], data["meaning"], data["reason"])


class SignWithReasonIn(SignIn):
    """A decision that must say why (reject, hold, lift a hold, recall)."""

    reason = text_field(max=2000)


class ExceptionalIn(InputSchema):
    physician = text_field(max=200, metadata={"description": "the treating physician who asks"})
    patient = text_field(
        max=64,
        metadata={
            "description": "the wristband (SITE/SUBJECT, e.g. SZ-GIMI/SUBJ-001) of an existing"
            " patient record: the one patient the lot may go to"
        },
    )
    request = text_field(max=5000)
    requested_on = date_field()
    risk_assessment = text_field(
        max=5000, metadata={"description": "the manufacturer's assessment"}
    )


def in_utc(moment: dt.datetime) -> dt.datetime:
    """A time in UTC; one without a zone is the facility's wall-clock time (SITE_TIME_ZONE)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(setting("SITE_TIME_ZONE")))
    return moment.astimezone(dt.UTC)


class NotifyIn(InputSchema):
    """Who was told of an exceptional release, a hold or a recall, how and when. The form's time
    is the facility's wall-clock time (the page names the zone) unless it names its own zone."""

    recipient_role = text_field(validate=OneOf(RECIPIENT_ROLES))
    recipient = text_field(max=200)
    method = text_field(max=60, metadata={"description": "e.g. phone, e-mail"})
    notified_at = fields.DateTime(
        required=True, error_messages={**REQUIRED, "invalid": N_("a date and time")}
    )
    note = text_field(max=2000, required=False, load_default="")

    @post_load
    def _utc(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data["notified_at"] = in_utc(data["notified_at"])  # stored and shown in UTC
        return data


class ZonedNotifyIn(NotifyIn):
    """The API's notification: its time is ISO 8601 with its zone (one without is refused)."""

    notified_at = zoned_time_field(example="2025-09-01T10:30:00+02:00")


class DeviationIn(InputSchema):
    lot = text_field(max=32, required=False, load_default=None, metadata={"description": "or run"})
    run = text_field(max=32, required=False, load_default=None, metadata={"description": "or lot"})
    description = text_field(max=5000)


class AssessIn(InputSchema):
    impact_assessment = text_field(max=5000)


class CloseIn(InputSchema):
    closure = text_field(max=5000)
