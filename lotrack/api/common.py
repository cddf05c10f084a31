"""What every /api/v1 blueprint shares: bearer authentication (401), permissions checked before the
body is read (403), a JSON body parser that never lets a malformed body become a 500."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import flask_smorest
from flask import Request, Response, g, request
from marshmallow import Schema, missing
from webargs.flaskparser import FlaskParser

from lotrack.context import actor
from lotrack.domain.errors import DomainError, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.errors import problem

F = TypeVar("F", bound=Callable[..., Any])


class MalformedBody(DomainError):
    """The body is not JSON at all (400); nothing was read from it."""

    code = "malformed"


class Parser(FlaskParser):
    """webargs' parser, plus: bodies json.loads refuses beyond JSONDecodeError (an integer of
    more than 4300 digits, nesting too deep) are 400, and a body must be a JSON object."""

    def load_json(self, req: Request, schema: Schema) -> Any:
        try:
            data = super().load_json(req, schema)
        except (ValueError, RecursionError) as exc:
            self._handle_invalid_json_error(exc, req)  # type: ignore[arg-type]
        if data is not missing and not isinstance(data, dict):
            raise ValidationFailed(
                "The request body must be a JSON object.", {"body": "must be a JSON object {...}"}
            )
        return data

    def _handle_invalid_json_error(
        self, error: Exception, req: Request, *_a: Any, **_k: Any
    ) -> Any:
        raise MalformedBody(
            "The request body is not valid JSON; nothing was saved.",
            {"body": f"not valid JSON ({type(error).__name__})"},
        ) from error


class Blueprint(flask_smorest.Blueprint):
    """An API blueprint: every view needs a bearer token."""

    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(authenticate)


def authenticate() -> Response | None:
    """401 with a JSON problem body unless security.py resolved a bearer token into g.actor."""
    if g.get("actor") is None:
        given = request.headers.get("Authorization", "").startswith("Bearer ")
        resp = problem(
            401,
            "unauthorized",
            "The bearer token is unknown or revoked."
            if given
            else "Authenticate with an API token: Authorization: Bearer <token>.",
        )
        resp.headers["WWW-Authenticate"] = 'Bearer realm="lotrack"'
        return resp
    return None


def permission(action: str) -> Callable[[F], F]:
    """Check the role (domain/permissions.py) before the body is parsed: a role that may not act
    learns that (403), not whether its input would have been valid. Put it above @bp.arguments."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require(actor().role, action)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


READ = "manufacturing.read"
WRITE = "manufacturing.write"
