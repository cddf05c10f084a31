"""Helpers for the API tests: bearer tokens for the demo users, a JSON client, row counts."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, table

from lotrack.db import Base
from lotrack.services.api_tokens import create_token
from tests.conftest import user

PREFIX = "/api/v1"


class Api:
    """A test client that speaks JSON to /api/v1 as one user (or nobody)."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **kw: Any):
        return self.client.get(PREFIX + path, headers=self.headers, **kw)

    def post(self, path: str, body: Any = None, **kw: Any):
        if "data" not in kw:
            kw["json"] = body
        return self.client.post(PREFIX + path, headers=self.headers, **kw)


@pytest.fixture
def tokens(demo_app: Flask) -> dict[str, str]:
    """One API token per demo user (tech, tech2, qa, md, nurse, doctor, admin)."""
    names = ("tech", "tech2", "qa", "md", "nurse", "doctor", "admin")
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        made = {name: create_token(s, None, user(s, name)) for name in names}
        s.commit()
    return made


@pytest.fixture
def as_user(client: FlaskClient, tokens: dict[str, str]):
    """as_user("tech") -> an Api client carrying tech's bearer token; as_user(None) -> no token."""

    def make(name: str | None) -> Api:
        return Api(client, tokens[name] if name else None)

    return make


@pytest.fixture
def tech(as_user) -> Api:
    return as_user("tech")


@pytest.fixture
def qa(as_user) -> Api:
    return as_user("qa")


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every table (audit_event included): what 'nothing was written' is checked against."""
    with app.extensions["lotrack_db"].engine.connect() as conn:
        return {
            t.name: conn.scalar(select(func.count()).select_from(table(t.name))) or 0
            for t in Base.metadata.sorted_tables
        }


def assert_problem(resp: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """The error body every client reads: {"error", "message", "fields"}, naming `field`."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True))
    assert resp.is_json, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"error", "message", "fields"}, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    if field is not None:
        named = [k for k in body["fields"] if k == field or k.startswith(field + ".")]
        assert named, body  # the field itself, or one of its items ("vials.0")
        assert all(body["fields"][k] for k in named)
    return body


def at_once(app: Flask, calls: list[tuple[str, str, dict[str, Any]]], warm_up: str) -> list[Any]:
    """POST each (token, path, body) from its own thread and test client, released together;
    each token is used once beforehand (GET `warm_up`) so that only the POSTs race."""
    barrier = threading.Barrier(len(calls))
    responses: list[Any] = [None] * len(calls)

    def run(i: int, token: str, path: str, body: dict[str, Any]) -> None:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        client.get(PREFIX + warm_up, headers=headers)
        barrier.wait(timeout=60)
        responses[i] = client.post(PREFIX + path, json=body, headers=headers)

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(r is not None for r in responses), "a request did not finish"
    return responses
