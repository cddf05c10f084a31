"""Several hosts, one PostgreSQL: the label key, the audit key and the session secret come from
configured files every host shares; only the embedded SQLite set-up makes its own on first run.
A PostgreSQL app without them does not start, and says which setting to set."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lotrack import create_app
from lotrack.config import build_config
from lotrack.keys import KeyFileMissing, create_key_files, main

PG = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # never reached: the keys are read first
SHARED = ("LOTRACK_LABEL_KEY_FILE", "LOTRACK_AUDIT_KEY_FILE", "LOTRACK_SECRET_KEY_FILE")


@pytest.fixture
def no_shared_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*SHARED, "LOTRACK_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_sqlite_makes_its_own_keys_in_the_instance_folder(tmp_path: Path, no_shared_keys) -> None:
    app = create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True})
    for name in ("label_signing_key.pem", "audit_checkpoint_key.pem", "secret_key"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    app.extensions["lotrack_db"].engine.dispose()


def test_postgresql_without_a_session_secret_does_not_start(tmp_path: Path, no_shared_keys):
    with pytest.raises(KeyFileMissing, match="LOTRACK_SECRET_KEY"):
        build_config(tmp_path, {"LOTRACK_DATABASE_URL": PG})
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("missing", ["LOTRACK_LABEL_KEY_FILE", "LOTRACK_AUDIT_KEY_FILE"])
def test_postgresql_without_a_shared_key_file_does_not_start(
    tmp_path: Path, no_shared_keys, missing: str
) -> None:
    shared = create_key_files(tmp_path / "keys")
    settings = {name: str(path) for name, path in shared.items()}
    settings[missing] = str(tmp_path / "nowhere.pem")
    with pytest.raises(KeyFileMissing, match=missing):
        create_app({"INSTANCE_PATH": str(tmp_path / "i"), "LOTRACK_DATABASE_URL": PG, **settings})
    assert not (tmp_path / "nowhere.pem").exists()  # never made up on the spot


def test_two_apps_with_the_shared_files_sign_alike(tmp_path: Path, no_shared_keys) -> None:
    shared = {name: str(path) for name, path in create_key_files(tmp_path / "keys").items()}
    apps = [
        create_app({"INSTANCE_PATH": str(tmp_path / host), "LOTRACK_DATABASE_URL": PG, **shared})
        for host in ("a", "b")
    ]
    a, b = (app.extensions["lotrack_signing_key"] for app in apps)
    assert b.public_key().verify(a.sign(b"U:A999926000001"), b"U:A999926000001") is None
    assert apps[0].config["SECRET_KEY"] == apps[1].config["SECRET_KEY"]
    audit = [app.extensions["lotrack_audit_anchor"].key_file for app in apps]
    assert audit[0] == audit[1] == Path(shared["LOTRACK_AUDIT_KEY_FILE"])


def test_the_key_command_never_replaces_a_key(tmp_path: Path, capsys) -> None:
    assert main(["create", str(tmp_path / "keys")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert sorted(line.split("=")[0] for line in printed) == sorted(SHARED)
    before = (tmp_path / "keys" / "label_signing_key.pem").read_bytes()
    assert main(["create", str(tmp_path / "keys")]) == 1
    assert "not replaced" in capsys.readouterr().err
    assert (tmp_path / "keys" / "label_signing_key.pem").read_bytes() == before
    assert main(["make"]) == 2
