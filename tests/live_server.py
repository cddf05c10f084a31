"""gunicorn serving this checkout on a free loopback port, for tests that speak real HTTP to the
application from outside its process (as bench/load.py does for the load figures)."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _up(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def gunicorn(database_url: str, instance: Path, workers: int = 2) -> Iterator[str]:
    """`gunicorn wsgi:app` against `database_url`; yields its base URL, stopped on exit."""
    port = free_port()
    env = os.environ | {
        "LOTRACK_DATABASE_URL": database_url,
        "LOTRACK_INSTANCE_PATH": str(instance),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "gunicorn", "wsgi:app", "-w", str(workers)]
    command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        # Polls for readiness (no timing is asserted): a minute is far more than a start takes.
        deadline = time.monotonic() + 60
        while not _up(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
