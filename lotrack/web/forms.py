"""The form round trip every HTML page shares: parse, call one service, commit, or show errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema

from lotrack.context import commit, db_session
from lotrack.domain.errors import DomainError, Forbidden
from lotrack.errors import status_of
from lotrack.schemas import parse


def form_values() -> dict[str, str]:
    """The submitted form without the CSRF token (which the schemas do not know)."""
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


def handle_form(
    schema: Schema,
    act: Callable[[dict[str, Any]], ResponseReturnValue],
    template: str,
    **context: Any,
) -> ResponseReturnValue:
    """GET renders the empty form. POST parses with `schema` and calls `act(data)`, which calls
    one service and returns the redirect; the transaction is committed only if it succeeds.
    A refusal re-renders the form with the values entered and each field's reason (422/409/404),
    having written nothing."""
    errors: dict[str, str] = {}
    message = ""
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = form_values()
        try:
            response = act(parse(schema, values))
            commit()
            return response
        except DomainError as err:
            if getattr(err, "keep_writes", False):
                commit()  # a refused signature's failure count is kept (see errors.py)
            elif isinstance(err, Forbidden):
                raise
            else:
                db_session().rollback()
            status, message = status_of(err), err.message
            errors = err.fields or {}
    return (
        render_template(template, errors=errors, message=message, values=values, **context),
        status,
    )
