"""Lockouts and throttles kept: per-address login delays, known addresses, the signing lock, and
what an administrator sees and lifts. The rules themselves are in domain/lockout.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.lockout import (
    LOGIN,
    SIGNING,
    Count,
    Rules,
    address_failed,
    lock_failed,
    spray_failed,
)
from lotrack.domain.text import N_, said
from lotrack.models import KnownAddress, LoginThrottle, User
from lotrack.services import audit

KNOWN_KEPT = 10  # an account's most recent good addresses: a laptop, a desk PC, a phone, home


def is_known(session: Session, user: User, address: str) -> bool:
    """Whether the account has logged in from `address` before."""
    found = select(KnownAddress.id).where(
        KnownAddress.user_id == user.id, KnownAddress.address == address
    )
    return session.scalar(found) is not None


def _throttle(session: Session, username: str, address: str) -> LoginThrottle | None:
    query = select(LoginThrottle).where(
        LoginThrottle.username == username, LoginThrottle.address == address
    )
    return session.scalar(query)


def address_wait(session: Session, username: str, address: str) -> dt.datetime | None:
    """Until when `address` must wait before trying `username` again (None: it may now)."""
    row = _throttle(session, username, address)
    if row is None or row.wait_until is None or row.wait_until <= utcnow():
        return None
    return row.wait_until


def address_failed_login(
    session: Session, username: str, address: str, rules: Rules
) -> dt.datetime | None:
    """Count a failed login for `username` from an unknown address; returns until when that
    address must now wait (None: not yet). The account is never locked by it."""
    now = utcnow()
    # Rows quiet for a day count nothing any more: purged so that many tried names do not pile up.
    cutoff = now - dt.timedelta(hours=rules.quiet_hours)
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < cutoff))
    return _counted(session, username, address, now, lambda c: address_failed(c, now, rules))


# The row counting an address's failed logins under any username: no username is empty.
SPRAY = ""


def spray_wait(session: Session, address: str) -> dt.datetime | None:
    """Until when `address` must wait before any login is heard (None: it may now)."""
    return address_wait(session, SPRAY, address)


def spray_failed_login(
    session: Session, address: str, limit: int, window: dt.timedelta
) -> dt.datetime | None:
    """Count a failed login from `address` whatever the username (domain spray_failed). In the
    database, not a process's memory: every worker and every host counts the same failures."""
    now = utcnow()
    return _counted(session, SPRAY, address, now, lambda c: spray_failed(c, now, limit, window))


def _counted(
    session: Session,
    username: str,
    address: str,
    now: dt.datetime,
    rule: Callable[[Count], Count],
) -> dt.datetime | None:
    """One more failure on the (username, address) row, made if missing, under a row lock: two
    hosts counting at once neither lose a failure nor collide on the row's unique key."""
    created = _insert_missing(session).values(
        username=username, address=address, failures=0, last_failure_at=now
    )
    session.execute(created.on_conflict_do_nothing(index_elements=["username", "address"]))
    row = session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.username == username, LoginThrottle.address == address)
        .with_for_update()
    )
    assert row is not None  # inserted above or by another transaction that committed
    last = row.last_failure_at if row.failures else None
    after = rule(Count(row.failures, last, row.wait_until))
    row.failures, row.last_failure_at, row.wait_until = after.failures, now, after.until
    return after.until


def _insert_missing(session: Session) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in this database's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(LoginThrottle)
    return sqlite_insert(LoginThrottle)


def logged_in_from(session: Session, user: User, username: str, address: str) -> None:
    """A good login: its address becomes known to the account and its delay ends."""
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.username == username, LoginThrottle.address == address
        )
    )
    known = session.scalars(
        select(KnownAddress)
        .where(KnownAddress.user_id == user.id)
        .order_by(KnownAddress.last_login_at.desc(), KnownAddress.id.desc())
    ).all()
    mine = next((k for k in known if k.address == address), None)
    if mine is not None:
        mine.last_login_at = utcnow()
        return
    session.add(KnownAddress(user_id=user.id, address=address, last_login_at=utcnow()))
    for old in known[KNOWN_KEPT - 1 :]:
        session.delete(old)


def signing_failed(session: Session, user: User, rules: Rules) -> None:
    """A wrong password at signing counts toward the signing lock (not the login lock)."""
    after = lock_failed(
        Count(user.failed_signings, None, user.signing_locked_until), utcnow(), rules
    )
    user.failed_signings, user.signing_locked_until = after.failures, after.until
    details: dict[str, object] = {"failed_signings": user.failed_signings}
    if after.failures == 0:
        details["signing_locked_until"] = after.until
    audit.event(session, user, "signing_failed", user, details)


def signing_locked(user: User) -> bool:
    return user.signing_locked_until is not None and user.signing_locked_until > utcnow()


def signed(user: User) -> None:
    """A good signing password: the signing count starts again."""
    if user.failed_signings:
        user.failed_signings = 0


@dataclass(frozen=True)
class Shown:
    """One row of the administrator's lockout page."""

    kind: str  # LOGIN or SIGNING
    username: str
    address: str | None  # None: the account's own lock (failures from its known addresses)
    failures: int
    until: dt.datetime | None
    user_id: int | None = None
    throttle_id: int | None = None


def current(session: Session, rules: Rules) -> list[Shown]:
    """Every lock, count and address delay in force now, accounts first."""
    now = utcnow()
    rows: list[Shown] = []
    users = session.scalars(
        select(User)
        .where(
            or_(
                User.failed_logins > 0,
                User.locked_until > now,
                User.failed_signings > 0,
                User.signing_locked_until > now,
            )
        )
        .order_by(User.username)
    )
    for u in users:
        locked = u.locked_until if u.locked_until and u.locked_until > now else None
        if u.failed_logins or locked:
            rows.append(Shown(LOGIN, u.username, None, u.failed_logins, locked, user_id=u.id))
        signing = signing_locked(u)
        if u.failed_signings or signing:
            until = u.signing_locked_until if signing else None
            rows.append(Shown(SIGNING, u.username, None, u.failed_signings, until, user_id=u.id))
    cutoff = now - dt.timedelta(hours=rules.quiet_hours)
    throttles = session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.failures > 0, LoginThrottle.last_failure_at >= cutoff)
        .order_by(LoginThrottle.username, LoginThrottle.address)
    )
    for t in throttles:
        until = t.wait_until if t.wait_until and t.wait_until > now else None
        rows.append(Shown(LOGIN, t.username, t.address, t.failures, until, throttle_id=t.id))
    return rows


def _reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationFailed(N_("Say why the lockout is lifted."), {"reason": N_("required")})
    return reason.strip()


def lift_account(session: Session, actor: User, user: User, kind: str, reason: str) -> None:
    """End an account's login or signing lock and its count, with a reason (audited)."""
    why = _reason(reason)
    fields = (
        {"failed_logins": 0, "locked_until": None}
        if kind == LOGIN
        else {"failed_signings": 0, "signing_locked_until": None}
    )
    if not audit.changed(session, actor, user, fields, why):
        raise Conflict(
            said("%(username)s has nothing to lift.", username=user.username),
            {"kind": N_("not locked")},
        )


def lift_address(session: Session, actor: User, throttle_id: int, reason: str) -> LoginThrottle:
    """End one address's delay for one username, with a reason (audited)."""
    why = _reason(reason)
    row = session.get(LoginThrottle, throttle_id)
    if row is None or not row.failures:
        raise NotFound(
            said("No address delay %(id)s in force.", id=throttle_id), {"id": N_("not found")}
        )
    audit.changed(session, actor, row, {"failures": 0, "wait_until": None}, why)
    return row
