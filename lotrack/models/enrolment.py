"""Enrolments (the one-time link a new user sets their own password with) and role grants (a
signing role given only once a second administrator approves)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.permissions import GrantState, Role
from lotrack.models.user import User


class Enrolment(Base):
    __tablename__ = "enrolment"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # SHA-256 of the code: the code itself is shown once to the issuing administrator.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set when a newer enrolment of the same account replaces this one.
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])


class RoleGrant(Base):
    __tablename__ = "role_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[Role] = mapped_column(state_column_type(Role, name="role", length=20))
    # None: the grant is the new account's first role (approval also makes the account usable).
    previous_role: Mapped[Role | None] = mapped_column(
        state_column_type(Role, name="previous_role", length=20)
    )
    state: Mapped[GrantState] = mapped_column(
        state_column_type(GrantState, name="state", length=10), default=GrantState.PENDING
    )
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
