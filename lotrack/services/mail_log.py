"""The notices as the app shows them (the Notifications page and its API), and each person's
e-mail address, set by an administrator."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.mail import MailEvent, MailStatus
from lotrack.domain.permissions import may, require
from lotrack.domain.text import N_, said
from lotrack.models import MailOutbox, User
from lotrack.services import audit
from lotrack.services.common import Page, page_of

# One @, something on each side, a dot in the domain, no spaces: what a typo breaks, not RFC 5322.
ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def set_email(session: Session, actor: User, person: User, email: str, reason: str) -> None:
    """The address a person's notices are sent to; empty: shown in the app only (audited)."""
    require(actor.role, "users.manage")
    email = (email or "").strip()
    if email and (len(email) > 254 or not ADDRESS.fullmatch(email)):
        raise ValidationFailed(
            N_("The e-mail address cannot be kept."),
            {"email": N_("an address such as name@example.org")},
        )
    if (person.email or "") == email:
        return
    audit.changed(session, actor, person, {"email": email or None}, reason)


@dataclass(frozen=True)
class Filters:
    event: str = ""
    status: str = ""
    number: str = ""


def check_filters(filters: Filters) -> None:
    fields = {}
    if filters.event and filters.event not in MailEvent._value2member_map_:
        fields["event"] = said("one of %(choices)s", choices=", ".join(MailEvent))
    if filters.status and filters.status not in MailStatus._value2member_map_:
        fields["status"] = said("one of %(choices)s", choices=", ".join(MailStatus))
    if len(filters.number) > 40:
        fields["number"] = N_("at most 40 characters")
    if fields:
        raise ValidationFailed(N_("These filters cannot be applied."), fields)


def _scoped(actor: User, filters: Filters) -> Select[tuple[MailOutbox]]:
    stmt = select(MailOutbox).options(joinedload(MailOutbox.recipient))
    # QA, the medical director and administrators see every notice; anyone else their own.
    if not may(actor.role, "notify.read"):
        stmt = stmt.where(MailOutbox.recipient_id == actor.id)
    if filters.event:
        stmt = stmt.where(MailOutbox.event == filters.event)
    if filters.status:
        stmt = stmt.where(MailOutbox.status == filters.status)
    if filters.number:
        stmt = stmt.where(MailOutbox.number == filters.number.strip().upper())
    return stmt.order_by(MailOutbox.created_at.desc(), MailOutbox.id.desc())


def list_notices(
    session: Session, actor: User, filters: Filters, page: int = 1, per_page: int = 50
) -> Page[MailOutbox]:
    """The notices the actor may see, newest first, with their recipients (2 queries)."""
    check_filters(filters)
    return page_of(session, _scoped(actor, filters), page, per_page)
