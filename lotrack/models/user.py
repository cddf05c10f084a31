"""Accounts: sites, users and API tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.language import Language
from lotrack.domain.permissions import ROLES, Role

__all__ = ["ROLES", "ApiToken", "Site", "User"]


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100), default="")
    time_zone: Mapped[str] = mapped_column(String(64))


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(state_column_type(Role, name="role", length=20))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Wrong passwords at signing lock signing only: the session goes on, for reading and work.
    failed_signings: Mapped[int] = mapped_column(Integer, default=0)
    signing_locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Bumped on logout and password change: every session issued before is revoked.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # None until the person sets their own password with an enrolment (services/enrolment.py).
    enrolled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # The password was chosen by someone else (the command line): changed before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # The language pages speak to this person (None: their browser's, then the site's default).
    language: Mapped[Language | None] = mapped_column(
        state_column_type(Language, name="language", length=8)
    )

    # Where notices are e-mailed (services/notify.py); None: shown in the app only (0023).
    email: Mapped[str | None] = mapped_column(String(254))

    site: Mapped[Site | None] = relationship()

    # Flask-Login protocol, kept here so the model needs no Flask import.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # What the token may do ("read", "write", "sign"; comma-separated) and until when.
    scopes: Mapped[str] = mapped_column(String(40), default="read,write,sign")
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(",") if s)
