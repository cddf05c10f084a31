"""JSON edge: /api/v1 with flask-smorest, bearer tokens, OpenAPI at /api/v1/openapi.json."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from flask import Flask
from flask_smorest import Api, Blueprint

from lotrack.security import csrf

# The settings the OpenAPI document is built from, besides the (fixed) blueprints.
SPEC_SETTINGS = ("API_TITLE", "API_VERSION", "OPENAPI_VERSION", "API_SPEC_OPTIONS")
# The documented paths, tags and components of an application built before in this process, by
# SPEC_SETTINGS: describing every route again costs more than half of building an application,
# which the test suite does for each test (a server builds one and never uses this).
_documents: dict[str, tuple[Any, ...]] = {}


def _key(app: Flask) -> str:
    return repr([app.config.get(name) for name in SPEC_SETTINGS])


def _snapshot(api: Api) -> tuple[Any, ...]:
    spec = api.spec
    parts = (spec._paths, spec._tags, spec.components._subsections)
    return deepcopy((*parts, spec.components._subsections_lazy))


def _restore(api: Api, parts: tuple[Any, ...]) -> None:
    """The document of _snapshot in `api`'s spec, in place (its components name the same dicts
    by two names)."""
    spec = api.spec
    paths, tags, subsections, lazy = parts
    spec._paths.clear()
    spec._paths.update(paths)
    spec._tags[:] = tags
    for mine, known in (
        (spec.components._subsections, subsections),
        (spec.components._subsections_lazy, lazy),
    ):
        for kind, entries in mine.items():
            entries.clear()
            entries.update(known[kind])


def init_app(app: Flask) -> None:
    from lotrack.api import blueprints
    from lotrack.api.schemas import Problem

    known = _documents.get(_key(app))

    class LotrackApi(Api):
        ERROR_SCHEMA = Problem  # documents the {"error", "message", "fields"} body of errors.py

        def register_blueprint(
            self, blp: Blueprint, *, parameters: list | None = None, **options: Any
        ) -> None:
            if known is None:
                super().register_blueprint(blp, parameters=parameters, **options)
                return
            # As flask-smorest does, the document left out: it is restored whole below.
            name = options.get("name", blp.name)
            self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
            self._app.register_blueprint(blp, **options)

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
    if known is None:
        _documents[_key(app)] = _snapshot(api)
    else:
        _restore(api, deepcopy(known))
