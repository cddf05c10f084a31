"""Signed checkpoints of the audit chain's head: the anchor outside the database.

The hash chain proves that nobody changed an event without re-computing every later hash; it
cannot stop someone with the database owner's rights from doing exactly that. A checkpoint is the
chain's head (sequence and hash) signed with an Ed25519 key that is kept outside the database
(a key file the operator may move off the host and mount read-only). It is written to the
database and appended to a checkpoint file (one JSON line each), which may be copied elsewhere as
it grows. A rewritten and re-chained event then shows: the recomputed hash at a checkpoint's
sequence differs from the signed one, and the rewriter cannot sign a new one without the key.

Written by `flask --app wsgi lotrack audit checkpoint`, before every backup, and checked by
`audit verify` (services/audit_verify.py) together with the chain.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.text import N_, Said, said
from lotrack.keys import key_id, sign_hex, verifies
from lotrack.models import AuditCheckpoint, AuditHead
from lotrack.services.audit import GENESIS
from lotrack.services.audit_verify import VerifyReport

FORMAT = "lotrack-audit-checkpoint/1"
SOURCES = (N_("database"), N_("file"))  # where a checkpoint was read, as a refusal names it


@dataclass(frozen=True)
class Anchor:
    """The checkpoint key and file the edges pass in from configuration."""

    key: Ed25519PrivateKey
    file: Path
    key_file: Path | None = None  # where the key was read from (said by the CLI, moved by ops)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head_hash: str
    made_at: str  # ISO 8601, UTC, to the second: part of what is signed
    key_id: str
    signature: str
    source: str = "database"  # or "file"

    def payload(self) -> bytes:
        return payload(self.seq, self.head_hash, self.made_at)


def payload(seq: int, head_hash: str, made_at: str) -> bytes:
    """What a checkpoint signs: plain text anyone can read and check with the public key."""
    return f"{FORMAT}|seq={seq}|hash={head_hash}|at={made_at}".encode()


def signed_by(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    return verifies(public, checkpoint.signature, checkpoint.payload()) and (
        checkpoint.key_id == key_id(public)
    )


def make_checkpoint(session: Session, anchor: Anchor) -> Checkpoint:
    """Sign the chain's head as it is now and store it in the caller's transaction; once that
    commits, the caller files it (`file_checkpoint`): a line is never written for a row that
    was not kept, so every filed checkpoint must be found in the database."""
    head = session.get(AuditHead, 1)
    seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    made_at = utcnow().replace(microsecond=0)
    stamp = made_at.isoformat()
    signature = sign_hex(anchor.key, payload(seq, head_hash, stamp))
    session.add(
        AuditCheckpoint(
            seq=seq, head_hash=head_hash, made_at=made_at, key_id=anchor.key_id, signature=signature
        )
    )
    session.flush()
    return Checkpoint(seq, head_hash, stamp, anchor.key_id, signature)


def file_checkpoint(anchor: Anchor, checkpoint: Checkpoint) -> None:
    """Append a committed checkpoint to the checkpoint file."""
    _append(anchor.file, checkpoint)


def _append(path: Path, checkpoint: Checkpoint) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(
        {
            "format": FORMAT,
            "seq": checkpoint.seq,
            "hash": checkpoint.head_hash,
            "at": checkpoint.made_at,
            "key_id": checkpoint.key_id,
            "signature": checkpoint.signature,
        },
        sort_keys=True,
    )
    # O_APPEND: each line lands whole at the end, whatever other writer appends at once.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def stored_checkpoints(session: Session) -> list[Checkpoint]:
    rows = session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.seq, AuditCheckpoint.id)
    )
    return [
        Checkpoint(
            r.seq,
            r.head_hash,
            r.made_at.astimezone(dt.UTC).replace(microsecond=0).isoformat(),
            r.key_id,
            r.signature,
        )
        for r in rows
    ]


def filed_checkpoints(path: Path) -> tuple[list[Checkpoint], list[str]]:
    """The file's checkpoints, and each line that is not one (named by its number)."""
    if not path.exists():
        return [], []
    found: list[Checkpoint] = []
    unreadable: list[str] = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            found.append(
                Checkpoint(
                    int(data["seq"]),
                    str(data["hash"]),
                    str(data["at"]),
                    str(data["key_id"]),
                    str(data["signature"]),
                    source="file",
                )
            )
        except (ValueError, KeyError, TypeError):
            unreadable.append(f"{path.name} line {number}")
    return found, unreadable


def signed_heads(
    session: Session, anchor: Anchor
) -> tuple[VerifyReport | None, dict[int, list[Checkpoint]]]:
    """Every checkpoint, from the database and the file, by the sequence it signed; or the
    refusal to trust them: a line that is not a checkpoint, a signature this facility's key did
    not make, or a filed checkpoint the database no longer holds (deleted behind the app)."""
    stored = stored_checkpoints(session)
    filed, unreadable = filed_checkpoints(anchor.file)
    if unreadable:
        return _broken(said("%(where)s is not a checkpoint", where=unreadable[0])), {}
    refused = _first_unsigned([*stored, *filed], anchor.public_key)
    if refused is not None:
        return refused, {}
    in_database = {point.signature for point in stored}
    for point in filed:
        if point.signature not in in_database:
            return _broken(
                said(
                    "the checkpoint of event %(seq)s in %(file)s is missing from the database:"
                    " checkpoints were deleted",
                    seq=point.seq,
                    file=anchor.file.name,
                ),
                point.seq,
            ), {}
    return None, _by_seq(stored)


def stored_heads(
    session: Session, public: Ed25519PublicKey
) -> tuple[VerifyReport | None, dict[int, list[Checkpoint]]]:
    """The database's own checkpoints by sequence, or the refusal of one `public` did not sign."""
    # The checkpoint file is not read: a restored database rightly lacks the checkpoints signed
    # after its backup was taken, which the file holds.
    stored = stored_checkpoints(session)
    refused = _first_unsigned(stored, public)
    return (refused, {}) if refused is not None else (None, _by_seq(stored))


def _first_unsigned(points: list[Checkpoint], public: Ed25519PublicKey) -> VerifyReport | None:
    for point in points:
        if not signed_by(point, public):
            return _broken(
                said(
                    "the checkpoint of event %(seq)s (%(source)s) is not signed by this"
                    " facility's checkpoint key",
                    seq=point.seq,
                    source=Said(point.source),
                ),
                point.seq,
            )
    return None


def _by_seq(points: list[Checkpoint]) -> dict[int, list[Checkpoint]]:
    signed: dict[int, list[Checkpoint]] = {}
    for point in points:
        signed.setdefault(point.seq, []).append(point)
    return signed


def _broken(message: str, seq: int | None = None) -> VerifyReport:
    return VerifyReport(False, 0, seq, message)


class Schedule:
    """When this process signs the head next: every `minutes`, on the first successful request
    after the time has come (one signer at a time; a failure tries again a minute later)."""

    def __init__(self, minutes: int) -> None:
        self.seconds = minutes * 60
        self.next_at = time.monotonic() + self.seconds
        self._lock = threading.Lock()

    def claim(self) -> bool:
        """True for the one caller that should sign now (it must call `done` or `failed`)."""
        if not self.seconds or time.monotonic() < self.next_at:
            return False
        if not self._lock.acquire(blocking=False):
            return False
        self.next_at = time.monotonic() + self.seconds
        return True

    def done(self) -> None:
        self._lock.release()

    def failed(self) -> None:
        self.next_at = time.monotonic() + min(60, self.seconds)
        self._lock.release()


def checkpoint_if_moved(session: Session, anchor: Anchor) -> Checkpoint | None:
    """A checkpoint of the head unless the last one already signed it (nothing new to vouch for)."""
    head = session.get(AuditHead, 1)
    last = session.scalar(select(AuditCheckpoint.seq).order_by(AuditCheckpoint.id.desc()).limit(1))
    if head is None or last == head.seq:
        return None
    return make_checkpoint(session, anchor)
