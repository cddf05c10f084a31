"""Electronic signing on the HTML pages: the signature form (username, password, meaning,
reason), the notification form, and the round trip of a form on a page with several that keeps a
refused signature's failure count (committed) and never sends the password back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import request
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from lotrack.context import commit, db_session, setting
from lotrack.db import utcnow
from lotrack.domain.errors import DomainError
from lotrack.errors import status_of
from lotrack.models import Notification
from lotrack.schemas import REQUIRED, InputSchema, _text, parse
from lotrack.services import exceptional
from lotrack.services.exceptional import RECIPIENT_ROLES
from lotrack.services.release import Lockout, SignIn
from lotrack.web.forms import form_values
from lotrack.web.result import FormState


class SignForm(InputSchema):
    """What a signer types; the password is checked by the service, never echoed back."""

    username = _text(max=64)
    password = _text(max=200)
    meaning = _text(max=60)
    reason = _text(max=2000, required=False, load_default="")


class NotifyIn(InputSchema):
    recipient_role = _text(validate=validate.OneOf(RECIPIENT_ROLES))
    recipient = _text(max=200)
    method = _text(max=60)
    notified_at = fields.DateTime(
        required=True, error_messages={**REQUIRED, "invalid": "a date and time"}
    )
    note = _text(max=2000, required=False, load_default="")


def sign_in(data: dict[str, Any]) -> SignIn:
    # The password exactly as typed (the schema strips text; a password keeps its spaces).
    return SignIn(
        data["username"], request.form.get("password", ""), data["meaning"], data["reason"]
    )


def lockout() -> Lockout:
    return Lockout(setting("MAX_FAILED_LOGINS"), setting("LOCKOUT_MINUTES"))


def submit(
    name: str,
    schema: Schema | None,
    act: Callable[[dict[str, Any]], ResponseReturnValue],
    page: Callable[[FormState], str],
) -> ResponseReturnValue:
    """POST of one form of a page: call one service, commit, redirect; or re-render the page with
    the refusal and the values entered (never the password). A refused signature keeps its
    failure count (committed); any other refusal writes nothing."""
    values = form_values()
    shown = {k: v for k, v in values.items() if k != "password"}
    try:
        response = act(parse(schema, values) if schema is not None else {})
        commit()
        return response
    except DomainError as err:
        if getattr(err, "keep_writes", False):
            commit()
        else:
            db_session().rollback()
        return page(FormState(name, err.fields or {}, err.message, shown)), status_of(err)


def notifications(
    session: Session, *, er_id: int | None = None, containment_id: int | None = None
) -> list[Notification]:
    return exceptional.notifications_of(session, er_id=er_id, containment_id=containment_id)


def local_now() -> str:
    """Now in the facility's zone, as a datetime-local input value."""
    zone = ZoneInfo(setting("SITE_TIME_ZONE"))
    return utcnow().astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def notify_state(form: FormState) -> FormState:
    """The notification form: its refusal, or empty with the time preset to now."""
    if form.name == "notify":
        return form
    return FormState("notify", values={"notified_at": local_now()})


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A time typed without a zone is in the facility's zone (the form names it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(setting("SITE_TIME_ZONE")))
    return moment.astimezone(dt.UTC)
