"""Fixtures: a fresh migrated database per test (cloned from a template), on SQLite always and on
PostgreSQL when LOTRACK_TEST_DATABASE_URL is set."""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session

from lotrack import create_app
from lotrack.db import make_engine, make_sessionmaker
from lotrack.db_roles import ensure_runtime_role
from lotrack.keys import create_key_files
from lotrack.migrate import upgrade
from lotrack.models import User
from lotrack.services import accounts, seed
from tests import route_builders

PG_URL = os.environ.get("LOTRACK_TEST_DATABASE_URL", "")
# The suite's assertions read English unless a test asks for Chinese (Accept-Language, the switch
# or an account's language); the shipped default is zh_CN (config.py).
os.environ.setdefault("LOTRACK_DEFAULT_LANGUAGE", "en")
FACILITY = "A9999"
if PG_URL and not os.environ.get("LOTRACK_LABEL_KEY_FILE"):
    # As on several hosts: PostgreSQL needs the keys and session secret configured, shared by
    # every app (and gunicorn) this run starts (keys.py); one set per test process.
    _shared = create_key_files(Path(tempfile.mkdtemp(prefix="lotrack-keys-")) / "keys")
    os.environ.update({name: str(path) for name, path in _shared.items()})
# argon2id at the production cost (64 MiB, 3 passes, 4 lanes) takes 0.2-1.5 s a hash or login on
# a busy two-core machine, and the suite logs in thousands of times: its processes hash at the
# lowest cost instead, demo template included (a hash carries its own cost, so verifying one
# costs what it was made with). test_accounts checks the production hasher, kept here, itself.
PRODUCTION_HASHER = accounts._hasher
accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
accounts._DUMMY_HASH = accounts._hasher.hash("lotrack-dummy-password")
# Each test builds its own application; the routes' URL builders are compiled once per process.
route_builders.install()
NO_WAIT_FOR_DISK = "?options=-c%20synchronous_commit%3Doff"
PASSWORDS = {u: p for u, _r, _n, _s, p in seed.DEMO_USERS}
_counter = itertools.count()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class Backend:
    """Makes template databases once, and a fresh copy of one for each test.

    On PostgreSQL the application connects as a runtime role of this run, as in production
    (db_roles.py): LOTRACK_TEST_DATABASE_URL's role owns and migrates the databases, and tests
    that play the insider or restore a backup reach for the owner explicitly (owner_engine)."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.pg = bool(PG_URL)
        self.prefix = f"lotrack_t_{_worker()}_{os.getpid()}"
        self.runtime_role = f"lotrack_rt_{_worker()}_{os.getpid()}"
        self.made: list[str] = []

    @property
    def name(self) -> str:
        return "postgresql" if self.pg else "sqlite"

    def url_for(self, name: str, *, owner: bool = False) -> str:
        """The application's URL of database `name` (the runtime role's), or the owner's."""
        if self.pg:
            url = make_url(PG_URL).set(database=name)
            if not owner:
                url = url.set(username=self.runtime_role, password=None)
            # A test database outlives no test: commits need not wait for the disk (PostgreSQL
            # itself is never killed here, so no acknowledged write is lost; about a fifth faster).
            return url.render_as_string(hide_password=False) + NO_WAIT_FOR_DISK
        return f"sqlite:///{self.tmp / (name + '.sqlite3')}"

    def owner_url(self, url: str) -> str:
        """The owner's URL of the database at `url`; empty on SQLite (one file, no roles)."""
        return self.url_for(self.database_of(url), owner=True) if self.pg else ""

    def database_of(self, url: str) -> str:
        """The database's name in a URL from url_for (a SQLite file's stem)."""
        if self.pg:
            return url.rsplit("/", 1)[1].split("?", 1)[0]
        return Path(url.removeprefix("sqlite:///")).stem

    def _admin(self):
        url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        return create_engine(url, isolation_level="AUTOCOMMIT")

    def make_template(self, name: str, demo: bool) -> str:
        full = f"{self.prefix}_{name}"
        if self.pg:
            eng = self._admin()
            with eng.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{full}" WITH (FORCE)'))
                c.execute(text(f'CREATE DATABASE "{full}"'))
            eng.dispose()
            self.made.append(full)
            owner = make_engine(self.url_for(full, owner=True))
            upgrade(owner)
            ensure_runtime_role(owner, self.url_for(full))
            owner.dispose()
        engine = make_engine(self.url_for(full))
        if not self.pg:
            upgrade(engine)
        if demo:
            with make_sessionmaker(engine)() as session:
                seed.seed_demo(session, facility_id=FACILITY)
                session.commit()
        engine.dispose()
        return full

    def clone(self, template: str) -> str:
        full = f"{self.prefix}_{next(_counter)}"
        if self.pg:
            eng = self._admin()
            with eng.connect() as c:
                c.execute(text(f'CREATE DATABASE "{full}" TEMPLATE "{template}"'))
            eng.dispose()
            self.made.append(full)
        else:
            src = sqlite3.connect(self.tmp / f"{template}.sqlite3")
            dst = sqlite3.connect(self.tmp / f"{full}.sqlite3")
            src.backup(dst)
            src.close()
            dst.close()
        return self.url_for(full)

    def drop(self, url: str) -> None:
        if self.pg:
            name = self.database_of(url)
            eng = self._admin()
            with eng.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            eng.dispose()
            self.made.remove(name)

    def close(self) -> None:
        if self.pg:
            eng = self._admin()
            with eng.connect() as c:
                for name in self.made:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                c.execute(text(f'DROP ROLE IF EXISTS "{self.runtime_role}"'))
            eng.dispose()


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    b = Backend(tmp_path_factory.mktemp("db"))
    yield b
    b.close()


@pytest.fixture(scope="session")
def empty_template(backend: Backend) -> str:
    return backend.make_template("empty", demo=False)


@pytest.fixture(scope="session")
def demo_template(backend: Backend) -> str:
    return backend.make_template("demo", demo=True)


def _app(backend: Backend, template: str, tmp_path: Path) -> Iterator[Flask]:
    url = backend.clone(template)
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_OWNER_DATABASE_URL": backend.owner_url(url),
            "LOTRACK_FACILITY_ID": FACILITY,
        }
    )
    yield app
    app.extensions["lotrack_db"].engine.dispose()
    backend.drop(url)


@pytest.fixture
def app(backend: Backend, empty_template: str, tmp_path: Path) -> Iterator[Flask]:
    """An application on a fresh, migrated, empty database."""
    yield from _app(backend, empty_template, tmp_path)


@pytest.fixture
def demo_app(backend: Backend, demo_template: str, tmp_path: Path) -> Iterator[Flask]:
    """An application on a fresh copy of the demo database."""
    yield from _app(backend, demo_template, tmp_path)


@pytest.fixture
def session(demo_app: Flask) -> Iterator[Session]:
    """A session on the demo database (services take it as an argument)."""
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        yield s


@pytest.fixture
def empty_session(app: Flask) -> Iterator[Session]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        yield s


def user(session: Session, username: str) -> User:
    found = session.query(User).filter_by(username=username).one()
    return found


@pytest.fixture
def client(demo_app: Flask) -> FlaskClient:
    return demo_app.test_client()


def login(client: FlaskClient, username: str, password: str | None = None):
    """Log in through the real form (CSRF is on in tests, as in production)."""
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data)
    assert token, "login page carries a CSRF token"
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password or PASSWORDS[username],
            "csrf_token": token.group(1).decode(),
        },
    )


def lock_out(app: Flask, username: str, failures: int = 5) -> None:
    """Lock an account as its own person would: wrong passwords from an address it has logged
    in from (the test client's 127.0.0.1, made known by one good login first)."""
    assert login(app.test_client(), username).status_code == 302
    for attempt in range(failures):
        login(app.test_client(), username, f"wrong password {attempt}")


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path)
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data)
    assert token, f"{path} carries a CSRF token"
    return token.group(1).decode()


@contextmanager
def owner_engine(app: Flask) -> Iterator[Engine]:
    """An engine connected as the tables' owner: what a test playing the insider, migrating or
    restoring needs, and the application never holds (the app's own engine on SQLite)."""
    owner_url = app.config["LOTRACK_OWNER_DATABASE_URL"]
    if not owner_url:
        yield app.extensions["lotrack_db"].engine
        return
    engine = make_engine(owner_url)
    try:
        yield engine
    finally:
        engine.dispose()


def execute_as_owner(app: Flask, statement: str, params: dict | None = None) -> None:
    """One statement in its own transaction as the tables' owner: what a test of the triggers
    needs on PostgreSQL, where the application's role may not even try (db_roles.py)."""
    with owner_engine(app) as engine, engine.begin() as conn:
        conn.execute(text(statement), params or {})


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the application's engine runs inside the block."""
    engine = app.extensions["lotrack_db"].engine
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_a) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def api_get_route(app: Flask) -> str | None:
    """An argument-free GET route of /api/v1 (to check that a token authenticates)."""
    for rule in app.url_map.iter_rules():
        if (
            rule.rule.startswith("/api/v1/")
            and "GET" in (rule.methods or ())
            and not rule.arguments
            and "openapi" not in rule.rule
            and "swagger" not in rule.rule
        ):
            return rule.rule
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL run, only the tests that use a database: the others (pure rules,
    parsers, renderers, and the pages' layout and accessibility) ran on SQLite and would say
    the same again."""
    if not PG_URL:
        return

    def on_postgresql(item: pytest.Item) -> bool:
        # Layout and accessibility read the rendered HTML, which the database does not change.
        uses_db = "backend" in getattr(item, "fixturenames", ())
        return uses_db and item.get_closest_marker("layout") is None

    keep = [item for item in items if on_postgresql(item)]
    dropped = [item for item in items if not on_postgresql(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
