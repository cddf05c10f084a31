"""The one form round trip every HTML page shares: parse, call one service, return its redirect;
or undo, and show the page again with the refusal and the values entered (never a password).
The request's unit of work (request_scope.settle) commits a success; nothing here commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import render_template, request
from flask.typing import ResponseReturnValue
from marshmallow import Schema

from lotrack.domain.errors import DomainError, Forbidden
from lotrack.errors import status_of
from lotrack.i18n import spoken
from lotrack.request_scope import refused
from lotrack.schemas import parse

# Typed secrets are never sent back in a re-rendered form.
SECRET_FIELDS = frozenset({"password", "witness_password", "current", "new", "confirm"})


@dataclass(frozen=True)
class FormState:
    """The refused form of a page: which one (a page may carry several), why, what was entered."""

    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""
    values: dict[str, str] = field(default_factory=dict)

    def of(self, name: str) -> FormState:
        """This state if it belongs to form `name`, else an empty one."""
        return self if self.name == name else FormState(name)


NO_FORM = FormState()


# Fields every form may carry that no schema knows: the CSRF token, and where to return to.
ROUND_TRIP_FIELDS = frozenset({"csrf_token", "next"})


def form_values() -> dict[str, str]:
    """The submitted form without the CSRF token and `next` (which the schemas do not know)."""
    return {k: v for k, v in request.form.items() if k not in ROUND_TRIP_FIELDS}


def back_to(default: str) -> str:
    """Where the user was: the form's `next` when it is a path of this site (never another host,
    never a scheme, no backslash or control character), else `default`."""
    target = request.form.get("next") or request.args.get("next") or ""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and not any(ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return default


def shown(values: dict[str, str]) -> dict[str, str]:
    """What a re-rendered form may show of the values entered: all but the secrets."""
    return {k: v for k, v in values.items() if k not in SECRET_FIELDS}


def refusal(name: str, err: DomainError, values: dict[str, str]) -> FormState:
    """Undo the refused request's writes (keeping a refused signature's failure count) and say
    which form was refused, why, and what to show in it again."""
    refused(err)
    message, reasons = spoken(err.message, err.fields)
    return FormState(name, reasons, message, shown(values))


def submit(
    name: str,
    schema: Schema | None,
    act: Callable[[dict[str, Any]], ResponseReturnValue],
    page: Callable[[FormState], str],
    *,
    values: dict[str, str] | None = None,
    forbidden_in_page: bool = True,
) -> ResponseReturnValue:
    """POST of form `name`: parse with `schema`, call `act(data)` (one service call, returning
    the redirect); or re-render `page` with this form's refusal (422/409/404/403), having written
    nothing but what a refusal keeps. Forbidden here is a business refusal (verifying one's own
    result, say): the route's permission guard has already let the role in; a page that wants
    the error page for it instead passes `forbidden_in_page=False`. `values`: the form as the
    page gathered it, when it is more than the posted fields (ticked boxes joined, say)."""
    values = form_values() if values is None else values
    try:
        return act(parse(schema, values) if schema is not None else {})
    except DomainError as err:
        if isinstance(err, Forbidden) and not forbidden_in_page:
            raise
        return page(refusal(name, err, values)), status_of(err)


def handle_form(
    schema: Schema,
    act: Callable[[dict[str, Any]], ResponseReturnValue],
    template: str,
    **context: Any,
) -> ResponseReturnValue:
    """A page of one form: GET renders it empty; POST goes through `submit`, a refusal showing
    the page again with each field's reason and the values entered."""

    def page(form: FormState) -> str:
        return render_template(
            template, errors=form.errors, message=form.message, values=form.values, **context
        )

    if request.method != "POST":
        return page(NO_FORM), 200
    return submit("", schema, act, page, forbidden_in_page=False)
