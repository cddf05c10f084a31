"""The figures `make bench` measures, each beside its floor measured in the same run.

Each function takes the seeded database and returns {"value": s, "floor": s, ...}; bench/run.py
puts them side by side. Timings are medians of a few runs after a warm-up; peak memory is
measured on a separate call (tracemalloc slows the code it watches).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import re
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from queue import Empty
from typing import Any

from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.orm import Session

from lotrack import create_app
from lotrack.db import make_sessionmaker
from lotrack.models import AuditEvent, Lot, Result, SpecVersion, User
from lotrack.services import api_tokens, audit, result_import, trace
from lotrack.services import audit_verify as chain

PASSWORD = "demo-qa-password"  # noqa: S105 (the demo QA login seed_demo creates)


def timed(fn: Callable[[], Any], runs: int = 3, warm: bool = True) -> float:
    """Median seconds of `runs` calls, after one warm-up call."""
    if warm:
        fn()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    finally:
        tracemalloc.stop()


class Counter:
    """Statements the engine runs while counting (a before_cursor_execute listener)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.statements = engine, 0

    def __enter__(self) -> Counter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *_args: object) -> None:
        self.statements += 1


# ---- forward trace vs one recursive query -------------------------------------------------------

RECURSIVE = """
WITH RECURSIVE banks(id) AS (
    SELECT id FROM cell_bank WHERE code = :code
    UNION ALL
    SELECT b.id FROM cell_bank b JOIN banks ON b.parent_bank_id = banks.id
),
latest AS (
    SELECT su.unit_id, MAX(su.shipment_id) AS shipment_id FROM shipment_unit su GROUP BY su.unit_id
)
SELECT l.lot_number, u.din, s.number, site.code, p.wristband
FROM banks
JOIN production_run r ON r.bank_id = banks.id
JOIN lot l ON l.run_id = r.id
JOIN unit u ON u.lot_id = l.id
LEFT JOIN latest ON latest.unit_id = u.id
LEFT JOIN shipment s ON s.id = latest.shipment_id
LEFT JOIN site ON site.id = s.site_id
LEFT JOIN infusion i ON i.unit_id = u.id
LEFT JOIN patient p ON p.id = i.patient_id
"""


def trace_rows(places: list[trace.UnitPlace]) -> set[tuple[Any, ...]]:
    return {
        (
            p.lot.lot_number,
            p.unit.din,
            p.location.shipment,
            p.site,
            p.received_by.patient if p.received_by else None,
        )
        for p in places
    }


def forward_trace(engine: Engine, mcb: str) -> dict[str, Any]:
    """trace.forward from an MCB to every patient vs one WITH RECURSIVE query, same rows."""
    maker = make_sessionmaker(engine)
    with maker() as session:
        qa = session.scalars(select(User).where(User.username == "qa")).one()

        def service() -> trace.ForwardTrace:
            found = trace.forward(session, qa, bank=mcb)
            session.expunge_all()  # each call loads afresh, as a request would
            return found

        def floor() -> list[Any]:
            return session.execute(text(RECURSIVE), {"code": mcb}).all()

        got, want = trace_rows(service().units), {tuple(r) for r in floor()}
        assert got == want, f"trace and recursive query differ: {len(got ^ want)} rows"
        with Counter(engine) as count:
            service()
        result = {
            "value": timed(service),
            "floor": timed(floor),
            "rows": len(want),
            "patients": sum(1 for r in want if r[4]),
            "statements": count.statements,
            "peak_mib": peak_mib(service),
            "floor_peak_mib": peak_mib(floor),
        }
        session.rollback()
    return result


# ---- CSV import vs executemany ------------------------------------------------------------------


def import_rows(session: Session, lot_numbers: list[str], n: int) -> list[dict[str, Any]]:
    """`n` results for lots without any, each test once per lot (as an instrument export)."""
    from synth import passing_values

    version = session.scalars(
        select(SpecVersion).where(
            SpecVersion.stage == "release", SpecVersion.approved_at.is_not(None)
        )
    ).one()
    tests = passing_values(version)
    rows = []
    for lot in lot_numbers:
        for t in tests:
            if len(rows) == n:
                return rows
            rows.append({"lot": lot, **t})
    return rows


def csv_import(engine: Engine, lot_numbers: list[str], n: int) -> dict[str, Any]:
    """result_import.import_results of n rows vs Core executemany of the same results and their
    chained audit rows (both rolled back)."""
    maker = make_sessionmaker(engine)
    day = (dt.date.today() - dt.timedelta(days=30)).isoformat()  # sterility read after incubation
    with maker() as session:
        tech = session.scalars(select(User).where(User.username == "tech")).one()
        tech_id = tech.id
        rows = import_rows(session, lot_numbers, n)
        csv_text = "lot,test,value,unit,performed_on\n" + "".join(
            f"{r['lot']},{r['analyte']},{r['value']},{r['unit']},{day}\n" for r in rows
        )
        lots = {
            x.lot_number: x
            for x in session.scalars(select(Lot).where(Lot.lot_number.in_(lot_numbers)))
        }
        version_id = next(iter(lots.values())).spec_version_id
        now = dt.datetime.now(dt.UTC)
        plain = [
            {
                "lot_id": lots[r["lot"]].id,
                "spec_version_id": version_id,
                "test_code": r["test_code"],
                "analyte": r["analyte"],
                "value": r["value"],
                "unit": r["unit"],
                "method": r["method"],
                "instrument": "",
                "reagent_lot": "",
                "performed_on": dt.date.fromisoformat(day),
                "analyst_id": tech_id,
                "recorded_at": now,
                "verdict": r["verdict"],
                "rounded": r["rounded"],
                "note": "",
            }
            for r in rows
        ]
        session.rollback()

    def service() -> None:
        with maker() as s:
            actor = s.get(User, tech_id)
            out = result_import.import_results(s, actor, csv_text)
            assert len(out.results) == len(rows)
            s.rollback()

    def floor() -> None:
        # The same results and their audit rows: one executemany each, the rows chained in one
        # pass under the head's lock (as audit.seal does), then rolled back.
        with engine.connect() as conn:
            conn.execute(insert(Result), plain)
            n = len(plain) + len({r["lot_id"] for r in plain})
            head = conn.execute(
                text("UPDATE audit_head SET seq = seq + :n WHERE id = 1 RETURNING seq, hash"),
                {"n": n},
            ).one()
            seq, prev = head.seq - n, head.hash
            at = dt.datetime.now(dt.UTC)
            events = []
            for i, r in enumerate(plain, 1):
                changes = {k: [None, audit.plain(v)] for k, v in r.items()} | {"id": [None, i]}
                events.append(("create", "result", str(i), changes))
            for lot_id in {r["lot_id"] for r in plain}:
                events.append(("results_imported", "lot", str(lot_id), {"rows": [None, 1]}))
            rows = []
            for action, entity_type, entity_id, changes in events:
                seq += 1
                row = {
                    "seq": seq,
                    "at": at,
                    "actor_id": tech_id,
                    "actor": "tech",
                    "action": action,
                    "entity_type": entity_type,
                    "entity_id": entity_id,
                    "changes": audit.canonical(changes),
                    "reason": "",
                    "prev_hash": prev,
                }
                prev = audit.row_hash(prev, row | {"at": audit.plain(at)})
                rows.append(row | {"hash": prev})
            conn.execute(insert(AuditEvent), rows)
            conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})
            conn.rollback()

    runs = 1 if n > 1_000 else 3
    value = timed(service, runs, warm=n <= 1_000)
    base = timed(floor, runs)
    with Counter(engine) as count:
        service()
    return {
        "value": value,
        "floor": base,
        "rows": len(rows),
        "statements": count.statements,
        "peak_mib": peak_mib(service),
        "floor_peak_mib": peak_mib(floor),
    }


# ---- audit verify vs fetching the same rows with the raw driver cursor and hashing them --------


def raw_fetch_and_hash(engine: Engine) -> tuple[float, int]:
    """The floor: the rows verify reads (the same columns, `at` as stored text), fetched in
    sequence order through the driver's own cursor (server-side on PostgreSQL), each hashed with
    its predecessor's hash over its fields joined in one tight loop. Seconds and rows."""
    query = select(*chain.stored_columns(engine.dialect.name)).order_by(AuditEvent.seq)
    sql = query.compile(engine, compile_kwargs={"literal_binds": True})  # as audit_verify does
    raw = engine.raw_connection()
    try:
        start = time.perf_counter()
        if engine.dialect.name == "postgresql":
            cursor = raw.driver_connection.cursor(name="bench_floor")  # type: ignore[union-attr]
            cursor.itersize = 10_000
        else:
            cursor = raw.cursor()
        cursor.execute(str(sql))
        sha, join, n = hashlib.sha256, "\x1f".join, 0
        prev = audit.GENESIS
        while rows := cursor.fetchmany(10_000):
            for row in rows:
                prev = sha((prev + join(map(str, row))).encode()).hexdigest()
            n += len(rows)
        took = time.perf_counter() - start
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
    return took, n


def audit_verify(engine: Engine, rounds: int = 2) -> dict[str, Any]:
    """audit.verify over the whole chain vs the raw cursor fetching and hashing the same rows:
    each warmed once (caches, the file or buffers), then run alternately; medians."""
    maker = make_sessionmaker(engine)
    with maker() as session:

        def verify_once() -> float:
            start = time.perf_counter()
            report = audit.verify(session)
            took = time.perf_counter() - start
            assert report.ok, report.message
            session.rollback()
            checked.append(report.checked)
            return took

        checked: list[int] = []
        verify_once()
        raw_fetch_and_hash(engine)
        values, floors = [], []
        for _ in range(rounds):
            values.append(verify_once())
            took, rows = raw_fetch_and_hash(engine)
            floors.append(took)
            assert rows == checked[-1], (rows, checked[-1])
        peak = peak_mib(lambda: audit.verify(session))
        session.rollback()
    return {
        "value": statistics.median(values),
        "floor": statistics.median(floors),
        "events": checked[-1],
        "peak_mib": peak,
    }


# ---- SQL statements per list page ---------------------------------------------------------------

SKIP = {"/audit/verify", "/login", "/api/v1/openapi.json", "/v/public-key.pem", "/healthz"}


def list_pages(app_url: str) -> list[str]:
    app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(), "LOTRACK_DATABASE_URL": app_url})
    return sorted(
        r.rule
        for r in app.url_map.iter_rules()
        if "GET" in (r.methods or ())
        and not r.arguments
        and r.rule not in SKIP
        and not r.rule.endswith("/new")
        and "swagger" not in r.rule
        and "redoc" not in r.rule
    )


def _serve_pages(app_url: str, paths: list[str], out: Any) -> None:
    """Child process: fetch each page as qa (session for pages, bearer token for the API)."""
    app = create_app({"INSTANCE_PATH": tempfile.mkdtemp(), "LOTRACK_DATABASE_URL": app_url})
    engine = app.extensions["lotrack_db"].engine
    client = app.test_client()
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data)
    assert token is not None
    client.post(
        "/login",
        data={"username": "qa", "password": PASSWORD, "csrf_token": token.group(1).decode()},
    )
    with make_sessionmaker(engine)() as s:
        bearer = api_tokens.create_token(
            s, None, s.scalars(select(User).filter_by(username="qa")).one()
        )
        s.commit()
    for path in paths:
        headers = {"Authorization": f"Bearer {bearer}"} if path.startswith("/api/") else {}
        # The first call warms caches (templates, spec content); a page that takes seconds is
        # not fetched twice: its count, warm or not, already tells whether it grows with the data.
        for _ in range(2):
            with Counter(engine) as count:
                start = time.perf_counter()
                resp = client.get(path, headers=headers)
                took = time.perf_counter() - start
            if took > 2:
                break
        out.put(
            (
                path,
                {
                    "statements": count.statements,
                    "status": resp.status_code,
                    "ms": round(1000 * took, 1),
                    "bytes": len(resp.data),
                },
            )
        )


def page_statements(app_url: str, mcb: str, budget: float = 30) -> dict[str, dict[str, Any]]:
    """Statements, time and size of every argument-free GET page and of the forward trace, as qa.

    Each page runs in a child process given `budget` seconds: an unpaginated page at programme
    scale can take many minutes, and is recorded as timed out instead of stalling the bench."""
    ctx = multiprocessing.get_context("spawn")
    todo = [*list_pages(app_url), f"/api/v1/trace/forward?bank={mcb}"]
    out: dict[str, dict[str, Any]] = {}
    while todo:
        queue = ctx.Queue()
        child = ctx.Process(target=_serve_pages, args=(app_url, todo, queue), daemon=True)
        child.start()
        deadline = time.monotonic() + budget + 30  # start-up and login
        while todo:
            try:
                path, figures_ = queue.get(timeout=max(0.1, deadline - time.monotonic()))
            except Empty:
                child.kill()
                child.join()
                out[todo.pop(0)] = {
                    "statements": None,
                    "status": None,
                    "ms": f"> {budget:.0f} s",
                    "bytes": 0,
                }
                break
            out[path] = figures_
            todo.remove(path)
            deadline = time.monotonic() + budget
        child.join(timeout=10)
    return out
