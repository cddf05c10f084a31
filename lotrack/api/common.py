"""What every /api/v1 blueprint shares: bearer authentication (401), permissions checked before the
body is read (403), a JSON body parser that never lets a malformed body become a 500."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import flask_smorest
from flask import Request, Response, g, request
from flask_babel import gettext
from marshmallow import Schema, missing
from webargs.flaskparser import FlaskParser

from lotrack.domain.errors import DomainError, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.text import N_, said
from lotrack.errors import problem
from lotrack.request_scope import actor, db_session
from lotrack.schemas.release import sign_in
from lotrack.security import require_signing_scope
from lotrack.services.signature import SignIn

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
                N_("The request body must be a JSON object."),
                {"body": N_("must be a JSON object {...}")},
            )
        if data is not missing and (bad := not_text(data)):
            raise ValidationFailed(
                N_("Text in the body must be Unicode text; nothing was saved."),
                {where: N_("contains a lone surrogate, which is not a character") for where in bad},
            )
        return data

    def _handle_invalid_json_error(
        self, error: Exception, req: Request, *_a: Any, **_k: Any
    ) -> Any:
        raise MalformedBody(
            N_("The request body is not valid JSON; nothing was saved."),
            {"body": said("not valid JSON (%(error)s)", error=type(error).__name__)},
        ) from error


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def not_text(data: Any) -> list[str]:
    """Where a JSON body holds a lone surrogate ("\\ud800" is valid JSON, but no character): such
    text cannot be stored, by either database, so it is refused naming the field ("vials.0")."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:  # not recursive: a deeply nested body is no reason to fail
        path, value = stack.pop()
        if isinstance(value, str):
            if LONE_SURROGATE.search(value):
                found.append(path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{key}" if path else str(key)
                if LONE_SURROGATE.search(key):
                    found.append(path or "body")
                else:
                    stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value))
    return sorted(set(found))


def _requires_any(schema: Schema | type[Schema]) -> bool:
    loaded = schema() if isinstance(schema, type) else schema
    return any(f.required for f in loaded.fields.values())


def problems_of(rule: str, method: str, doc: dict[str, Any]) -> dict[int, str]:
    """The error answers an operation can give whatever its view does, by errors.py: no token
    (401), a role that may not (403), a path or required query naming no record (404), a body
    that is not JSON (400) or too large (413), a write that conflicts with another (409)."""
    params = doc.get("arguments", {}).get("parameters", [])
    found = {401: "UNAUTHORIZED", 403: "FORBIDDEN"}
    if "<" in rule or any(p["in"] == "query" and _requires_any(p["schema"]) for p in params):
        found[404] = "NOT_FOUND"
    if any(p["in"] in ("json", "form", "files") for p in params) or "requestBody" in doc.get(
        "manual_doc", {}
    ):
        found[400] = "BAD_REQUEST"
        found[413] = "REQUEST_ENTITY_TOO_LARGE"
    if "requestBody" in doc.get("manual_doc", {}):  # a multipart form the view parses itself
        found[422] = "UNPROCESSABLE_ENTITY"
    if method == "post":
        found[409] = "CONFLICT"
    return found


# Said by gunicorn, in front of the application, in its own words (gunicorn.conf.py): only a line
# longer than any request this document allows, since its longest is about 5,600 bytes.
URI_TOO_LONG = {
    "description": "the request line is longer than the server reads (8190 bytes)",
    "schema": {"type": "string"},
    "content_type": "text/html",
}


class Blueprint(flask_smorest.Blueprint):
    """An API blueprint: every view needs a bearer token."""

    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(authenticate)

    def response(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        """flask-smorest's response decorator, with the session flushed before the answer is
        serialised: ids and defaults of new records are shown as the request's commit keeps them
        (the commit itself comes after the view, request_scope.settle)."""
        serialise = super().response(*args, **kwargs)

        def decorate(view: F) -> F:
            @wraps(view)
            def flushed(*a: Any, **k: Any) -> Any:
                answer = view(*a, **k)
                db_session().flush()
                return answer

            return serialise(flushed)  # type: ignore[no-any-return]

        return decorate

    def add_url_rule(self, rule: str, *args: Any, **kwargs: Any) -> None:
        """Register the rule, and document the error answers every operation of it can give
        (as flask-smorest's alt_response would, with its {"error", "message", "fields"} body)."""
        super().add_url_rule(rule, *args, **kwargs)
        for method, doc in self._docs[self._endpoints[-1]].items():
            if method == "parameters":
                continue
            responses = doc.setdefault("response", {}).setdefault("responses", {})
            for status, name in problems_of(rule, method, doc).items():
                responses.setdefault(status, [name])
            responses.setdefault(414, [dict(URI_TOO_LONG)])


def authenticate() -> Response | None:
    """401 with a JSON problem body unless security.py resolved a bearer token into g.actor."""
    if g.get("actor") is None:
        given = request.headers.get("Authorization", "").startswith("Bearer ")
        resp = problem(
            401,
            "unauthorized",
            gettext(
                "The bearer token is unknown, revoked or expired, or its account is locked or"
                " disabled."
            )
            if given
            else gettext("Authenticate with an API token: Authorization: Bearer <token>."),
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

        wrapped.permission = action  # type: ignore[attr-defined]  # read by the API fuzz test
        return wrapped  # type: ignore[return-value]

    return decorate


READ = "manufacturing.read"
WRITE = "manufacturing.write"


def signed_in(data: dict[str, Any]) -> SignIn:
    """The signer of an e-signature made through the API, once the token may sign."""
    require_signing_scope()
    return sign_in(data)
