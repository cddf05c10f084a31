"""Crash safety: the real server (gunicorn) is killed with SIGKILL in the middle of a burst of
writes and started again on the same database. The database is intact, no record is half written,
every write the server acknowledged is there, and the audit chain verifies."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, make_url, select, text

from lotrack import PROJECT_ROOT, create_app
from lotrack.models import AuditEvent, Lot
from tests.conftest import FACILITY

GUNICORN = (sys.executable, "-m", "gunicorn")  # this interpreter's, in any environment
CLIENTS = 4
KILL_AFTER = 12  # acknowledged writes before the kill; the clients keep sending


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, token: str, body: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@contextmanager
def serving(url: str, instance: Path, log: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """gunicorn wsgi:app in its own process group, on a free loopback port, answering /healthz."""
    port = _free_port()
    env = {**os.environ, "LOTRACK_DATABASE_URL": url, "LOTRACK_INSTANCE_PATH": str(instance)}
    with log.open("a") as out:
        proc = subprocess.Popen(
            [
                *GUNICORN,
                *("wsgi:app", "--preload", "-w", "2", "--threads", "2"),
                *("-b", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning"),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the kill reaches master and workers at once
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _request(port, "GET", "/healthz", "")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield port, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)


class Burst:
    """Client threads registering lots until the server is gone; keeps what was acknowledged."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.acked: list[str] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        self.enough = threading.Event()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]

    def _client(self) -> None:
        body = {"run": "RUN-2025-01", "harvested_on": "2025-12-01", "expires_on": "2026-12-01"}
        while True:
            try:
                status, data = _request(self.port, "POST", "/api/v1/lots", self.token, body)
            except OSError:
                return  # the server was killed: this write was never acknowledged
            with self.lock:
                self.answers.append(status)
                if status == 201:
                    self.acked.append(json.loads(data)["lot_number"])
                if len(self.acked) >= KILL_AFTER:
                    self.enough.set()
            if status != 201:
                return

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self) -> None:
        for t in self.threads:
            t.join(30)


def _check_storage(app: Flask) -> None:
    """SQLite: integrity_check; PostgreSQL: every row of every table reads and every constraint
    and index is valid."""
    url = app.config["LOTRACK_DATABASE_URL"]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(url).database)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            conn.close()
        return
    engine = app.extensions["lotrack_db"].engine
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            conn.execute(text(f'SELECT * FROM "{name}"')).fetchall()
        assert conn.scalar(text("SELECT count(*) FROM pg_constraint WHERE NOT convalidated")) == 0
        assert conn.scalar(text("SELECT count(*) FROM pg_index WHERE NOT indisvalid")) == 0


def _lots_and_their_events(app: Flask) -> tuple[dict[str, str], set[str]]:
    """Lot id -> lot number, and the ids that the audit trail says were created."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        lots = {str(i): n for i, n in s.execute(select(Lot.id, Lot.lot_number))}
        created = set(
            s.scalars(
                select(AuditEvent.entity_id).where(
                    AuditEvent.entity_type == "lot", AuditEvent.action == "create"
                )
            )
        )
    return lots, created


@pytest.fixture
def crash_app(backend, demo_template, tmp_path) -> Iterator[Flask]:
    url = backend.clone(demo_template)
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_FACILITY_ID": FACILITY,
        }
    )
    yield app
    app.extensions["lotrack_db"].engine.dispose()
    backend.drop(url)


def test_a_server_killed_mid_burst_loses_no_acknowledged_write(crash_app, tmp_path):
    made = crash_app.test_cli_runner().invoke(
        args=["lotrack", "token", "create", "tech", "--scope", "read", "--scope", "write"]
    )
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    url = crash_app.config["LOTRACK_DATABASE_URL"]
    instance, log = Path(crash_app.instance_path), tmp_path / "gunicorn.log"
    lots_before, _ = _lots_and_their_events(crash_app)

    with serving(url, instance, log) as (port, proc):
        burst = Burst(port, token)
        burst.start()
        assert burst.enough.wait(60), f"writes were acknowledged: {burst.answers}"
        os.killpg(proc.pid, signal.SIGKILL)  # mid-burst: the clients are still sending
        proc.wait(30)
        burst.join()
    assert set(burst.answers) == {201}, burst.answers  # every answer before the kill a success
    assert len(burst.acked) >= KILL_AFTER

    with serving(url, instance, log) as (port, _proc):
        _check_storage(crash_app)
        lots, created = _lots_and_their_events(crash_app)
        # No half-written record: each lot has its audit event, and each event its lot.
        assert set(lots) == created
        # Every acknowledged write is there, and the restarted server serves it.
        assert set(burst.acked) <= set(lots.values())
        assert len(lots) >= len(lots_before) + len(burst.acked)
        for lot_number in burst.acked:
            status, data = _request(port, "GET", f"/api/v1/lots/{lot_number}", token)
            assert status == 200 and json.loads(data)["state"] == "QUARANTINE", data
        # The restarted server writes again, continuing the chain.
        body = {"run": "RUN-2025-01", "harvested_on": "2025-12-01", "expires_on": "2026-12-01"}
        assert _request(port, "POST", "/api/v1/lots", token, body)[0] == 201

    verified = crash_app.test_cli_runner().invoke(args=["lotrack", "audit", "verify"])
    assert verified.exit_code == 0, verified.output
