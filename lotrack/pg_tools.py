"""PostgreSQL's client programs (pg_dump, pg_restore), run with the password in their
environment, never on their command line where the process list would show it."""

from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import quote, urlencode

from sqlalchemy import URL, make_url


class ClientToolError(Exception):
    """A client program is missing or failed; the message says which and why."""


def program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ClientToolError(f"{name} is not on PATH; install Debian's postgresql-client.")
    return found


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    # URL.set(password=None) would keep the password: build the URL without it.
    plain = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
    )
    # libpq decodes %XX only: SQLAlchemy's "+" for a space (in `options=-c name=value`, say)
    # would reach the server as a literal "+".
    query = urlencode(parsed.query, doseq=True, quote_via=quote)
    return plain.render_as_string(hide_password=False) + (f"?{query}" if query else ""), env


def run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    if done.returncode != 0:
        raise ClientToolError(f"{what} failed: {done.stderr.strip() or done.stdout.strip()}")
