"""API bearer tokens: issued with scopes and an expiry, stored as a SHA-256 only, listed and
revoked by their owner; refused when the account may not act."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.text import N_, said
from lotrack.models import ApiToken, User
from lotrack.services import audit

SCOPES = (N_("read"), N_("write"), N_("sign"))  # GET and HEAD; other methods; an e-signature
TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    actor: User | None,
    user: User,
    label: str = "",
    *,
    scopes: Iterable[str] = SCOPES,
    days: int = TOKEN_DAYS,
) -> str:
    """Issue an API bearer token that may do `scopes` for `days`; only its SHA-256 is stored,
    the token is shown once."""
    chosen = sorted(set(scopes), key=SCOPES.index) if set(scopes) <= set(SCOPES) else None
    fields: dict[str, str] = {}
    if not chosen:
        fields["scopes"] = said("one or more of %(choices)s", choices=", ".join(SCOPES))
    if not 1 <= days <= MAX_TOKEN_DAYS:
        fields["days"] = said("from 1 to %(max)s days", max=MAX_TOKEN_DAYS)
    if fields:
        raise ValidationFailed(N_("The token cannot be issued."), fields)
    token = "lt_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        token_hash=_token_digest(token),
        label=label,
        scopes=",".join(chosen or ()),
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    audit.created(session, actor, row)
    return token


def revoke_tokens(session: Session, actor: User | None, user: User, reason: str) -> int:
    """Revoke every live API token of a user (a lost laptop, a leaver); returns how many."""
    live = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in live:
        audit.changed(session, actor, token, {"revoked_at": utcnow()}, reason)
    return len(live)


# Every API request runs it: the token with its user in one statement, built once.
_TOKEN_WITH_USER = (
    select(ApiToken)
    .options(joinedload(ApiToken.user))
    .where(ApiToken.token_hash == bindparam("digest"))
)


def live_token(session: Session, token: str) -> ApiToken | None:
    """The token, with its user, if it may be used now: not revoked, not expired, its account
    active and not locked out of logging in (a locked account acts through no door, its tokens
    included; issue 16). Only wrong passwords from an address the account knows lock it
    (services/lockout.py), so nobody elsewhere on the network can cut its tokens off; a signing
    lock leaves them working, as it leaves the session."""
    row = session.scalar(_TOKEN_WITH_USER, {"digest": _token_digest(token)})
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if row.user.enrolled_at is None:  # reset by an administrator: no door until re-enrolled
        return None
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if row.user.locked_until is not None and row.user.locked_until > now:
        return None
    # Write last-use at most once a minute: a token in a busy integration must not write per call.
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=1):
        row.last_used_at = now
    return row


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a live token belongs to."""
    row = live_token(session, token)
    return row.user if row is not None else None


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """A user's tokens, newest first (live, expired and revoked: the account page lists all)."""
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, actor: User, token_id: int, reason: str) -> ApiToken:
    """Revoke one of the actor's own tokens (an administrator revokes anyone's with the CLI)."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != actor.id:
        raise NotFound(said("No token %(id)s of yours.", id=token_id), {"token": N_("not yours")})
    if row.revoked_at is not None:
        raise Conflict(said("Token %(id)s is already revoked.", id=token_id))
    if not reason.strip():
        raise ValidationFailed(N_("Say why the token is revoked."), {"reason": N_("required")})
    audit.changed(session, actor, row, {"revoked_at": utcnow()}, reason.strip())
    return row
