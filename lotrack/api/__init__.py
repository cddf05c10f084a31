"""JSON edge: /api/v1 with flask-smorest, bearer tokens, OpenAPI at /api/v1/openapi.json."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from lotrack.security import csrf


def init_app(app: Flask) -> None:
    from lotrack.api import blueprints
    from lotrack.api.schemas import Problem

    class LotrackApi(Api):
        ERROR_SCHEMA = Problem  # documents the {"error", "message", "fields"} body of errors.py

    api = LotrackApi(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    for bp in blueprints.ALL:
        csrf.exempt(bp)  # bearer tokens, not cookies: no cross-site request can carry one
        api.register_blueprint(bp, url_prefix="/api/v1" + (bp.url_prefix or ""))
