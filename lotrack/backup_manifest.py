"""A backup's manifest (`<file>.manifest.json`): what the backup holds (schema revision, every
table's row count, the audit chain's head) and the file's size and SHA-256, read back and checked
against the file before anything is restored.

The manifest is signed with the audit checkpoint key (keys.py), the one key the operator keeps off
the host: whoever can write the backup can recompute its SHA-256, but cannot sign the changed
manifest. The signature sits inside the manifest, beside the fingerprint (`key_id`) of the key that
made it, so the two cannot be parted and a manifest without one is plainly unsigned. What is signed
is every other field, the fingerprint and the SHA-256 included, as canonical JSON (`payload`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lotrack.keys import key_id, sign_hex, verifies
from lotrack.migrate import MIGRATIONS

MANIFEST_SUFFIX = ".manifest.json"
FORMAT = "lotrack-backup/2"  # /1 manifests were not signed, and are refused as unsigned


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
    key_id: str = ""  # the fingerprint of the public key that verifies `signature`
    signature: str = ""  # Ed25519, hex, over `payload` of every other field

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def payload(fields: dict[str, Any]) -> bytes:
    """What a manifest's signature signs: every field but the signature, as canonical JSON."""
    # Sorted keys, no spaces, ASCII: the file itself may be re-indented without breaking it.
    signed = {name: value for name, value in fields.items() if name != "signature"}
    return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign(manifest: Manifest, key: Ed25519PrivateKey) -> Manifest:
    """The manifest with `key`'s fingerprint and its signature over all of it."""
    unsigned = replace(manifest, key_id=key_id(key.public_key()), signature="")
    return replace(unsigned, signature=sign_hex(key, payload(asdict(unsigned))))


def _refuse_unless_signed(fields: dict[str, Any], trusted: Ed25519PublicKey, mpath: Path) -> None:
    """Refuse a manifest that is unsigned, signed by another key, or changed since it was signed."""
    signature, signer, ours = fields.get("signature"), fields.get("key_id"), key_id(trusted)
    if not signature or not isinstance(signature, str):
        raise BackupError(
            f"Refused: the manifest {mpath} is not signed. Restore accepts only a manifest signed "
            f"with this facility's audit key ({ours}); a backup made before backups were signed "
            "must be restored with the lotrack version that made it."
        )
    if signer != ours:
        raise BackupError(
            f"Refused: the manifest {mpath} was signed by key {signer or '(not named)'}, not by "
            f"this facility's audit key {ours} (LOTRACK_AUDIT_KEY_FILE); it is not this "
            "facility's backup, or it was re-signed."
        )
    if not verifies(trusted, signature, payload(fields)):
        raise BackupError(
            f"Refused: the signature of the manifest {mpath} does not verify with this "
            f"facility's audit key {ours}: the manifest was changed after it was signed."
        )


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def write_manifest(path: Path, manifest: Manifest) -> None:
    """Write the manifest of the backup at `path` beside it, readable by its owner only."""
    _write_private(manifest_path(path), json.dumps(asdict(manifest), indent=2) + "\n")


def _write_private(path: Path, content: str) -> None:
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content)
    os.replace(tmp, path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(path: Path, trusted: Ed25519PublicKey) -> Manifest:
    """The manifest beside `path`, signed by `trusted`, checked against the file it describes."""
    path = Path(path)
    mpath = manifest_path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    if not mpath.is_file():
        raise BackupError(f"No manifest at {mpath}: the backup is incomplete or not lotrack's.")
    try:
        data = json.loads(mpath.read_text())
    except ValueError as err:
        raise BackupError(f"The manifest {mpath} cannot be read: {err}") from err
    if not isinstance(data, dict):
        raise BackupError(f"The manifest {mpath} cannot be read: it is not a JSON object.")
    # The signature first: nothing an unsigned or altered manifest says is believed.
    _refuse_unless_signed(data, trusted, mpath)
    try:
        manifest = Manifest(**data)
    except TypeError as err:
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


def check_revision(manifest: Manifest) -> list[str]:
    """Refuse a schema revision this code does not know; note one it can migrate forward."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    if manifest.schema_revision == head:
        return []
    try:
        script.get_revision(manifest.schema_revision)
    except Exception as err:  # alembic raises several kinds for an unknown id
        raise BackupError(
            f"The backup's schema revision {manifest.schema_revision} is unknown to this "
            f"version of lotrack (head {head}); restore it with the version that made it."
        ) from err
    return [
        f"the backup is at schema revision {manifest.schema_revision}, this code at {head}: "
        "run `flask --app wsgi lotrack init` to migrate it"
    ]
