"""Backup and restore drill: a backup taken while the application writes restores into a fresh
database with every table's rows and an intact audit chain; a damaged backup, a manifest the
facility's audit key did not sign (or that changed after it was signed), or a restore over data
without --force, is refused before the target is touched."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.exc import DBAPIError

import lotrack.models  # noqa: F401  (registers every table)
from lotrack import create_app, pg_tools
from lotrack.backup import manifest_path
from lotrack.backup_manifest import Manifest, payload, read_manifest, sha256_of, sign
from lotrack.db import Base
from lotrack.keys import load_or_create_key
from lotrack.models import Lot
from lotrack.services import lot as lots
from tests.conftest import FACILITY, owner_engine, user
from tests.services.test_audit_anchor import _rewrite_and_rechain
from tests.test_cli import _flask
from tests.test_migrations import make_blank

RUN = "RUN-2025-01"


def _cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["lotrack", *args])


def _register(app: Flask) -> str:
    """One committed write through the service, as a request would make it."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        lot = lots.register_lot(
            s,
            user(s, "tech"),
            run_code=RUN,
            harvested_on=dt.date(2025, 12, 1),
            expires_on=dt.date(2026, 12, 1),
        )
        s.commit()
        return lot.lot_number


def _counts(app: Flask) -> dict[str, int]:
    """Rows in every table the models declare, and Alembic's."""
    names = [t.name for t in Base.metadata.sorted_tables] + ["alembic_version"]
    with app.extensions["lotrack_db"].engine.connect() as conn:
        return {n: conn.scalar(select(func.count()).select_from(table(n))) or 0 for n in names}


def _lot_numbers(app: Flask) -> set[str]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return set(s.scalars(select(Lot.lot_number)))


@pytest.fixture
def target(backend, tmp_path, demo_app) -> Iterator[Flask]:
    """An application on a new database with nothing in it: where a backup is restored. The
    same facility's: its audit checkpoint key comes along, as the backup's checkpoints are
    signed with it (another key would not vouch for them: tests/services/test_audit_anchor.py)."""
    url = make_blank(backend)
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "target"),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_OWNER_DATABASE_URL": backend.owner_url(url),
            "LOTRACK_FACILITY_ID": FACILITY,
            "LOTRACK_AUDIT_KEY_FILE": str(demo_app.extensions["lotrack_audit_anchor"].key_file),
        }
    )
    yield app
    app.extensions["lotrack_db"].engine.dispose()
    backend.drop(url)


class Writer(threading.Thread):
    """Keeps registering lots; its third write stops mid-transaction until `resume` is set, so
    the backup certainly runs while a write is open."""

    def __init__(self, app: Flask) -> None:
        super().__init__(daemon=True)
        self.app = app
        self.committed: list[str] = []
        self.open_lot = ""
        self.paused = threading.Event()
        self.resume = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                if len(self.committed) == 2 and not self.open_lot:
                    self._write_held_open()
                else:
                    self.committed.append(_register(self.app))
        except BaseException as err:
            self.error = err
            self.paused.set()

    def _write_held_open(self) -> None:
        with self.app.extensions["lotrack_db"].sessionmaker() as s:
            lot = lots.register_lot(
                s,
                user(s, "tech"),
                run_code=RUN,
                harvested_on=dt.date(2025, 12, 1),
                expires_on=dt.date(2026, 12, 1),
            )
            s.flush()
            self.open_lot = lot.lot_number
            self.paused.set()
            assert self.resume.wait(120), "the backup finished"
            s.commit()
            self.committed.append(lot.lot_number)


def test_a_backup_taken_while_writing_restores_every_table_and_the_chain(
    demo_app, target, tmp_path, monkeypatch
):
    for _ in range(3):
        _register(demo_app)  # some writes beyond the demo
    before = _lot_numbers(demo_app)
    writer = Writer(demo_app)
    writer.start()
    assert writer.paused.wait(60) and writer.error is None, writer.error
    path = tmp_path / "backups" / "lotrack.bak"
    try:
        taken = _cli(demo_app, "backup", str(path))
    finally:
        writer.resume.set()
    assert writer.paused.is_set()
    while len(writer.committed) < 6 and writer.error is None:
        writer.join(0.05)
    writer.stop.set()
    writer.join(60)
    assert writer.error is None, writer.error
    assert taken.exit_code == 0, taken.output
    assert "audit head at event" in taken.output

    manifest = json.loads(manifest_path(path).read_text())
    declared = {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    assert set(manifest["tables"]) == declared
    assert manifest["sha256"] and manifest["schema_revision"] and manifest["created_at"]
    assert manifest["key_id"] == demo_app.extensions["lotrack_audit_anchor"].key_id
    assert manifest["signature"]

    # The operator's own command line, in another process, on the fresh database, with the
    # facility's audit key (which signed the manifest) set as the operator sets it.
    monkeypatch.setenv("LOTRACK_AUDIT_KEY_FILE", target.config["LOTRACK_AUDIT_KEY_FILE"])
    done = _flask(target, "restore", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit chain intact" in done.stdout
    assert f"signed with the audit key {manifest['key_id']}, verified" in done.stdout

    restored = _counts(target)
    assert restored == manifest["tables"]
    assert restored["audit_event"] == manifest["audit_seq"] > 0
    with target.extensions["lotrack_db"].engine.connect() as conn:
        head = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
    assert (head.seq, head.hash) == (manifest["audit_seq"], manifest["audit_hash"])
    verified = _cli(target, "audit", "verify")
    assert verified.exit_code == 0, verified.output

    # A snapshot: what was committed before the backup, not the write that was still open.
    in_backup = _lot_numbers(target)
    assert before | set(writer.committed[:2]) <= in_backup
    assert writer.open_lot not in in_backup
    assert writer.open_lot in _lot_numbers(demo_app)

    # The restored audit trail is still append-only, to its owner's role too (the triggers came
    # back); the application's role has no UPDATE on it at all (PostgreSQL, db_roles.py).
    with (
        owner_engine(target) as engine,
        pytest.raises(DBAPIError, match="append-only"),
        engine.begin() as conn,
    ):
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 1"))
    if target.config["LOTRACK_OWNER_DATABASE_URL"]:
        engine = target.extensions["lotrack_db"].engine
        with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
            conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 1"))


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how, says", [("altered", "SHA-256"), ("truncated", "truncated")])
def test_a_damaged_backup_is_refused_and_nothing_is_restored(demo_app, target, tmp_path, how, says):
    path = tmp_path / "lotrack.bak"
    assert _cli(demo_app, "backup", str(path)).exit_code == 0
    _damage(path, how)
    refused = _cli(target, "restore", str(path))
    assert refused.exit_code != 0
    assert says in refused.output and "Traceback" not in refused.output
    assert inspect(target.extensions["lotrack_db"].engine).get_table_names() == []


def test_a_backup_without_its_manifest_is_refused(demo_app, target, tmp_path):
    path = tmp_path / "lotrack.bak"
    assert _cli(demo_app, "backup", str(path)).exit_code == 0
    manifest_path(path).unlink()
    refused = _cli(target, "restore", str(path))
    assert refused.exit_code != 0 and "No manifest" in refused.output


# --- the signed manifest ----------------------------------------------------------------------


def _our_key(app: Flask) -> Ed25519PrivateKey:
    key: Ed25519PrivateKey = app.extensions["lotrack_audit_anchor"].key
    return key


def _tampered(path: Path) -> dict[str, Any]:
    """What someone who can write the backup does: alter the file, then record its new SHA-256
    in the manifest (the signature still the old one)."""
    _damage(path, "altered")
    fields: dict[str, Any] = json.loads(manifest_path(path).read_text())
    fields["sha256"] = sha256_of(path)
    return fields


def _unsigned(path: Path) -> dict[str, Any]:
    fields: dict[str, Any] = json.loads(manifest_path(path).read_text())
    del fields["signature"], fields["key_id"]
    return fields


def _resigned_by_another_key(path: Path) -> dict[str, Any]:
    fields = _tampered(path)
    other = Ed25519PrivateKey.generate()
    return asdict(sign(Manifest(**{**fields, "signature": ""}), other))


def _resigned_claiming_our_key(path: Path) -> dict[str, Any]:
    """Another key's signature under our key's fingerprint: the fingerprint alone proves nothing."""
    fields = _tampered(path)
    fields["signature"] = Ed25519PrivateKey.generate().sign(payload(fields)).hex()
    return fields


@pytest.mark.parametrize(
    "forge, says",
    [
        (_unsigned, "is not signed"),
        (_tampered, "changed after it was signed"),
        (_resigned_by_another_key, "not by this facility's audit key"),
        (_resigned_claiming_our_key, "changed after it was signed"),
    ],
    ids=["unsigned", "edited-after-signing", "re-signed-by-another-key", "forged-fingerprint"],
)
def test_a_manifest_our_key_did_not_sign_is_refused_and_nothing_is_restored(
    demo_app, target, tmp_path, forge: Callable[[Path], dict[str, Any]], says: str
):
    path = tmp_path / "lotrack.bak"
    assert _cli(demo_app, "backup", str(path)).exit_code == 0
    manifest_path(path).write_text(json.dumps(forge(path), indent=2) + "\n")
    refused = _cli(target, "restore", str(path))
    assert refused.exit_code == 2, refused.output
    assert "Refused" in refused.output and says in refused.output, refused.output
    assert "Traceback" not in refused.output
    assert inspect(target.extensions["lotrack_db"].engine).get_table_names() == []


def test_another_facilitys_genuine_backup_is_refused(demo_app, backend, tmp_path):
    """A backup signed with another audit key than this app's (say, restored on a host whose
    key was generated afresh instead of mounted) is refused, the target left alone."""
    path = tmp_path / "lotrack.bak"
    assert _cli(demo_app, "backup", str(path)).exit_code == 0
    url = make_blank(backend)
    their_key = tmp_path / "elsewhere-keys" / "audit_checkpoint_key.pem"
    load_or_create_key(their_key)  # the other facility's own audit key
    elsewhere = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "elsewhere"),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_AUDIT_KEY_FILE": str(their_key),
        }
    )
    try:
        refused = _cli(elsewhere, "restore", str(path))
        assert refused.exit_code == 2, refused.output
        assert "not by this facility's audit key" in refused.output
        assert elsewhere.extensions["lotrack_audit_anchor"].key_id in refused.output
        assert inspect(elsewhere.extensions["lotrack_db"].engine).get_table_names() == []
    finally:
        elsewhere.extensions["lotrack_db"].engine.dispose()
        backend.drop(url)


def test_a_manifest_written_again_in_another_layout_still_verifies(demo_app, tmp_path):
    """The signature covers the fields, not the file's spacing or key order."""
    path = tmp_path / "lotrack.bak"
    assert _cli(demo_app, "backup", str(path)).exit_code == 0
    fields = json.loads(manifest_path(path).read_text())
    manifest_path(path).write_text(json.dumps(dict(reversed(fields.items()))))
    public = _our_key(demo_app).public_key()
    assert read_manifest(path, public).signature == fields["signature"]


def test_a_restored_chain_that_departs_from_its_signed_head_is_reported(demo_app, target, tmp_path):
    """The backup is genuine and signed, but the trail in it was rewritten and re-chained after
    a checkpoint: the restore is done, and said not to be trusted (exit 1)."""
    assert _cli(demo_app, "audit", "checkpoint").exit_code == 0
    _rewrite_and_rechain(demo_app, 3)
    path = tmp_path / "lotrack.bak"
    assert _cli(demo_app, "backup", str(path)).exit_code == 0
    restored = _cli(target, "restore", str(path))
    assert restored.exit_code == 1, restored.output
    assert "the chain departs from its head signed at event" in restored.output
    assert "does not match its backup" in restored.output


def test_restoring_over_data_needs_force(demo_app, tmp_path, backend, demo_template):
    path = tmp_path / "lotrack.bak"
    assert _cli(demo_app, "backup", str(path)).exit_code == 0
    manifest = json.loads(manifest_path(path).read_text())
    url = backend.clone(demo_template)
    # The same facility restoring: its checkpoint key comes along (the backup's checkpoints are
    # signed with it); another key would not vouch for them (tests/services/test_audit_anchor.py).
    key = demo_app.extensions["lotrack_audit_anchor"].key_file
    other = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "o"),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_OWNER_DATABASE_URL": backend.owner_url(url),
            "LOTRACK_AUDIT_KEY_FILE": str(key),
        }
    )
    try:
        extra = _register(other)  # data the backup does not hold
        before = _counts(other)
        refused = _cli(other, "restore", str(path))
        assert refused.exit_code != 0
        assert "holds data" in refused.output and "--force" in refused.output
        assert _counts(other) == before

        forced = _cli(other, "restore", "--force", str(path))
        assert forced.exit_code == 0, forced.output
        assert _counts(other) == manifest["tables"]
        assert extra not in _lot_numbers(other)
        assert _cli(other, "audit", "verify").exit_code == 0
    finally:
        other.extensions["lotrack_db"].engine.dispose()
        backend.drop(url)


def test_pg_dump_gets_the_password_in_its_environment_and_the_options_libpq_reads():
    """The process list shows no password; a `-c name=value` option reaches the server whole
    (libpq decodes %20, not SQLAlchemy's "+")."""
    url, env = pg_tools.libpq(
        "postgresql+psycopg://lab:s3cret@db.example:5433/lotrack"
        "?options=-c+statement_timeout%3D0&sslmode=require"
    )
    assert "s3cret" not in url and env["PGPASSWORD"] == "s3cret"
    assert url == (
        "postgresql://lab@db.example:5433/lotrack"
        "?options=-c%20statement_timeout%3D0&sslmode=require"
    )
