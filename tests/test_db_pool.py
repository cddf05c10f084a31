"""The PostgreSQL pool pings a connection before use: one dropped while idle (a server restart, a
pooler or firewall closing it) is replaced before any request uses it, so no bedside check fails
for it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

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


def test_a_dropped_connection_is_replaced_before_use(pg_url):
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
