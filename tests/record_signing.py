"""The signer's fields of a signed QA decision on a record, for tests that take one."""

from __future__ import annotations

from typing import Any

from lotrack.services.signature import Lockout, SignIn
from tests.conftest import PASSWORDS

LOCKOUT = Lockout(max_failures=5, lockout_minutes=15)


def signs(username: str, meaning: str, reason: str = "", password: str | None = None) -> Any:
    """Keyword arguments `sign_in` and `lockout` of a signed decision, as `username` signs it."""
    typed = PASSWORDS[username] if password is None else password
    return {"sign_in": SignIn(username, typed, meaning, reason), "lockout": LOCKOUT}


def sign_form(username: str, meaning: str, password: str | None = None) -> dict[str, str]:
    """The signer's fields of a form or a JSON body."""
    typed = PASSWORDS[username] if password is None else password
    return {"username": username, "password": typed, "meaning": meaning}
