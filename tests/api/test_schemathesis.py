"""Hostile input against the whole API: schemathesis reads /api/v1/openapi.json and sends every
operation valid and invalid requests, in process (WSGI), as a user whose role may call it. No
answer may be a 5xx, and every answer must match the document: a status code the operation lists
explicitly (the catch-all "default" does not count), the content type and the schema."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    unsupported_method,
)

from lotrack import create_app
from lotrack.domain.permissions import may
from lotrack.models import User
from tests.api.conftest import assert_problem, row_counts
from tests.conftest import FACILITY

# Whom to act as, in order: the first demo user whose role the operation's permission allows.
PREFERENCE = ("qa", "tech", "nurse", "doctor", "md", "admin")
EXAMPLES = 8  # per operation, valid and invalid: about 100 operations in 1-2 minutes


def _document() -> dict[str, Any]:
    """The OpenAPI document, read once at collection from an application on a throwaway folder
    (the document does not depend on the data, and no database is opened to serve it)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": tmp,
                "LOTRACK_DATABASE_URL": f"sqlite:///{Path(tmp) / 'unused.sqlite3'}",
                "LOTRACK_FACILITY_ID": FACILITY,
            }
        )
        doc: dict[str, Any] = app.test_client().get("/api/v1/openapi.json").get_json()
        app.extensions["lotrack_db"].engine.dispose()
    return doc


schema = schemathesis.openapi.from_dict(_document())


def _openapi_path(rule: str) -> str:
    """/api/v1/lots/<string(maxlength=64):lot_number> -> /api/v1/lots/{lot_number}"""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def permission_of(app: Flask, method: str, path: str) -> str:
    """The action the view checks before reading its input (lotrack.api.common.permission)."""
    for rule in app.url_map.iter_rules():
        if _openapi_path(rule.rule) == path and method.upper() in (rule.methods or ()):
            view = app.view_functions[rule.endpoint]
            view = getattr(getattr(view, "view_class", None), method.lower(), view)
            action = getattr(view, "permission", None)
            assert action, f"{method} {path} checks no permission"
            return str(action)
    raise AssertionError(f"{method} {path} is in the document but not in the URL map")


def acting_user(app: Flask, method: str, path: str) -> str:
    action = permission_of(app, method, path)
    with app.extensions["lotrack_db"].sessionmaker() as s:
        roles = {u.username: u.role for u in s.query(User).filter(User.username.in_(PREFERENCE))}
    for name in PREFERENCE:
        if may(roles[name], action):
            return name
    raise AssertionError(f"no demo user may {action}")


def status_code_listed(ctx: Any, response: Any, case: Any) -> bool | None:
    """The status is one the operation documents by number: "default" documents nothing.
    (A method the path does not have is the unsupported_method check's business: 405.)"""
    if case.method.lower() != case.operation.method.lower():
        return None
    listed = {str(code) for code in case.operation.responses.status_codes if code != "default"}
    if str(response.status_code) not in listed:
        raise AssertionError(
            f"{case.operation.label} answered {response.status_code}; it documents"
            f" {', '.join(sorted(listed))}"
        )
    return None


CHECKS = [
    not_a_server_error,
    status_code_listed,
    content_type_conformance,
    response_schema_conformance,
    unsupported_method,
]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, demo_app: Flask, tokens) -> None:
    # One fresh copy of the demo database per operation; its examples share it (writes the
    # examples make only add records, which every later example must cope with too).
    who = acting_user(demo_app, case.operation.method, case.operation.path)
    case.call_and_validate(
        app=demo_app,
        headers={"Authorization": f"Bearer {tokens[who]}"},
        checks=CHECKS,
    )


def test_the_fuzz_covers_every_operation_of_the_document() -> None:
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 90  # every blueprint: manufacturing, quality, release, clinical
    labels = {op.label for op in operations}
    assert {"POST /api/v1/bedside/check", "POST /api/v1/results/import"} <= labels


@pytest.fixture
def fuzz_user(demo_app: Flask):
    return lambda method, path: acting_user(demo_app, method, path)


def test_each_operation_is_called_by_a_user_allowed_to_call_it(fuzz_user) -> None:
    assert fuzz_user("POST", "/api/v1/bedside/check") == "nurse"
    assert fuzz_user("POST", "/api/v1/lots/{lot_number}/results") == "tech"
    assert fuzz_user("POST", "/api/v1/lots/{lot_number}/release") == "qa"


def test_a_lone_surrogate_in_a_json_body_is_refused_naming_the_field(demo_app, as_user) -> None:
    """Valid JSON ("\\ud800") but no character: neither database can store it. The generator
    never sends one; a client library with a bug would."""
    before = row_counts(demo_app)
    body = '{"test": "VIAB", "value": "9\\udc001", "unit": "%", "tags": ["ok", "\\ud800"]}'
    resp = as_user("tech").post(
        "/lots/CFM-2025-0004/results", data=body, content_type="application/json"
    )
    problem = assert_problem(resp, 422, "value")
    assert set(problem["fields"]) == {"value", "tags.1"}
    assert row_counts(demo_app) == before
