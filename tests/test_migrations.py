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
from tests.conftest import owner_engine


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
    engine = make_engine(backend.owner_url(url) or url)  # migrations run as the owner
    yield engine
    engine.dispose()
    backend.drop(url)


@pytest.fixture
def demo_owner(demo_app) -> Iterator:
    """The demo database as its owner, who migrates it."""
    with owner_engine(demo_app) as engine:
        yield engine


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


def test_revision_0009_gives_existing_units_the_state_their_records_say(demo_app, demo_owner):
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
    engine = demo_owner

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


def _triggers(engine) -> set[tuple[str, str]]:
    """(table, trigger) for every trigger the migrations made."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT c.relname, t.tgname FROM pg_trigger t"
                    " JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
                )
            )
        else:
            rows = conn.execute(
                text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
            )
        return {(table, name) for table, name in rows}


def _counts(engine) -> dict[str, int]:
    """Rows of each table the database has at its revision (later revisions add tables)."""
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in Base.metadata.tables
            if t in present
        }


def test_revision_0010_keeps_every_row_and_every_trigger(demo_app, demo_owner):
    """Typed states on a database with history: the CHECK constraints are added (on SQLite by
    copying tables), every row stays, every append-only trigger is still there and still works,
    and taken down and up again nothing changes."""
    from tests import clinical_setup as cs

    wristband = cs.enrol(demo_app, "SUBJ-0010")
    given, _ = cs.free_din(demo_app, index=0)
    cs.allocate(demo_app, wristband, given)
    cs.ship(demo_app, given)
    cs.infuse(demo_app, wristband, given)
    cs.recall(demo_app)
    engine = demo_owner
    downgrade(engine, "0009")
    before, triggers = _counts(engine), _triggers(engine)
    assert {"audit_event", "signature", "containment_lot", "infusion", "result"} <= {
        table for table, _name in triggers
    }
    upgrade(engine)
    assert {t: n for t, n in _counts(engine).items() if t in before} == before
    # 0019 guards adverse_event, which had no trigger at 0009: those are new, not kept.
    after = {(t, name) for t, name in _triggers(engine) if t in before and t != "adverse_event"}
    assert after == set(triggers)
    assert {name for t, name in _triggers(engine) if t == "adverse_event"}
    assert _diff(engine) == []
    with pytest.raises(DBAPIError, match=MESSAGE), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))
    with pytest.raises(DBAPIError, match="never overwritten"), engine.begin() as conn:
        conn.execute(text("UPDATE signature SET reason = 'changed'"))
    with pytest.raises(DBAPIError, match="never overwritten"), engine.begin() as conn:
        conn.execute(text("UPDATE containment_lot SET to_state = 'RELEASED'"))
    with pytest.raises(DBAPIError, match="ck_lot_state"), engine.begin() as conn:
        conn.execute(text("UPDATE lot SET state = 'released'"))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def test_revision_0010_stops_at_a_value_outside_its_enum(demo_app, demo_owner):
    """An existing row that no enum names stops the upgrade, which then changes nothing."""
    engine = demo_owner
    downgrade(engine, "0009")
    with engine.begin() as conn:
        conn.execute(text("UPDATE lot SET state = 'Released' WHERE id = (SELECT min(id) FROM lot)"))
    triggers = _triggers(engine)
    with pytest.raises(DBAPIError, match=r"ck_lot_state"):
        upgrade(engine)
    assert _triggers(engine) == triggers
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0009"
        assert "Released" in set(conn.execute(text("SELECT state FROM lot")).scalars())
