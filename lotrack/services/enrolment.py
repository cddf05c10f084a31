"""Enrolment: an administrator creates an account or resets a password without ever choosing or
seeing it; a one-time code, stored only as its SHA-256 and valid for ENROLMENT_HOURS, lets the
person set their own password."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.text import N_, Moment, said
from lotrack.models import Enrolment, RoleGrant, User
from lotrack.services import accounts, audit, role_grants
from lotrack.services.passwords import check_password_rules

ENROLMENT_HOURS = 72
CODE_MAX = 64  # longer than any code issued: refused before it is hashed
UNKNOWN = N_("This enrolment code is not valid: check it, or ask an administrator for a new one.")


@dataclass(frozen=True)
class Issued:
    """A new or reset account's enrolment: the code is shown once, to be passed on."""

    user: User
    code: str
    expires_at: dt.datetime
    grant: RoleGrant | None = None


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def invite(
    session: Session,
    actor: User,
    *,
    username: str,
    full_name: str,
    role: str,
    site_code: str | None,
    reason: str = "",
) -> Issued:
    """Create an account with no password and its enrolment; a role that takes a second person
    is only requested (role_grants), the account unusable until it is approved."""
    user = accounts.create_user(
        session, actor, username=username, full_name=full_name, role=role, password=None,
        site_code=site_code,
    )  # fmt: skip
    grant = None
    if role_grants.needs_second_person(user.role):
        user.active = False  # recorded as created inactive: the grant's approval activates it
        session.flush()
        grant = role_grants.hold(session, actor, user, reason, new=True)
    code, expires_at = issue(session, actor, user)
    return Issued(user, code, expires_at, grant)


def issue(
    session: Session, actor: User | None, user: User, reason: str = ""
) -> tuple[str, dt.datetime]:
    """A new enrolment for `user`, replacing any live one; returns the code and its expiry."""
    now = utcnow()
    live = session.scalars(
        select(Enrolment).where(
            Enrolment.user_id == user.id,
            Enrolment.used_at.is_(None),
            Enrolment.revoked_at.is_(None),
        )
    ).all()
    for old in live:
        audit.changed(
            session, actor, old, {"revoked_at": now}, reason or "replaced by a new enrolment"
        )
    code = secrets.token_urlsafe(18)
    row = Enrolment(
        user=user,
        token_hash=_digest(code),
        issued_by=actor,
        issued_at=now,
        expires_at=now + dt.timedelta(hours=ENROLMENT_HOURS),
    )
    audit.created(session, actor, row, reason)
    return code, row.expires_at


def reset(session: Session, actor: User, user: User, reason: str) -> tuple[str, dt.datetime]:
    """An administrator's password reset (or a new code for an account not yet enrolled): the
    old password and code stop working, every session ends, and the person chooses a new password
    with the new enrolment. The administrator never sets one."""
    if not (reason or "").strip():
        raise ValidationFailed(N_("Say why the password is reset."), {"reason": N_("required")})
    if user.id == actor.id:
        raise Conflict(
            N_("Change your own password on your account page, not with a reset."),
            {"user": N_("yourself")},
        )
    # Set apart from audit.changed, which would copy the old hash into the permanent trail.
    user.password_hash = ""
    user.session_version += 1
    audit.event(session, actor, "password_reset", user, {"sessions_ended": True}, reason.strip())
    audit.changed(
        session, actor, user, {"enrolled_at": None, "must_change_password": False}, reason.strip()
    )
    if role_grants.needs_second_person(user.role) and user.active:
        role_grants.hold(session, actor, user, reason.strip(), new=False)
    return issue(session, actor, user, reason.strip())


def find(session: Session, code: str) -> Enrolment:
    """The enrolment a code opens, if it still may be used; else a refusal saying why."""
    code = (code or "").strip()
    row = None
    if code and len(code) <= CODE_MAX:
        row = session.scalar(select(Enrolment).where(Enrolment.token_hash == _digest(code)))
    if row is None:
        raise NotFound(UNKNOWN, {"code": N_("not a valid enrolment code")})
    if row.used_at is not None:
        raise Conflict(
            said(
                "This enrolment code was used at %(time)s and cannot be used again. If that was"
                " not you, tell an administrator at once.",
                time=Moment(row.used_at),
            ),
            {"code": N_("already used")},
        )
    if row.revoked_at is not None:
        raise Conflict(
            N_(
                "This enrolment code was replaced by a newer one; use the newest code you were"
                " given."
            ),
            {"code": N_("replaced")},
        )
    if row.expires_at <= utcnow():
        raise Conflict(
            said(
                "This enrolment code expired at %(time)s; ask an administrator for a new one.",
                time=Moment(row.expires_at),
            ),
            {"code": N_("expired")},
        )
    return row


def enrol(session: Session, code: str, password: str, confirm: str, *, min_length: int) -> User:
    """The person sets their own password with their enrolment code, once."""
    row = find(session, code)
    user = row.user
    if password != confirm:
        raise ValidationFailed(
            N_("The two passwords differ."), {"confirm": N_("the two new passwords differ")}
        )
    check_password_rules(password, min_length, username=user.username)
    now = utcnow()
    # Guarded: of two requests with the same code at the same moment, one only succeeds.
    done = session.execute(
        update(Enrolment)
        .where(Enrolment.id == row.id, Enrolment.used_at.is_(None), Enrolment.revoked_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.expire(row)
        raise Conflict(N_("This enrolment code was used at the same moment by someone else."))
    session.expire(row, ["used_at"])
    user.password_hash = accounts.hash_password(password)
    user.password_changed_at = user.enrolled_at = now
    user.must_change_password = False
    audit.event(session, user, "enrolled", user, {"enrolment": row.id, "enrolled_at": now})
    return user
