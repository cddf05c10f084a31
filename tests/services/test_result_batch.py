"""A batched import writes the very audit trail the row-by-row path writes: the same results and
the same events, byte for byte, so the chain's hashes are identical."""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack import create_app, db
from lotrack.models import AuditEvent, AuditHead, Result
from lotrack.services import audit, clock, result_batch, result_import
from lotrack.services.seed_quality import RELEASE_VALUES
from tests.conftest import FACILITY, Backend, user
from tests.services.test_results import fresh_lot

NOW = dt.datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=dt.UTC)
DAY = "2025-09-22"


@pytest.fixture
def twin_apps(backend: Backend, demo_template: str, tmp_path: Path) -> Iterator[list[Flask]]:
    """Two applications on two identical copies of the demo database."""
    apps = []
    for n in range(2):
        url = backend.clone(demo_template)
        apps.append(
            create_app(
                {
                    "TESTING": True,
                    "INSTANCE_PATH": str(tmp_path / f"instance{n}"),
                    "LOTRACK_DATABASE_URL": url,
                    "LOTRACK_OWNER_DATABASE_URL": backend.owner_url(url),
                    "LOTRACK_FACILITY_ID": FACILITY,
                }
            )
        )
    yield apps
    for app in apps:
        url = str(app.extensions["lotrack_db"].engine.url.render_as_string(hide_password=False))
        app.extensions["lotrack_db"].engine.dispose()
        backend.drop(url)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """One instant for the seal, the calendar and every stamped column."""
    monkeypatch.setattr(audit, "utcnow", lambda: NOW)
    monkeypatch.setattr(clock, "utcnow", lambda: NOW)

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return NOW

    # Column defaults hold lotrack.db.utcnow itself: its module's clock is the one to stop.
    stopped = types.ModuleType("datetime")
    stopped.__dict__.update(vars(dt))
    stopped.datetime = Frozen  # type: ignore[attr-defined]
    monkeypatch.setattr(db, "dt", stopped)


def _csv(lots: list[str]) -> str:
    """An instrument export: every release test of each lot, a registered-looking instrument."""
    return "lot,test,value,unit,performed_on,instrument\n" + "".join(
        f"{lot},{test},{value},{unit},{DAY},Analyser 1\n"
        for lot in lots
        for test, value, unit in RELEASE_VALUES
    )


def _trail(s: Session, after: int) -> list[tuple]:
    events = select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq)
    return [
        (e.seq, e.at, e.actor, e.action, e.entity_type, e.entity_id, e.changes, e.prev_hash, e.hash)
        for e in s.scalars(events)
    ]


def _import(app: Flask, batched: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    taken = []
    real = result_batch.record_all

    def spy(*a, **k):
        got = real(*a, **k) if batched else None
        taken.append(got is not None)
        return got

    monkeypatch.setattr(result_import, "record_all", spy)
    with app.extensions["lotrack_db"].sessionmaker() as s:
        lots = [fresh_lot(s).lot_number for _ in range(2)]
        s.commit()
        head = s.get(AuditHead, 1).seq
        done = result_import.import_results(s, user(s, "tech"), _csv(lots))
        s.commit()
        assert taken == [batched]
        assert len(done.results) == 2 * len(RELEASE_VALUES)
        results = [
            (r.id, r.lot_id, r.test_code, r.analyte, r.value, r.verdict, r.recorded_at)
            for r in s.scalars(select(Result).where(Result.lot.has()).order_by(Result.id))
        ]
        assert audit.verify(s).ok
        return _trail(s, head), results


def test_a_batched_import_seals_the_same_audit_rows_as_row_by_row(twin_apps, frozen, monkeypatch):
    one_by_one = _import(twin_apps[0], False, monkeypatch)
    batched = _import(twin_apps[1], True, monkeypatch)
    trail, results = batched
    assert trail == one_by_one[0]  # every event, its content and its hash
    assert results == one_by_one[1]
    assert [e[3] for e in trail].count("create") == 2 * len(RELEASE_VALUES)
    assert [e[3] for e in trail][-2:] == ["results_imported", "results_imported"]


def test_a_file_with_a_retest_goes_row_by_row_and_is_refused_as_before(session):
    """A row meeting a valid result of its test is refused by the single-entry rule, by line."""
    s = session
    lot = fresh_lot(s).lot_number
    body = f"lot,test,value,unit,performed_on\n{lot},VIAB,93.4,%,{DAY}\n{lot},VIAB,94.0,%,{DAY}\n"
    with pytest.raises(result_import.ValidationFailed) as err:
        result_import.import_results(s, user(s, "tech"), body)
    assert list(err.value.fields) == ["line 3"]
