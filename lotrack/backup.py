"""Backup and restore of the whole database, safe while the application is serving.

SQLite: the online backup API copies a consistent snapshot page by page (WAL readers never block
writers), then `PRAGMA integrity_check` runs on the copy. PostgreSQL: `pg_dump --format=custom`
inside an exported repeatable-read snapshot, so the manifest's counts describe exactly the dump;
`pg_restore --clean --if-exists --no-owner --single-transaction` loads it back. The custom format
creates tables, loads data, then builds indexes, constraints and triggers, so the append-only
triggers (which fire on UPDATE/DELETE/TRUNCATE only, never on DROP or COPY) do not refuse the
restore and no `--disable-triggers` (superuser) is needed.

A manifest beside the backup (`<file>.manifest.json`) records the schema revision, every table's
row count, the audit chain's head and the SHA-256 of the file, and is signed with the audit key;
restore refuses a manifest that key did not sign and a file that does not match it
(backup_manifest.py), before it touches the target. No Flask here: callers pass the database URL
and the key.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, create_engine, inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from lotrack import pg_tools
from lotrack.backup_manifest import (
    FORMAT,
    BackupError,
    Manifest,
    check_revision,
    read_manifest,
    sha256_of,
    sign,
    write_manifest,
)
from lotrack.backup_manifest import manifest_path as manifest_path  # the callers' name for it
from lotrack.db import make_engine
from lotrack.services import audit
from lotrack.services.audit_anchor import stored_heads
from lotrack.services.audit_verify import verify_chain

# Present in every migrated database, even one holding no records yet.
_BOOKKEEPING = {"alembic_version", "audit_head"}


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    tables: dict[str, int]
    audit_ok: bool
    audit_message: str
    seconds: float
    notes: list[str] = field(default_factory=list)
    head_ok: bool = True  # the restored audit head is the one the signed manifest records

    @property
    def ok(self) -> bool:
        return self.audit_ok and self.head_ok and self.tables == self.manifest.tables


# --- facts about a database -------------------------------------------------------------------


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows in every table the database holds (what was copied, not only what the code knows)."""
    names = sorted(inspect(conn).get_table_names())
    return {t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() or 0) for t in names}


def _facts(conn: Connection) -> tuple[dict[str, int], str | None, int, str]:
    counts = table_counts(conn)
    revision = None
    if "alembic_version" in counts:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    seq, head = 0, audit.GENESIS
    if "audit_head" in counts:
        row = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
        if row is not None:
            seq, head = int(row.seq), str(row.hash)
    return counts, revision, seq, head


def holds_data(counts: dict[str, int], audit_seq: int) -> bool:
    """A database holds data when any record or audit event is stored in it."""
    return audit_seq > 0 or any(n for t, n in counts.items() if t not in _BOOKKEEPING)


def _verify_chain(engine: Engine, trusted: Ed25519PublicKey) -> audit.VerifyReport:
    """The restored chain checked against its own checkpoints, which `trusted` must have signed."""
    # A trail rewritten and re-chained before the backup departs from a signed head. The
    # checkpoint file is left to `audit verify`: it also holds checkpoints signed after the backup.
    try:
        with Session(engine) as session:
            refused, signed = stored_heads(session, trusted)
            return refused or verify_chain(session, signed)
    except SQLAlchemyError as err:  # e.g. a schema this code does not know
        return audit.VerifyReport(False, 0, None, f"the audit chain could not be read: {err}")


# --- backup -----------------------------------------------------------------------------------


def backup(url: str, path: Path, key: Ed25519PrivateKey) -> Manifest:
    """Copy the database at `url` to `path`, with a manifest beside it signed with `key`."""
    path = Path(path)
    if path.is_dir():
        raise BackupError(f"{path} is a directory; give the backup file's name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    dialect = make_url(url).get_backend_name()
    with _staging(path) as tmp:
        if dialect == "sqlite":
            facts = _backup_sqlite(_sqlite_file(url), tmp)
        elif dialect == "postgresql":
            facts = _backup_postgres(url, tmp)
        else:
            raise BackupError(f"Backups of {dialect} databases are not supported.")
        counts, revision, seq, head = facts
        manifest = sign(
            Manifest(
                format=FORMAT,
                dialect=dialect,
                schema_revision=revision,
                tables=counts,
                audit_seq=seq,
                audit_hash=head,
                sha256=sha256_of(tmp),
                size=tmp.stat().st_size,
                created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                file=path.name,
            ),
            key,
        )
        os.replace(tmp, path)
    # The manifest is written last: a backup without one is visibly unfinished.
    write_manifest(path, manifest)
    return manifest


@contextmanager
def _staging(path: Path) -> Iterator[Path]:
    """A private temporary file beside the target, removed unless it was moved into place."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)  # mkstemp makes it 0600: a backup holds password hashes
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _sqlite_file(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise BackupError("An in-memory SQLite database has no file to back up or restore.")
    return Path(name)


def _backup_sqlite(source: Path, tmp: Path) -> tuple[dict[str, int], str | None, int, str]:
    if not source.exists():
        raise BackupError(f"No database file at {source}.")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(tmp)
    try:
        # One step (pages=-1): the copy is one read transaction, a snapshot writers do not wait on.
        src.backup(dst)
        # A self-contained file: no -wal companion to lose.
        dst.execute("PRAGMA journal_mode=DELETE")
        checked = dst.execute("PRAGMA integrity_check").fetchall()
    finally:
        src.close()
        dst.close()
    if checked != [("ok",)]:
        raise BackupError(f"The copy failed its integrity check: {checked[:5]}")
    return _file_facts(tmp)


def _file_facts(path: Path) -> tuple[dict[str, int], str | None, int, str]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return _facts(conn)
    finally:
        engine.dispose()


def _backup_postgres(url: str, tmp: Path) -> tuple[dict[str, int], str | None, int, str]:
    with _tool_errors():
        pg_dump, pg_restore = pg_tools.program("pg_dump"), pg_tools.program("pg_restore")
        dsn, env = pg_tools.libpq(url)
        engine = make_engine(url)
        try:
            with engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            ) as conn:
                # The counts and pg_dump read the same snapshot: the manifest describes the dump.
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                facts = _facts(conn)
                pg_tools.run(
                    [
                        pg_dump,
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        "--no-password",
                        f"--file={tmp}",
                        f"--dbname={dsn}",
                    ],
                    env,
                    "pg_dump",
                )
                conn.rollback()
        finally:
            engine.dispose()
        pg_tools.run([pg_restore, "--list", str(tmp)], env, "Reading the dump back")
    return facts


@contextmanager
def _tool_errors() -> Iterator[None]:
    """A missing or failing client program is a BackupError, as every other refusal here."""
    try:
        yield
    except pg_tools.ClientToolError as err:
        raise BackupError(str(err)) from None


# --- restore ----------------------------------------------------------------------------------


def restore(
    url: str, path: Path, trusted: Ed25519PublicKey, *, force: bool = False
) -> RestoreReport:
    """Replace the database at `url` with the backup at `path` whose manifest `trusted` signed."""
    # Refused: an unsigned or altered backup, and a target holding data unless `force`. Checked
    # afterwards: every table's count, the audit chain, its signed checkpoints and its head.
    started = time.monotonic()
    path = Path(path)
    manifest = read_manifest(path, trusted)  # every refusal of the backup precedes the target
    dialect = make_url(url).get_backend_name()
    if manifest.dialect != dialect:
        raise BackupError(
            f"The backup is of a {manifest.dialect} database; the target is {dialect}."
        )
    notes = check_revision(manifest)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            counts, _rev, seq, _head = _facts(conn)
        if holds_data(counts, seq) and not force:
            raise BackupError(
                f"Refused: the target database holds data ({sum(counts.values())} rows, "
                f"{seq} audit events). Restore into an empty database, or pass --force to "
                "replace everything in it."
            )
        if dialect == "sqlite":
            engine.dispose()  # no pooled connection of ours holds the file during the copy
            _restore_sqlite(path, _sqlite_file(url))
        else:
            _restore_postgres(url, path)
        engine.dispose()
        with engine.connect() as conn:
            after, _rev, seq, head = _facts(conn)
        verified = _verify_chain(engine, trusted)
    finally:
        engine.dispose()
    if after != manifest.tables:
        differ = sorted(
            t for t in set(after) | set(manifest.tables) if after.get(t) != manifest.tables.get(t)
        )
        notes.append(f"row counts differ from the manifest in: {', '.join(differ)}")
    # The manifest's head is signed: a restored chain that ends elsewhere is not the backup's.
    head_ok = (seq, head) == (manifest.audit_seq, manifest.audit_hash)
    if not head_ok:
        notes.append(
            f"the restored audit head (event {seq}, hash {head[:16]}...) is not the signed "
            f"manifest's (event {manifest.audit_seq}, hash {manifest.audit_hash[:16]}...)"
        )
    return RestoreReport(
        manifest, after, verified.ok, verified.message, time.monotonic() - started, notes, head_ok
    )


def _restore_sqlite(backup_file: Path, target: Path) -> None:
    src = sqlite3.connect(f"{backup_file.resolve().as_uri()}?mode=ro", uri=True)
    try:
        checked = src.execute("PRAGMA integrity_check").fetchall()
        if checked != [("ok",)]:
            raise BackupError(f"The backup failed its integrity check: {checked[:5]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            # Page by page under the target's write lock: serving processes wait, then read the
            # restored database; the copy carries the schema, triggers included.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")
        finally:
            dst.close()
    finally:
        src.close()


def _restore_postgres(url: str, backup_file: Path) -> None:
    with _tool_errors():
        dsn, env = pg_tools.libpq(url)
        pg_tools.run(
            [
                pg_tools.program("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                # The source's grants name its runtime role; this host's are set by `restore`
                # afterwards (db_roles.py), so none is copied.
                "--no-acl",
                "--exit-on-error",
                "--single-transaction",
                "--no-password",
                f"--dbname={dsn}",
                str(backup_file),
            ],
            env,
            "pg_restore",
        )
