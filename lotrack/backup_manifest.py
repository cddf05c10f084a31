"""A backup's manifest (`<file>.manifest.json`): what the backup holds (schema revision, every
table's row count, the audit chain's head) and the file's size and SHA-256, read back and checked
against the file before anything is restored."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_SUFFIX = ".manifest.json"
FORMAT = "lotrack-backup/1"


class BackupError(Exception):
    """A backup or restore that cannot proceed; the message says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Manifest:
    format: str
    dialect: str
    schema_revision: str | None
    tables: dict[str, int]
    audit_seq: int
    audit_hash: str
    sha256: str
    size: int
    created_at: str
    file: str

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path: Path) -> Manifest:
    """The manifest beside `path`, checked against the file: a changed or cut file is refused."""
    path = Path(path)
    mpath = manifest_path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    if not mpath.is_file():
        raise BackupError(f"No manifest at {mpath}: the backup is incomplete or not lotrack's.")
    try:
        data: dict[str, Any] = json.loads(mpath.read_text())
        manifest = Manifest(**data)
    except (ValueError, TypeError) as err:
        raise BackupError(f"The manifest {mpath} cannot be read: {err}") from err
    if manifest.format != FORMAT:
        raise BackupError(f"The manifest's format is {manifest.format!r}, not {FORMAT!r}.")
    size = path.stat().st_size
    if size != manifest.size:
        raise BackupError(
            f"Refused: {path} is {size} bytes but its manifest records {manifest.size}; "
            "the backup file is truncated or was altered."
        )
    if sha256_of(path) != manifest.sha256:
        raise BackupError(
            f"Refused: the SHA-256 of {path} does not match its manifest; "
            "the backup file was altered or damaged."
        )
    return manifest
