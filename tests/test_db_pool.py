"""The PostgreSQL pool pings a connection before use only when it has sat idle: one dropped while
idle (a server restart, a pooler or firewall closing it) is replaced before any request uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from lotrack import db
from lotrack.db import make_engine
from tests.conftest import PG_URL


def _pid(connection) -> int:
    return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.fixture
def pg_url(backend, empty_template) -> str:
    if not backend.pg:
        pytest.skip("the connection pool's ping is PostgreSQL's (SQLite opens a file)")
    return backend.url_for(empty_template)


def _terminate(pid: int) -> None:
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    admin.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(pg_url, monkeypatch):
    monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)  # every pooled connection counts as idle
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            dropped = _pid(conn)
        _terminate(dropped)
        with engine.connect() as conn:  # pinged, found gone, replaced: no error reaches us
            assert _pid(conn) != dropped
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(pg_url, monkeypatch):
    monkeypatch.setattr(db, "PING_IDLE_SECONDS", 3600.0)
    engine = make_engine(pg_url)
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or True)
    try:
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert pings == []
        monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert len(pings) == 1
    finally:
        engine.dispose()
