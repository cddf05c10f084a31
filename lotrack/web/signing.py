"""Electronic signing on the HTML pages: the signature form (username, password, meaning,
reason) and the notification form, whose schemas are lotrack/schemas/release.py's; their
round trip is web/forms.py's."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.models import Notification
from lotrack.request_scope import setting
from lotrack.services import exceptional
from lotrack.web.forms import FormState


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
