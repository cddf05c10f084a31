"""Accounts: creating users, logging in with lockout, passwords, sessions (tokens: api_tokens)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.language import Language
from lotrack.domain.lockout import Rules
from lotrack.domain.permissions import SITE_ROLES
from lotrack.domain.text import N_, Moment, said
from lotrack.models import Site, User
from lotrack.models.user import ROLES
from lotrack.services import audit, lockout
from lotrack.services.common import in_turn
from lotrack.services.passwords import check_password_rules, normalise_password

# argon2id with the library's RFC 9106 low-memory profile.
_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("lotrack-dummy-password")
WRONG = N_("Wrong username or password.")
WRONG_WAIT = N_("Wrong username or password. Try again after %(time)s.")
WAIT = N_("Too many failed logins for this username from this address. Try again after %(time)s.")
NOT_ENROLLED = N_(
    "This account is not enrolled yet: open the enrolment link or code an administrator gave"
    " you and choose your password there first."
)


@dataclass(frozen=True)
class LoginOutcome:
    """A login's result. A refusal is not an exception: its failure count must be committed."""

    user: User | None
    message: str = ""
    # Set when the attempt was refused unheard because its address must wait (HTTP 429).
    retry_at: dt.datetime | None = None


USERNAME_MAX = 64  # the user_account.username column: a longer name is no account's


def hash_password(password: str) -> str:
    return _hasher.hash(normalise_password(password))


def create_user(
    session: Session,
    actor: User | None,
    *,
    username: str,
    full_name: str,
    role: str,
    password: str | None,
    site_code: str | None = None,
    min_password_length: int = 12,
    must_change_password: bool = True,
) -> User:
    """A new account. Without a password it awaits enrolment (services/enrolment.py); with one,
    someone other than its owner chose it, so it must be changed at first login unless the
    caller says otherwise (the demo seed, whose logins are printed as they are)."""
    username = (username or "").strip().lower()
    fields: dict[str, str] = {}
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        fields["username"] = said("letters, digits, '.', '-' or '_' only")
    elif username == audit.SYSTEM:
        fields["username"] = said(
            "'%(name)s' names the application itself in the audit trail", name=audit.SYSTEM
        )
    if role not in ROLES:
        fields["role"] = said("one of %(choices)s", choices=", ".join(ROLES))
    site = None
    if role in SITE_ROLES:
        if not site_code:
            fields["site"] = said("a clinical user is bound to one site")
        else:
            site = session.scalar(select(Site).where(Site.code == site_code))
            if site is None:
                fields["site"] = said("no site with code %(code)s", code=site_code)
    elif site_code:
        fields["site"] = said("only clinical users are bound to a site")
    if fields:
        # Built apart from the sentence it goes into, so that pybabel finds its template.
        each = [said("%(field)s: %(reason)s", field=k, reason=v) for k, v in fields.items()]
        raise ValidationFailed(
            said(
                "The user cannot be created: %(details)s",
                details=in_turn(each),
            ),
            fields,
        )
    if password is not None:
        check_password_rules(password, min_password_length, username=username)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(
            said("A user named %(name)s exists already.", name=username),
            {"username": N_("already taken")},
        )
    user = User(
        username=username,
        full_name=full_name.strip() or username,
        role=role,
        site=site,
        # An empty hash matches no password: the account is unusable until enrolled.
        password_hash=hash_password(password) if password is not None else "",
        enrolled_at=utcnow() if password is not None else None,
        must_change_password=password is not None and must_change_password,
    )
    audit.created(session, actor, user)
    return user


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    max_failures: int,
    lockout_minutes: int,
    address: str | None = None,
    free_failures: int = 3,
) -> LoginOutcome:
    """Let the user in if the password is right; count failures and lock after `max_failures`.

    Every refusal says the same thing whether or not the username exists, except a lockout, which
    the user needs to know about to call for help. `address` (domain/lockout.address_key) is the
    client's: failures from an address the account has not logged in from only make that address
    wait (domain/lockout.py); None (the CLI, no network) counts toward the lockout.
    """
    now = utcnow()
    name = (username or "").strip().lower()
    if len(name) > USERNAME_MAX:
        # No such account can exist; the permanent trail keeps what was tried, bounded.
        _verify(_DUMMY_HASH, password)
        tried = {"username": name[:USERNAME_MAX] + "…", "length": len(name)}
        audit.event(session, None, "login_failed", ("user_account", "?"), tried)
        return LoginOutcome(None, WRONG)
    rules = Rules(max_failures, lockout_minutes, free_failures)
    if address is not None:
        until = lockout.address_wait(session, name, address)
        if until is not None:
            # Refused before any password is checked: nothing learnt, no hash computed, no write.
            return LoginOutcome(None, said(WAIT, time=Moment(until)), retry_at=until)
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        _verify(_DUMMY_HASH, password)
        tried = {"username": name, "address": address}
        audit.event(session, None, "login_failed", ("user_account", "?"), tried)
        return _slowed(session, name, address, rules)
    if user.locked_until is not None and user.locked_until > now:
        audit.event(session, user, "login_refused_locked", user)
        return LoginOutcome(
            None,
            said(
                "This account is locked after repeated failed logins until %(time)s. Ask an"
                " administrator to unlock it.",
                time=Moment(user.locked_until),
            ),
        )
    if not user.active:
        audit.event(session, user, "login_refused_inactive", user)
        return LoginOutcome(None, N_("This account is disabled."))
    if user.enrolled_at is None:
        _verify(_DUMMY_HASH, password)
        audit.event(session, user, "login_refused_not_enrolled", user)
        return LoginOutcome(None, NOT_ENROLLED)
    if not _verify(user.password_hash, password):
        if address is not None and not lockout.is_known(session, user, address):
            audit.event(session, user, "login_failed", user, {"address": address})
            return _slowed(session, name, address, rules)
        register_failure(session, user, max_failures=max_failures, lockout_minutes=lockout_minutes)
        if user.locked_until is not None:
            return LoginOutcome(
                None,
                said(
                    "Wrong password. The account is now locked for %(num)s minutes.",
                    num=lockout_minutes,
                ),
            )
        return LoginOutcome(None, WRONG)
    if user.failed_logins or user.locked_until:
        user.failed_logins, user.locked_until = 0, None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if address is not None:
        lockout.logged_in_from(session, user, name, address)
    audit.event(session, user, "login", user, {"address": address} if address else None)
    return LoginOutcome(user)


def _slowed(session: Session, name: str, address: str | None, rules: Rules) -> LoginOutcome:
    """A wrong login from an address the account does not know: that address waits, the account
    is never locked by it (an unknown username is slowed alike, so the answer tells nothing)."""
    if address is None:
        return LoginOutcome(None, WRONG)
    until = lockout.address_failed_login(session, name, address, rules)
    if until is None:
        return LoginOutcome(None, WRONG)
    return LoginOutcome(None, said(WRONG_WAIT, time=Moment(until)))


def register_failure(
    session: Session, user: User, *, max_failures: int, lockout_minutes: int
) -> None:
    """A wrong password (at login or at signing) counts toward lockout."""
    user.failed_logins += 1
    details: dict[str, object] = {"failed_logins": user.failed_logins}
    if user.failed_logins >= max_failures:
        user.locked_until = utcnow() + dt.timedelta(minutes=lockout_minutes)
        user.failed_logins = 0
        details["locked_until"] = user.locked_until
    audit.event(session, user, "login_failed", user, details)


def check_password(user: User, password: str) -> bool:
    """Whether `password` is the user's own (for re-authentication at signing): a password
    someone else chose, not yet changed, signs nothing."""
    usable = user.active and user.enrolled_at is not None and not user.must_change_password
    return usable and _verify(user.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    text = normalise_password(password)
    # The raw form too: a hash made before passwords were normalised must still match.
    for candidate in dict.fromkeys((text, password or "")):
        try:
            if _hasher.verify(password_hash, candidate):
                return True
        except (VerificationError, InvalidHashError):
            pass
    return False


def revoke_sessions(
    session: Session, user: User, why: str, details: dict[str, object] | None = None
) -> None:
    """Invalidate every browser session the user holds (logout, password change)."""
    user.session_version += 1
    audit.event(session, user, why, user, details)


def set_language(session: Session, user: User, language: str) -> None:
    """The language pages speak to this person from now on (audited: it changes what they read)."""
    if language not in Language._value2member_map_:
        raise ValidationFailed(
            N_("Choose a language lotrack speaks."),
            {"language": said("one of %(choices)s", choices=", ".join(Language))},
        )
    if user.language == language:
        return
    before = user.language
    user.language = Language(language)
    audit.event(session, user, "language_set", user, {"from": before, "to": language})


def change_password(
    session: Session, user: User, current: str, new: str, *, min_length: int
) -> None:
    if not _verify(user.password_hash, current):
        raise ValidationFailed(
            N_("The current password is wrong."), {"current": N_("wrong password")}
        )
    check_password_rules(new, min_length, username=user.username)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    # The forced change is done: the password is now one only its owner knows.
    details = {"must_change_password": False} if user.must_change_password else None
    user.must_change_password = False
    revoke_sessions(session, user, "password_changed", details)


def unlock(session: Session, actor: User, user: User, reason: str) -> None:
    audit.changed(session, actor, user, {"locked_until": None, "failed_logins": 0}, reason)


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None:
        raise NotFound(
            said("No user named %(name)s.", name=username), {"username": N_("unknown user")}
        )
    return user
