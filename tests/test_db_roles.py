"""The application's PostgreSQL role cannot do what the insider of issue 16 did as the tables'
owner: change or delete audit events, truncate, switch a trigger off, or silence every trigger
with session_replication_role. `lotrack init` refuses a runtime role that could.

The whole PostgreSQL suite already serves as such a role (tests/conftest.py); this file tries
each way around it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

import lotrack.models  # noqa: F401  (registers every table)
from lotrack.db import Base, make_engine
from lotrack.db_roles import DELETED_BY_THE_APP, RoleError, ensure_runtime_role, runtime_grants
from lotrack.migrations.guards import APPEND_ONLY_TABLES, CURRENT_GUARDS
from tests.conftest import owner_engine

TABLES = sorted(Base.metadata.tables)


def _grants() -> dict:
    return {g.table: g for g in runtime_grants()}


def test_every_table_has_a_decided_grant_and_only_login_throttle_state_is_deleted():
    grants = _grants()
    assert set(grants) == set(TABLES) | {"alembic_version"}
    assert set(DELETED_BY_THE_APP) <= set(TABLES)
    for grant in grants.values():
        assert not {"TRUNCATE", "REFERENCES", "TRIGGER"} & set(grant.privileges)
        assert ("DELETE" in grant.privileges) == (grant.table in DELETED_BY_THE_APP)
    assert not set(DELETED_BY_THE_APP) & (set(APPEND_ONLY_TABLES) | set(CURRENT_GUARDS))
    assert grants["alembic_version"].privileges == ("SELECT",)


def test_append_only_tables_and_fixed_record_columns_get_no_update():
    grants = _grants()
    for table in APPEND_ONLY_TABLES:
        assert grants[table].privileges == ("SELECT", "INSERT")
        assert grants[table].update_columns == ()
    for table, (fixed, once) in CURRENT_GUARDS.items():
        assert "UPDATE" not in grants[table].privileges
        assert not set(fixed) & set(grants[table].update_columns)
        assert set(once) <= set(grants[table].update_columns)


# --- on PostgreSQL, as the application's own role --------------------------------------------


@pytest.fixture
def runtime(demo_app, backend) -> Iterator:
    if not backend.pg:
        pytest.skip("roles are PostgreSQL's; SQLite is one file")
    yield demo_app.extensions["lotrack_db"].engine


def _refused(engine, statement: str, match: str) -> None:
    with pytest.raises(DBAPIError, match=match), engine.begin() as conn:
        conn.execute(text(statement))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET reason = 'nothing happened' WHERE seq = 3",
        "DELETE FROM audit_event WHERE seq = 3",
        "UPDATE audit_checkpoint SET head_hash = 'x'",
        "DELETE FROM audit_checkpoint",
        "UPDATE result SET value = '99'",
        "UPDATE signature SET reason = 'changed'",
        "UPDATE bedside_scan SET go = true",
    ],
)
def test_the_runtime_role_cannot_rewrite_a_record(runtime, statement):
    _refused(runtime, statement, "permission denied")


def test_the_runtime_role_can_delete_from_no_record_and_truncate_nothing(runtime):
    for table in TABLES:
        if table not in DELETED_BY_THE_APP:
            _refused(runtime, f'DELETE FROM "{table}" WHERE false', "permission denied")
        _refused(runtime, f'TRUNCATE "{table}"', "permission denied")


def test_the_runtime_role_cannot_switch_the_guards_off(runtime):
    _refused(runtime, "ALTER TABLE audit_event DISABLE TRIGGER ALL", "must be owner")
    _refused(runtime, "DROP TRIGGER audit_event_no_change ON audit_event", "must be owner")
    _refused(runtime, "SET session_replication_role = replica", "permission denied")
    _refused(runtime, "CREATE TABLE shadow (x int)", "permission denied")
    _refused(runtime, "ALTER TABLE lot OWNER TO CURRENT_USER", "must be owner")


def test_the_runtime_role_still_does_the_applications_work(runtime):
    """What it may do, it does: read, append an event as the app would, set a set-once field."""
    with runtime.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar() > 0
        conn.execute(text("UPDATE result SET verified_at = verified_at WHERE false"))
        conn.execute(text("UPDATE lot SET state = state WHERE false"))


# --- init refuses a runtime role that could undo the guards ----------------------------------


@pytest.fixture
def owner(demo_app, backend) -> Iterator:
    if not backend.pg:
        pytest.skip("roles are PostgreSQL's")
    with owner_engine(demo_app) as engine:
        yield engine


@pytest.fixture
def stranger(owner) -> Iterator[str]:
    """A role of this test's own, dropped afterwards (roles belong to the whole cluster; what it
    owns or was granted here goes first)."""
    name = f"lotrack_x_{uuid.uuid4().hex[:10]}"
    yield name
    with owner.begin() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": name}):
            conn.execute(text(f'DROP OWNED BY "{name}" CASCADE'))
            conn.execute(text(f'DROP ROLE "{name}"'))


def _url_as(owner, role: str) -> str:
    return owner.url.set(username=role, password=None).render_as_string(hide_password=False)


def test_init_refuses_to_serve_as_the_owner(owner):
    with pytest.raises(RoleError, match="owner of the tables"):
        ensure_runtime_role(owner, owner.url.render_as_string(hide_password=False))


def test_init_creates_a_missing_role_then_only_checks_it(owner, stranger):
    first = ensure_runtime_role(owner, _url_as(owner, stranger))
    assert first.created and "TRUNCATE on none" in first.summary()
    again = ensure_runtime_role(owner, _url_as(owner, stranger))
    assert not again.created
    engine = make_engine(_url_as(owner, stranger))
    try:
        _refused(engine, "UPDATE audit_event SET actor = 'mallory'", "permission denied")
    finally:
        engine.dispose()


@pytest.mark.parametrize("power", ["SUPERUSER", "CREATEROLE", "BYPASSRLS"])
def test_init_refuses_a_role_with_powers(owner, stranger, power):
    with owner.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{stranger}" LOGIN {power}'))
    with pytest.raises(RoleError, match=power):
        ensure_runtime_role(owner, _url_as(owner, stranger))


def test_init_refuses_a_member_of_the_owner(owner, stranger):
    with owner.begin() as conn:
        me = conn.scalar(text("SELECT current_user"))
        conn.execute(text(f'CREATE ROLE "{stranger}" LOGIN IN ROLE "{me}"'))
    with pytest.raises(RoleError, match="member of"):
        ensure_runtime_role(owner, _url_as(owner, stranger))


def test_init_refuses_a_role_that_owns_a_table(owner, stranger):
    with owner.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{stranger}" LOGIN'))
        conn.execute(text(f'ALTER TABLE deviation OWNER TO "{stranger}"'))
    with pytest.raises(RoleError, match="owns deviation"):
        ensure_runtime_role(owner, _url_as(owner, stranger))
