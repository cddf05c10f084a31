"""The audit trail: who/when/what/why on every write, a SHA-256 chain that names the first broken
event, append-only rows enforced by the database, and a gap-free chain under concurrent writers."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from lotrack.db import utcnow
from lotrack.domain.errors import ValidationFailed
from lotrack.migrations.guards import MESSAGE, audit_unguard_statements
from lotrack.models import AuditEvent, AuditHead, Site
from lotrack.services import accounts, audit, audit_verify
from tests.conftest import owner_engine, user


def _engine(app):
    return app.extensions["lotrack_db"].engine


def _sql(app, *statements: str) -> None:
    """As the tables' owner: what the application itself can never do (db_roles.py)."""
    with owner_engine(app) as engine, engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _unguard(app) -> None:
    _sql(app, *audit_unguard_statements(_engine(app).dialect.name))


def _verify(app) -> audit.VerifyReport:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return audit.verify(s)


def _cli_verify(app):
    return app.test_cli_runner().invoke(args=["lotrack", "audit", "verify"])


def _count(app) -> int:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


# --- the chain -------------------------------------------------------------------------------


def test_chain_verifies_after_the_demo_seed(demo_app):
    report = _verify(demo_app)
    assert report.ok, report.message
    assert report.checked == _count(demo_app) > 50
    result = _cli_verify(demo_app)
    assert result.exit_code == 0, result.output
    assert f"{report.checked} events verified" in result.output


@pytest.mark.parametrize(
    "column, value",
    [
        ("reason", "'quietly edited'"),
        ("actor", "'mallory'"),
        ("action", "'tampered'"),
        ("entity_id", "'999'"),
        ("changes", "'{\"x\":[1,2]}'"),
        ("prev_hash", "'" + "1" * 64 + "'"),
    ],
)
def test_a_changed_field_of_an_event_is_reported_at_that_event(demo_app, column, value):
    n = _count(demo_app) // 2
    _unguard(demo_app)
    _sql(demo_app, f"UPDATE audit_event SET {column} = {value} WHERE seq = {n}")
    report = _verify(demo_app)
    assert (report.ok, report.broken_seq, report.checked) == (False, n, n - 1)
    result = _cli_verify(demo_app)
    assert result.exit_code != 0
    assert f"event {n} " in result.output


def test_a_deleted_event_in_the_middle_is_reported_at_that_event(demo_app):
    n = _count(demo_app) // 2
    _unguard(demo_app)
    _sql(demo_app, f"DELETE FROM audit_event WHERE seq = {n}")
    report = _verify(demo_app)
    assert (report.ok, report.broken_seq) == (False, n)
    result = _cli_verify(demo_app)
    assert result.exit_code != 0
    assert f"event {n} is missing" in result.output


def test_a_deleted_last_event_is_reported_at_that_event(demo_app):
    last = _count(demo_app)
    _unguard(demo_app)
    _sql(demo_app, f"DELETE FROM audit_event WHERE seq = {last}")
    report = _verify(demo_app)
    assert (report.ok, report.broken_seq) == (False, last)
    result = _cli_verify(demo_app)
    assert result.exit_code != 0
    assert f"event {last} is missing" in result.output


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET reason = 'edited' WHERE seq = 3",
        "DELETE FROM audit_event WHERE seq = 3",
        "DELETE FROM audit_event",
        "UPDATE audit_head SET seq = seq - 1 WHERE id = 1",
        "DELETE FROM audit_head",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_rows(demo_app, statement):
    before = _count(demo_app)
    with pytest.raises(DBAPIError) as refused:
        _sql(demo_app, statement)
    assert MESSAGE in str(refused.value) or "audit_head" in str(refused.value)
    assert _count(demo_app) == before
    assert _verify(demo_app).ok


def test_postgresql_refuses_truncate_of_the_audit_trail(demo_app, backend):
    if not backend.pg:
        pytest.skip("TRUNCATE exists only on PostgreSQL (SQLite's DELETE is tested above)")
    before = _count(demo_app)
    with pytest.raises(DBAPIError, match=MESSAGE):
        _sql(demo_app, "TRUNCATE audit_event")
    assert _count(demo_app) == before


# --- what each event holds -------------------------------------------------------------------


def test_a_created_record_is_audited_with_actor_utc_time_and_every_value(session):
    admin = user(session, "admin")
    started = utcnow()
    new = accounts.create_user(
        session,
        admin,
        username="newtech",
        full_name="New Technician",
        role="technician",
        password="a long enough passphrase",
        must_change_password=False,
    )
    session.commit()
    [ev] = audit.history(session, "user_account", str(new.id))
    assert (ev.action, ev.actor, ev.actor_id) == ("create", "admin", admin.id)
    assert ev.at.tzinfo is not None and ev.at.utcoffset() == dt.timedelta(0)
    assert started - dt.timedelta(seconds=1) <= ev.at <= utcnow()
    changes = json.loads(ev.changes)
    assert changes["username"] == [None, "newtech"]
    assert changes["role"] == [None, "technician"]


def test_a_change_is_audited_with_old_and_new_values_and_its_reason(session):
    admin = user(session, "admin")
    site = session.scalar(select(Site).where(Site.code == "BJ-ACH"))
    old_name = site.name
    audit.changed(session, admin, site, {"name": "Aerospace Center Hospital (Beijing)"}, "typo")
    session.commit()
    ev = audit.history(session, "site", str(site.id))[-1]
    assert (ev.action, ev.actor, ev.reason) == ("update", "admin", "typo")
    assert json.loads(ev.changes) == {"name": [old_name, "Aerospace Center Hospital (Beijing)"]}
    assert audit.verify(session).ok


def test_unlock_is_a_change_with_a_reason(session):
    admin, tech = user(session, "admin"), user(session, "tech")
    accounts.register_failure(session, tech, max_failures=1, lockout_minutes=15)
    session.commit()
    locked_until = tech.locked_until
    accounts.unlock(session, admin, tech, "called the help desk, identity checked")
    session.commit()
    ev = audit.history(session, "user_account", str(tech.id))[-1]
    assert (ev.action, ev.actor) == ("update", "admin")
    assert ev.reason == "called the help desk, identity checked"
    assert json.loads(ev.changes)["locked_until"] == [audit.plain(locked_until), None]


def test_a_change_without_a_reason_is_refused_naming_the_reason(session):
    site = session.scalar(select(Site).where(Site.code == "BJ-ACH"))
    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as refused:
            audit.changed(session, user(session, "admin"), site, {"name": "Other"}, reason)
        assert "reason" in refused.value.fields
    assert site.name == "Aerospace Center Hospital"


def test_a_rolled_back_transaction_leaves_no_event(session):
    before = session.get(AuditHead, 1).seq
    audit.event(session, None, "test_event", ("site", "1"), {"x": 1})
    session.rollback()
    audit.event(session, None, "test_kept", ("site", "1"))
    session.commit()
    events = session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [e.action for e in events] == ["test_kept"]


def test_the_audit_trail_never_holds_a_password_hash(session):
    rows = session.scalars(select(AuditEvent.changes)).all()
    assert not [r for r in rows if "$argon2" in r]


def test_verify_leaves_the_callers_session_alone(session):
    nurse = user(session, "nurse")
    assert audit.verify(session).ok
    assert nurse in session
    assert nurse.site.code == "SZ-GIMI"


# --- concurrency -----------------------------------------------------------------------------


def test_concurrent_writers_leave_a_gap_free_chain_that_verifies(demo_app):
    maker = demo_app.extensions["lotrack_db"].sessionmaker
    threads_n, commits, start = 8, 5, _count(demo_app)
    barrier, errors = threading.Barrier(threads_n), []

    def writer(t: int) -> None:
        try:
            barrier.wait()
            with maker() as s:
                for i in range(commits):
                    audit.event(s, None, "test_concurrent", ("thread", str(t)), {"i": i})
                    audit.event(s, None, "test_concurrent", ("thread", str(t)), {"i": i})
                    s.commit()
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors
    report = _verify(demo_app)
    assert report.ok, report.message
    with maker() as s:
        seqs = s.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
        assert seqs == list(range(1, start + threads_n * commits * 2 + 1))
        assert s.get(AuditHead, 1).seq == seqs[-1]
        # One commit's events are sealed together: each pair is consecutive.
        rows = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "test_concurrent")
            .order_by(AuditEvent.seq)
        ).all()
        by_commit: dict[tuple[str, str], list[int]] = {}
        for ev in rows:
            by_commit.setdefault((ev.entity_id, ev.changes), []).append(ev.seq)
        assert all(b - a == 1 for a, b in by_commit.values()), by_commit


# --- search ----------------------------------------------------------------------------------


def test_search_filters_by_actor_entity_and_time_and_pages_newest_first(session):
    everything = audit.search(session, per_page=10)
    total = session.get(AuditHead, 1).seq
    assert everything.total == total and everything.pages == -(-total // 10)
    assert [e.seq for e in everything.items] == list(range(total, total - 10, -1))
    second = audit.search(session, page=2, per_page=10)
    assert [e.seq for e in second.items] == list(range(total - 10, total - 20, -1))

    tech = audit.search(session, actor="tech", per_page=500)
    assert tech.total and all(e.actor == "tech" for e in tech.items)
    system = audit.search(session, actor="system", per_page=500)
    assert system.total and all(e.actor_id is None for e in system.items)
    assert audit.search(session, actor="nobody").total == 0

    sites = audit.search(session, entity_type="site", per_page=500)
    assert sites.total == 3 and {e.entity_type for e in sites.items} == {"site"}
    one = audit.search(session, entity_type="site", entity_id=sites.items[0].entity_id)
    assert one.total == 1

    now = utcnow()
    assert audit.search(session, since=now + dt.timedelta(minutes=1)).total == 0
    assert audit.search(session, until=now - dt.timedelta(days=1)).total == 0
    assert audit.search(session, since=now - dt.timedelta(days=1), until=now).total == total


def test_search_refuses_naive_times_and_bad_pages_naming_the_field(session):
    cases = [
        ({"since": dt.datetime(2026, 1, 1)}, "since"),
        ({"page": 0}, "page"),
        ({"since": utcnow(), "until": utcnow() - dt.timedelta(days=1)}, "until"),
    ]
    for kwargs, name in cases:
        with pytest.raises(ValidationFailed) as refused:
            audit.search(session, **kwargs)
        assert name in refused.value.fields


# --- verify's fast path hashes exactly the writer's bytes -------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)  # any storable text
moments = st.datetimes(
    min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 1, 1), timezones=st.just(dt.UTC)
)


# What the app puts into an event's changes (services/audit.plain of each value): text in any
# script, nulls, booleans, integers, floats, Decimals and times as text, nested lists and objects.
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.decimals(allow_nan=False, allow_infinity=False).map(audit.plain)
    | moments.map(audit.plain)
    | texts
    | st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=8)  # 中文
)
values = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3)
)


@settings(deadline=None)  # pure computation; a loaded machine is no failure of it
@given(
    seq=st.integers(1, 2**53),
    at=moments | moments.map(lambda m: m.replace(microsecond=0)),
    actor_id=st.none() | st.integers(1, 2**31),
    words=st.lists(st.none() | texts, min_size=5, max_size=5),
    changes=st.dictionaries(texts, st.lists(values, min_size=2, max_size=2)),
)
def test_verify_rebuilds_the_writers_canonical_row_from_the_stored_text(
    seq, at, actor_id, words, changes
):
    actor, action, entity_type, entity_id, reason = words
    ev = SimpleNamespace(
        seq=seq,
        at=at,
        actor_id=actor_id,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=audit.canonical(changes),
        reason=reason,
        prev_hash="ab" * 32,
    )
    written = audit.canonical(audit._row(ev))
    # How SQLite stores the time, then other spellings of the same instant, which the ORM reads
    # as that instant too; and PostgreSQL's to_char text, read as verify reads it there.
    stored = at.strftime("%Y-%m-%d %H:%M:%S.%f")
    east = at.astimezone(dt.timezone(dt.timedelta(hours=2)))
    row = (seq, stored, actor_id, actor, action, entity_type, entity_id, ev.changes, reason)
    for spelling in (stored, stored.replace(" ", "T"), stored + "+00:00", east.isoformat()):
        assert audit_verify.canonical_stored((seq, spelling, *row[2:], ev.prev_hash)) == written
    made = at.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    pg = audit_verify.at_reader("postgresql")
    assert audit_verify.canonical_stored((seq, made, *row[2:], ev.prev_hash), pg) == written
    # The full row as verify reads it, its hash last, gives the same text.
    full = (seq, made, *row[2:], ev.prev_hash, "cd" * 32)
    assert audit_verify.canonical_stored(full, pg) == written


def test_verify_reads_back_the_writers_bytes_from_the_database(session):
    """Events written by the service, read as verify reads them, on this database: text in
    several scripts and escapes, nulls, nested data, floats, Decimals and times."""
    nurse = user(session, "nurse")
    texts_ = ["plain", 'quote " and \\ back', "tab\tnew\nline\x01", "Zürich ✓ 雪", "细胞治疗 批次"]
    for i, text_ in enumerate(texts_):
        audit.event(session, nurse if i % 2 else None, "note", ("site", text_), {"v": text_}, text_)
    details = {
        "nested": {"a": [1, 2.5, None, {"b": "乙"}], "empty": {}},
        "float": 0.1 + 0.2,
        "decimal": Decimal("12.340"),
        "when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "day": dt.date(2026, 2, 28),
        "flag": False,
        "none": None,
    }
    audit.event(session, nurse, "note", ("site", "details"), details, "细节")
    session.commit()
    written = {
        ev.seq: (ev.hash, audit.canonical(audit._row(ev)))
        for ev in session.scalars(select(AuditEvent))
    }
    iso = audit_verify.at_reader(session.get_bind().dialect.name)
    read = {
        row[0]: (row[10], audit_verify.canonical_stored(row, iso))
        for row in audit_verify._stored_rows(session)
    }
    assert read == written
    assert audit.verify(session).ok
