"""Alembic builds exactly the schema the models declare, on SQLite and PostgreSQL, and can be
taken down to nothing and built again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

import lotrack.models  # noqa: F401  (registers every table)
from lotrack.db import Base, make_engine
from lotrack.migrate import downgrade, upgrade
from lotrack.migrations.guards import MESSAGE


def make_blank(backend) -> str:
    """The URL of a new database with nothing in it (not even Alembic's table)."""
    name = f"{backend.prefix}_blank_{uuid.uuid4().hex[:8]}"
    if backend.pg:
        eng = backend._admin()
        with eng.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        eng.dispose()
        backend.made.append(name)
    return backend.url_for(name)


@pytest.fixture
def blank_engine(backend) -> Iterator:
    url = make_blank(backend)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    backend.drop(url)


def _diff(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_the_migrations_build_exactly_the_models_schema(blank_engine):
    assert _tables(blank_engine) == set()
    upgrade(blank_engine)
    assert _tables(blank_engine) == set(Base.metadata.tables) | {"alembic_version"}
    assert _diff(blank_engine) == []


def test_the_comparison_notices_a_difference(blank_engine):
    """The check above can fail: a column the models do not declare is reported."""
    upgrade(blank_engine)
    with blank_engine.begin() as conn:
        conn.execute(text("ALTER TABLE site ADD COLUMN stray VARCHAR(10)"))
    assert [d[0] for d in _diff(blank_engine)] == ["remove_column"]


def test_downgrade_to_base_then_upgrade_again(blank_engine):
    upgrade(blank_engine)
    downgrade(blank_engine, "base")
    assert _tables(blank_engine) <= {"alembic_version"}
    upgrade(blank_engine)
    assert _diff(blank_engine) == []
    with blank_engine.connect() as conn:
        head = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
        assert (head.seq, head.hash) == (0, "0" * 64)


def test_the_append_only_guards_come_back_after_a_downgrade(blank_engine):
    upgrade(blank_engine)
    downgrade(blank_engine, "base")
    upgrade(blank_engine)
    with blank_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_event (seq, at, actor, action, entity_type, entity_id, "
                "changes, reason, prev_hash, hash) VALUES (1, CURRENT_TIMESTAMP, 'system', "
                "'test', 'site', '1', '{}', '', :z, :h)"
            ),
            {"z": "0" * 64, "h": "1" * 64},
        )
    with pytest.raises(DBAPIError, match=MESSAGE), blank_engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))


def test_upgrading_twice_changes_nothing(blank_engine):
    upgrade(blank_engine)
    upgrade(blank_engine)
    assert _diff(blank_engine) == []
    with blank_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_head")).scalar() == 1


def test_revision_0009_gives_existing_units_the_state_their_records_say(demo_app):
    """On a database with history, revision 0009 reads each unit's state from its shipment,
    receipt, thaw and infusion records; taken down it gives them back their old state."""
    from tests import clinical_setup as cs

    wristband = cs.enrol(demo_app, "SUBJ-MIG")
    given, _ = cs.free_din(demo_app, index=0)
    cs.allocate(demo_app, wristband, given)
    cs.ship(demo_app, given)
    cs.infuse(demo_app, wristband, given)
    travelling, _ = cs.free_din(demo_app, index=1)
    cs.ship(demo_app, travelling, received=None)
    lost, _ = cs.free_din(demo_app, index=2)
    cs.ship(demo_app, lost, received=False)
    ready, _ = cs.ready_din(demo_app)
    engine = demo_app.extensions["lotrack_db"].engine

    def states() -> dict[str, str]:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT din, state FROM unit")).all())

    after = states()
    expected = {given: "infused", travelling: "in_transit", lost: "missing", ready: "received"}
    assert {din: after[din] for din in expected} == expected
    downgrade(engine, "0008")
    assert set(states().values()) == {"stored"}
    upgrade(engine)
    assert states() == after and _diff(engine) == []
