"""Where logins come from: each account's known addresses, and the failures counted per typed
username and client address (domain/lockout.py says what they mean)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lotrack.db import Base, UTCDateTime, utcnow
from lotrack.domain.lockout import ADDRESS_MAX

__all__ = ["KnownAddress", "LoginThrottle"]


class KnownAddress(Base):
    """An address the account has logged in from: its failures count toward the lockout."""

    __tablename__ = "login_address"
    __table_args__ = (UniqueConstraint("user_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    last_login_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginThrottle(Base):
    """Failed logins for one username from one unknown address, and until when it must wait.

    Keyed by the username as typed, not the account: a name with no account is slowed alike,
    so the delay does not tell an attacker which usernames exist."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("username", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Indexed: stale rows are purged by it, so an attacker's many names do not pile up.
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    wait_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
