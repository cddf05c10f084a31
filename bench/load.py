"""Load through gunicorn on loopback: latency under concurrent clients, and the mixed-load check.

    .venv/bin/python bench/load.py --url URL bedside [--clients 8 --seconds 10]
    .venv/bin/python bench/load.py --url URL mixed   [--clients 12 --seconds 30]
    .venv/bin/python bench/load.py mixed --seed trial   (what `make load` runs)

`bedside` measures POST /api/v1/bedside/check and, with the same server, clients and duration,
its floor: POST /api/bench/floor (bench/floor_wsgi.py: the same bearer-token authentication, one
audited row written and committed); GET /healthz is reported beside it. `mixed` runs reads,
result entry and bedside checks at once, then checks that every acknowledged write is in the
database and the audit chain verifies; it exits non-zero on any 5xx, connection error or lost
write. The database must hold bench/synth.py data.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import synth
from sqlalchemy import select

from lotrack.db import make_engine, make_sessionmaker
from lotrack.models import (
    Allocation,
    AuditHead,
    Infusion,
    Patient,
    Prescription,
    ProductionRun,
    Result,
    Unit,
    User,
)
from lotrack.models import BedsideScan as Scan
from lotrack.services import api_tokens, audit
from lotrack.services import infusion as infusions
from lotrack.services import lot as lots

ROOT = Path(__file__).resolve().parent.parent
Request = tuple[str, str, dict[str, Any] | None, str]  # method, path, json body, token


@dataclass
class Tally:
    """Latencies and outcomes of one kind of request."""

    seconds: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    connection_errors: int = 0
    written: list[tuple[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        s = sorted(self.seconds)
        pct = (lambda q: round(1000 * s[min(len(s) - 1, int(q * len(s)))], 2)) if s else None
        return {
            "requests": len(s),
            "p50_ms": pct(0.50) if pct else None,
            "p99_ms": pct(0.99) if pct else None,
            "mean_ms": round(1000 * statistics.fmean(s), 2) if s else None,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.connection_errors + sum(v for k, v in self.statuses.items() if k >= 500),
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, workers: int = 3) -> Iterator[int]:
    """gunicorn wsgi:app on a free loopback port against `url`; stopped on exit."""
    port = free_port()
    instance = tempfile.mkdtemp(prefix="lotrack-load-")
    env = os.environ | {"LOTRACK_DATABASE_URL": url, "LOTRACK_INSTANCE_PATH": instance}
    proc = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [
            # This interpreter's gunicorn: `make load` works from any virtual environment.
            *(sys.executable, "-m", "gunicorn"),
            # lotrack's app plus the bench-only floor endpoint (bench/floor_wsgi.py).
            *("--pythonpath", str(ROOT / "bench")),
            "floor_wsgi:app",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def drive(
    port: int,
    clients: int,
    seconds: float,
    next_request: Callable[[int], Request | None],
    on_ok: Callable[[str, Any], None] | None = None,
) -> dict[str, Tally]:
    """`clients` threads, one keep-alive connection each, sending until the time is up."""
    tallies: dict[str, Tally] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop:
            req = next_request(n)
            if req is None:
                break
            method, path, body, token = req
            kind = req_kind(method, path)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            start = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                with lock:
                    tallies.setdefault(kind, Tally()).connection_errors += 1
                continue
            took = time.perf_counter() - start
            with lock:
                t = tallies.setdefault(kind, Tally())
                t.seconds.append(took)
                t.statuses[status] = t.statuses.get(status, 0) + 1
                if method == "POST" and 200 <= status < 300:
                    t.written.append((path, json.loads(payload)))
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tallies


def req_kind(method: str, path: str) -> str:
    if path.endswith("/bedside/check"):
        return "bedside_check"
    if path == "/api/bench/floor":
        return "floor"
    if path.endswith("/results"):
        return "result_entry"
    return "healthz" if path == "/healthz" else "read"


@dataclass(frozen=True)
class Fixture:
    nurse_token: str
    tech_token: str
    bedside: list[tuple[str, str]]  # wristband, DIN + check: GO now (thawed just before)
    lots: list[str]
    dins: list[str]


def prepare(url: str, write_lots: int = 0, bedside_patients: int = 20) -> Fixture:
    """Tokens, fresh thaws of patients waiting at the demo nurse's site, and (for result entry)
    quarantined lots without results, all written through the services."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        nurse = s.scalars(select(User).where(User.username == "nurse")).one()
        tech = s.scalars(select(User).where(User.username == "tech")).one()
        tokens = (
            api_tokens.create_token(s, None, nurse, "load"),
            api_tokens.create_token(s, None, tech, "load"),
        )
        waiting = s.execute(
            select(Patient.wristband, Unit.din, Unit.check_character)
            .join(Prescription, Prescription.patient_id == Patient.id)
            .join(Allocation, Allocation.prescription_id == Prescription.id)
            .join(Unit, Allocation.unit_id == Unit.id)
            .where(Patient.site_id == nurse.site_id, ~Unit.id.in_(select(Infusion.unit_id)))
            .order_by(Patient.id)
            .limit(bedside_patients)
        ).all()
        now = dt.datetime.now(dt.UTC)
        for w in waiting:
            # thawed by an earlier run: GO or not, still a check
            with contextlib.suppress(Exception), s.begin_nested():
                infusions.record_thaw(
                    s, nurse, w.din + w.check_character, now - dt.timedelta(minutes=1)
                )
        run = s.scalar(select(ProductionRun.code).order_by(ProductionRun.id.desc()))
        fresh = []
        for _ in range(write_lots):
            lot = lots.register_lot(
                s,
                tech,
                run_code=run,
                harvested_on=now.date() - dt.timedelta(days=3),
                expires_on=now.date() + dt.timedelta(days=900),
            )
            s.flush()
            fresh.append(lot.lot_number)
        dins = list(s.scalars(select(Unit.din).order_by(Unit.id.desc()).limit(200)))
        s.commit()
    engine.dispose()
    return Fixture(
        tokens[0],
        tokens[1],
        [(w.wristband, w.din + w.check_character) for w in waiting],
        fresh,
        dins,
    )


def bedside_requests(fx: Fixture) -> Callable[[int], Request]:
    cycle = itertools.cycle(fx.bedside)
    lock = threading.Lock()

    def nxt(_n: int) -> Request:
        with lock:
            patient, scan = next(cycle)
        return (
            "POST",
            "/api/v1/bedside/check",
            {"patient": patient, "scan": scan, "method": "typed"},
            fx.nurse_token,
        )

    return nxt


def measure_bedside(url: str, clients: int, seconds: float, workers: int = 3) -> dict[str, Any]:
    """The bedside check, its floor (an authenticated request writing one audited row and
    committing) and /healthz through one gunicorn, same clients and duration."""
    fx = prepare(url)

    def write_one(_n: int) -> Request:
        return ("POST", "/api/bench/floor", {}, fx.nurse_token)

    with gunicorn(url, workers) as port:
        drive(port, clients, 2, write_one)  # warm every worker (imports, pool, token cache)
        healthz = drive(port, clients, seconds, lambda _n: ("GET", "/healthz", None, ""))
        floor = drive(port, clients, seconds, write_one)["floor"]
        check = drive(port, clients, seconds, bedside_requests(fx))["bedside_check"]
    go = sum(1 for _p, body in check.written if body.get("go"))
    return {
        "floor": floor.summary(),
        "healthz": healthz["healthz"].summary(),
        "bedside_check": check.summary() | {"go": go},
        "clients": clients,
        "seconds": seconds,
        "workers": workers,
    }


def measure_mixed(url: str, clients: int, seconds: float, workers: int = 3) -> dict[str, Any]:
    """Reads, result entry and bedside checks at once; then every acknowledged write is sought."""
    fx = prepare(url, write_lots=max(40, int(seconds * 8)))
    values = {  # test: (value, unit) within the release specification
        "VIAB": ("95.0", "%"),
        "CELLS": ("72.0", "10^6 cells"),
        "CD105": ("98.0", "%"),
        "CD73": ("98.5", "%"),
        "CD90": ("99.0", "%"),
        "CD45": ("0.5", "%"),
        "CD34": ("0.4", "%"),
        "HLA-DR": ("0.3", "%"),
        "ENDOTOXIN": ("0.10", "EU/mL"),
        "APPEARANCE": ("Conforms", ""),
        "MYCO": ("Negative", ""),
        "KARYOTYPE": ("Normal", ""),
        "STR": ("Matches MCB", ""),
        "TRILINEAGE": ("Conforms", ""),
    }
    writes = iter([(lot, t) for t in values for lot in fx.lots])
    side = bedside_requests(fx)
    lock = threading.Lock()
    counter = itertools.count()
    day = (dt.date.today() - dt.timedelta(days=1)).isoformat()

    def nxt(n: int) -> Request:
        i = next(counter)
        kind = i % 4
        if kind == 0:
            with lock:
                item = next(writes, None)
            if item is not None:
                lot, test = item
                return (
                    "POST",
                    f"/api/v1/lots/{lot}/results",
                    {
                        "test": test,
                        "value": values[test][0],
                        "unit": values[test][1],
                        "performed_on": day,
                    },
                    fx.tech_token,
                )
        if kind == 1:
            return side(n)
        reads = (
            f"/api/v1/lots/{fx.lots[i % len(fx.lots)]}",
            f"/api/v1/units/{fx.dins[i % len(fx.dins)]}",
            "/api/v1/lots",
        )
        return ("GET", reads[i % 3], None, fx.tech_token)

    before = audit_head_seq(url)
    with gunicorn(url, workers) as port:
        started = time.perf_counter()
        tallies = drive(port, clients, seconds, nxt)
        elapsed = time.perf_counter() - started
    events = audit_head_seq(url) - before
    lost = check_writes(url, tallies)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        chain = audit.verify(s)
    engine.dispose()
    return {
        # Every audited write moves the one audit-head row: this is the write ceiling README's
        # "Deploying on several hosts" names, as this machine reaches it under the mixed load.
        "audit_events": events,
        "audit_events_per_second": round(events / elapsed, 1),
        "kinds": {k: t.summary() for k, t in sorted(tallies.items())},
        "lost_writes": lost,
        "audit": chain.message,
        "audit_ok": chain.ok,
        "clients": clients,
        "seconds": seconds,
        "workers": workers,
    }


def audit_head_seq(url: str) -> int:
    """The audit chain's last sequence number (every audited write advances it by its events)."""
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        seq = s.scalar(select(AuditHead.seq)) or 0
    engine.dispose()
    return seq


def check_writes(url: str, tallies: dict[str, Tally]) -> list[str]:
    """Every 2xx write must be in the database as answered."""
    engine = make_engine(url)
    lost = []
    with make_sessionmaker(engine)() as s:
        for path, body in tallies.get("result_entry", Tally()).written:
            row = s.get(Result, body["id"])
            if (
                row is None
                or row.test_code != body["test"]
                or path.split("/")[4] != row.lot.lot_number
            ):
                lost.append(f"result {body.get('id')} of {path}")
        scans = [body["scan_id"] for _p, body in tallies.get("bedside_check", Tally()).written]
        found = set(s.scalars(select(Scan.id).where(Scan.id.in_(scans)))) if scans else set()
        lost += [f"bedside scan {i}" for i in scans if i not in found]
    engine.dispose()
    return lost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("bedside", "mixed"))
    parser.add_argument("--url", help="a database seeded by bench/synth.py")
    parser.add_argument("--seed", choices=sorted(synth.SCALES), help="seed a fresh database first")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("LOAD_SECONDS", 30)))
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args(argv)
    synth.ensure_shared_keys(args.url or os.environ.get("LOTRACK_DATABASE_URL"))
    if args.seed:
        args.url = synth.fresh_database("load", os.environ.get("LOTRACK_DATABASE_URL"))
        engine = make_engine(args.url)
        print(f"seeded {args.seed} in {synth.build(engine, synth.SCALES[args.seed])['seconds']} s")
        engine.dispose()
    if not args.url:
        parser.error("--url or --seed is required")
    if args.mode == "bedside":
        report = measure_bedside(args.url, args.clients or 8, args.seconds, args.workers)
        print(json.dumps(report, indent=2))
        return 0
    report = measure_mixed(args.url, args.clients or 12, args.seconds, args.workers)
    print(json.dumps(report, indent=2))
    print("| kind | requests | p50 ms | p99 ms | errors | statuses |")
    print("|---|---|---|---|---|---|")
    for kind, s in report["kinds"].items():
        print(
            f"| {kind} | {s['requests']} | {s['p50_ms']} | {s['p99_ms']} | {s['errors']} "
            f"| {s['statuses']} |"
        )
    # Every request sent is well-formed and allowed: any answer but 2xx is an error here.
    errors = sum(
        s["errors"] + sum(v for k, v in s["statuses"].items() if not k.startswith("2"))
        for s in report["kinds"].values()
    )
    print(
        f"audit events {report['audit_events']} ({report['audit_events_per_second']} per second, "
        "through the one audit-head row)"
    )
    print(f"errors {errors}, lost writes {len(report['lost_writes'])}, {report['audit']}")
    return 1 if errors or report["lost_writes"] or not report["audit_ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
