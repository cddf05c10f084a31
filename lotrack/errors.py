"""The one mapping from errors to HTTP: JSON problem bodies under /api, pages elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
from werkzeug.exceptions import HTTPException

from lotrack.domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from lotrack.i18n import spoken
from lotrack.schemas import flatten, validation_message

log = logging.getLogger(__name__)

STATUS: dict[type[DomainError], int] = {
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
}


def status_of(err: DomainError) -> int:
    for cls in type(err).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"
    )


def problem(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    """The error body every API client reads: {"error", "message", "fields"}."""
    resp = jsonify({"error": code, "message": message, "fields": fields or {}})
    resp.status_code = status
    return resp


def respond(status: int, code: str, message: str, fields: dict[str, str] | None = None):  # noqa: ANN201
    message, fields = spoken(message, fields)
    if wants_json():
        return problem(status, code, message, fields)
    return (
        render_template("errors/error.html", status=status, message=message, fields=fields or {}),
        status,
    )


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):  # noqa: ANN202
        return respond(status_of(err), err.code, err.message, err.fields)

    @app.errorhandler(ValidationError)
    def _marshmallow(err: ValidationError):  # noqa: ANN202
        fields = flatten(err.messages)
        return respond(422, "invalid", validation_message(fields), fields)

    @app.errorhandler(IntegrityError)
    def _integrity(err: IntegrityError):  # noqa: ANN202
        # Services check first and name the field; this is the database's last word on a race.
        log.warning("integrity error: %s", err.orig)
        return respond(
            409, "conflict", "The change conflicts with an existing record; nothing was saved."
        )

    @app.errorhandler(ProgrammingError)
    def _programming(err: ProgrammingError):  # noqa: ANN202
        # PostgreSQL's record guards (insufficient_privilege) refuse an overwrite lost in a race.
        if getattr(err.orig, "sqlstate", None) == "42501":
            log.warning("record guard: %s", err.orig)
            return respond(
                409, "conflict", "Someone else changed this record first; nothing was saved."
            )
        raise err

    @app.errorhandler(OverflowError)
    def _overflow(err: OverflowError):  # noqa: ANN202
        # SQLite's driver refuses integers past 64 bits before the query runs: no such record.
        log.warning("overflow: %s", err)
        return respond(404, "not_found", "No such record: the number is out of range.")

    @app.errorhandler(DataError)
    def _data(err: DataError):  # noqa: ANN202
        # The schemas bound every value to its column; this is the database's last word.
        log.warning("data error: %s", err.orig)
        return respond(
            422, "invalid", "A value does not fit what the record can hold; nothing was saved."
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):  # noqa: ANN202
        data = getattr(err, "data", None) or {}
        if err.code == 422 and "messages" in data:  # webargs (flask-smorest) validation
            fields = flatten(data["messages"])
            return respond(422, "invalid", validation_message(fields), fields)
        code = (err.name or "error").lower().replace(" ", "_")
        message = err.description or err.name or "Error"
        if err.code == 413:  # werkzeug's sentence names no limit; the person must know it
            limit = request.max_content_length or app.config.get("MAX_CONTENT_LENGTH") or 0
            message = (
                f"The upload is larger than the {limit / 1024 / 1024:g} MiB accepted here;"
                " nothing was saved. Send a smaller file, or split it."
            )
        resp = app.make_response(respond(err.code or 500, code, message))
        for key, value in err.get_headers():  # e.g. Allow on 405, Retry-After
            if key.lower() != "content-type":
                resp.headers[key] = value
        return resp

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):  # noqa: ANN202
        log.exception("unexpected error")
        return respond(500, "server_error", "Something went wrong on our side; nothing was saved.")
