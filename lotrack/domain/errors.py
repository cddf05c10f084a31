"""Errors a rule raises; the edges map them to HTTP statuses in lotrack/errors.py."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal with a reason a person can read; `fields` names the offending inputs."""

    code = "refused"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """The input is malformed or breaks a rule about its own values (422)."""

    code = "invalid"


class NotFound(DomainError):
    """A referenced record does not exist (404 for the addressed resource)."""

    code = "not_found"


class Conflict(DomainError):
    """The input clashes with the current state: duplicate code, vial already withdrawn (409)."""

    code = "conflict"


class Forbidden(DomainError):
    """The actor's role or site does not allow the action (403)."""

    code = "forbidden"
