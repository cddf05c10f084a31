"""The same hostile input as test_schemathesis.py, from outside: schemathesis sends real HTTP
requests to gunicorn serving a seeded copy of the demo database, and every answer must match the
OpenAPI document (listed status, content type, response schema, nullable fields included)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from hypothesis import HealthCheck, Phase, settings

from lotrack import create_app
from lotrack.services.api_tokens import create_token
from tests.api.test_schemathesis import CHECKS, PREFERENCE, acting_user, schema
from tests.conftest import FACILITY, Backend, user
from tests.live_server import gunicorn

EXAMPLES = 5  # per operation, over HTTP: about 100 operations in a minute or two


class Live:
    """The running server, a client session to it, and an in-process app on the same database
    (to read which permission each operation checks, and to mint the callers' tokens)."""

    def __init__(self, base_url: str, app: Flask, tokens: dict[str, str]) -> None:
        self.base_url = base_url
        self.app = app
        self.tokens = tokens
        self.http = requests.Session()


@pytest.fixture(scope="module")
def live(
    backend: Backend, demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    url = backend.clone(demo_template)
    instance = tmp_path_factory.mktemp("live-instance")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_FACILITY_ID": FACILITY,
        }
    )
    with app.extensions["lotrack_db"].sessionmaker() as s:
        tokens = {name: create_token(s, None, user(s, name)) for name in PREFERENCE}
        s.commit()
    with gunicorn(url, instance) as base_url:
        server = Live(base_url, app, tokens)
        yield server
        server.http.close()
    app.extensions["lotrack_db"].engine.dispose()
    backend.drop(url)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_live_as_documented(case: Any, live: Live) -> None:
    # One database for the whole run: writes the examples make only add records.
    who = acting_user(live.app, case.operation.method, case.operation.path)
    case.call_and_validate(
        base_url=live.base_url,
        session=live.http,
        headers={"Authorization": f"Bearer {live.tokens[who]}"},
        checks=CHECKS,
        timeout=120,
    )


def test_the_live_server_is_another_process(live: Live) -> None:
    health = live.http.get(live.base_url + "/healthz", timeout=30)
    assert health.status_code == 200
    spec = live.http.get(live.base_url + "/api/v1/openapi.json", timeout=30).json()
    assert spec["paths"] == schema.raw_schema["paths"]


LIMIT_REQUEST_LINE = 8190  # gunicorn.conf.py
WIDEST = len("%F0%9F%98%80")  # one four-byte character, percent-encoded


def _longest_value(param: dict[str, Any]) -> int | None:
    """The most bytes a valid value of the parameter takes in a URL (None: no bound stated)."""
    kind = param["schema"]
    if "enum" in kind:
        return max(len(str(v)) for v in kind["enum"]) * WIDEST
    if kind.get("type") == "integer":
        return len(str(-(2**63)))
    if "maxLength" in kind:
        return int(kind["maxLength"]) * WIDEST
    return None


def test_every_request_the_document_allows_fits_in_the_servers_request_line() -> None:
    """Else gunicorn (not the application) refuses a valid request with 414."""
    fits = 0
    for path, item in schema.raw_schema["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            params = [p for p in operation.get("parameters", []) if p["in"] in ("path", "query")]
            longest = [_longest_value(p) for p in params]
            if None in longest:  # a path without a stated bound (patients/{wristband})
                assert "414" in operation["responses"], (method, path)
                continue
            line = len(f"{method.upper()} {path}?&& HTTP/1.1") + sum(
                len(p["name"]) + 2 + n for p, n in zip(params, longest, strict=True)
            )
            assert line <= LIMIT_REQUEST_LINE, (method, path, line)
            fits += 1
    assert fits >= 80
