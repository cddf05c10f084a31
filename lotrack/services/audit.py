"""The one place that writes the audit trail, seals its hash chain, and verifies it.

Services call `created`, `changed` or `event`; the rows are chained and inserted right before the
transaction commits, under the head row's lock, so the critical section every writer shares is the
insert of its own few audit rows and the commit, nothing more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, func, inspect, select, text, type_coerce
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from lotrack.db import Base, utcnow
from lotrack.domain.errors import ValidationFailed
from lotrack.models import AuditEvent, AuditHead, User

GENESIS = "0" * 64
PENDING_KEY = "lotrack_audit_pending"
SYSTEM = "system"


@dataclass
class _Pending:
    actor: User | None
    action: str
    entity: Base | tuple[str, str]
    changes: dict[str, list[Any]]
    reason: str


def plain(value: Any) -> Any:
    """A value as it is written into the canonical JSON of an audit row."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        # A file is kept in its own row; the trail records which bytes, not the bytes again.
        return f"sha256:{hashlib.sha256(value).hexdigest()} ({len(value)} bytes)"
    return value


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Secrets are never copied into the append-only trail: the event says they were set, not what.
REDACTED = frozenset({"password_hash", "token_hash"})


def _columns(obj: Base) -> dict[str, Any]:
    return {
        c.key: "[redacted]" if c.key in REDACTED else plain(getattr(obj, c.key))
        for c in inspect(obj).mapper.column_attrs
    }


def _queue(session: Session, item: _Pending) -> None:
    session.info.setdefault(PENDING_KEY, []).append(item)


def created(session: Session, actor: User | None, obj: Base, reason: str = "") -> None:
    """Audit a new record: every column, from nothing to its value (resolved at seal time)."""
    session.add(obj)
    _queue(session, _Pending(actor, "create", obj, {}, reason))


def changed(
    session: Session, actor: User | None, obj: Base, new_values: dict[str, Any], reason: str
) -> dict[str, list[Any]]:
    """Change fields of an existing record; a reason is required and old -> new is kept."""
    if not (reason or "").strip():
        raise ValidationFailed(
            "A reason is required to change an existing record.",
            {"reason": "required to change an existing record"},
        )
    diff: dict[str, list[Any]] = {}
    for name, new in new_values.items():
        old = getattr(obj, name)
        if plain(old) != plain(new):
            diff[name] = [plain(old), plain(new)]
            setattr(obj, name, new)
    if diff:
        _queue(session, _Pending(actor, "update", obj, diff, reason.strip()))
    return diff


def event(
    session: Session,
    actor: User | None,
    action: str,
    entity: Base | tuple[str, str],
    details: dict[str, Any] | None = None,
    reason: str = "",
    *,
    transitions: dict[str, tuple[Any, Any]] | None = None,
) -> None:
    """Audit an act that is not a plain edit: a login, a withdrawal, a state change.

    `details` are recorded as new values; `transitions` as (old, new) pairs.
    """
    changes = {k: [None, plain(v)] for k, v in (details or {}).items()}
    changes.update({k: [plain(o), plain(n)] for k, (o, n) in (transitions or {}).items()})
    _queue(session, _Pending(actor, action, entity, changes, reason))


def _entity_key(entity: Base | tuple[str, str]) -> tuple[str, str]:
    if isinstance(entity, tuple):
        return entity
    ident = inspect(entity).identity
    return entity.__tablename__, ":".join(str(i) for i in ident or ())


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(row)).encode()).hexdigest()


def _row(ev: Any) -> dict[str, Any]:
    """The canonical content of an event (an AuditEvent or a row with the same columns)."""
    return {
        "seq": ev.seq,
        "at": plain(ev.at),
        "actor_id": ev.actor_id,
        "actor": ev.actor,
        "action": ev.action,
        "entity_type": ev.entity_type,
        "entity_id": ev.entity_id,
        "changes": ev.changes,
        "reason": ev.reason,
        "prev_hash": ev.prev_hash,
    }


def seal(session: Session) -> None:
    """Chain and insert the pending events. Called before commit; the head lock is held to it."""
    pending: list[_Pending] = session.info.pop(PENDING_KEY, [])
    if not pending:
        return
    session.flush()  # primary keys of new records are needed for entity ids
    n = len(pending)
    head = session.execute(
        text("UPDATE audit_head SET seq = seq + :n WHERE id = 1 RETURNING seq, hash"), {"n": n}
    ).one()
    seq, prev = head.seq - n, head.hash
    # Stamped under the head's lock, so time never runs backwards along the sequence.
    at = utcnow()
    for item in pending:
        seq += 1
        entity_type, entity_id = _entity_key(item.entity)
        changes = item.changes
        if item.action == "create" and not isinstance(item.entity, tuple):
            changes = {k: [None, v] for k, v in _columns(item.entity).items() if v is not None}
        ev = AuditEvent(
            seq=seq,
            at=at,
            actor_id=item.actor.id if item.actor else None,
            actor=item.actor.username if item.actor else SYSTEM,
            action=item.action,
            entity_type=entity_type,
            entity_id=entity_id,
            changes=canonical(changes),
            reason=item.reason,
            prev_hash=prev,
        )
        ev.hash = row_hash(prev, _row(ev))
        prev = ev.hash
        session.add(ev)
    session.flush()
    session.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})


@sa_event.listens_for(Session, "before_commit")
def _seal_before_commit(session: Session) -> None:
    seal(session)


@sa_event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    checked: int
    broken_seq: int | None
    message: str


_ROW_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.at,
    AuditEvent.actor_id,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.entity_type,
    AuditEvent.entity_id,
    AuditEvent.changes,
    AuditEvent.reason,
    AuditEvent.prev_hash,
    AuditEvent.hash,
)


def _events(session: Session, batch: int = 5000) -> Iterator[Any]:
    """Plain rows in sequence order, in batches: no ORM objects, so the caller's session is
    left as it was and a long chain does not fill memory."""
    last = 0
    while True:
        rows = session.execute(
            select(*_ROW_COLUMNS).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


# --- verifying: the writer's canonical bytes, rebuilt straight from plain tuples ----------------

_quote = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) quotes with
_fromisoformat = dt.datetime.fromisoformat
_FIELDS = tuple(column.key for column in _ROW_COLUMNS[:10])  # the canonical row's, in order


def _stored_at(dialect: str) -> ColumnElement[str]:
    """`at` as text "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: SQLite's stored form, PostgreSQL's made
    so; turning it into the canonical form needs no datetime per row."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", AuditEvent.at), "YYYY-MM-DD HH24:MI:SS.US")
    return type_coerce(AuditEvent.at, String)


def _iso(stored: str) -> str:
    """plain(at) from the stored text, as the ORM reads it: fromisoformat, a naive time is UTC."""
    moment = _fromisoformat(stored)  # refuses what the ORM refuses, the same way
    if (
        moment.tzinfo is None
        and len(stored) == 26
        and stored[7] == "-"  # YYYY-MM-DD, not a week date
        and stored[10] == " "
        and stored[19] == "."
    ):
        # The stored form "YYYY-MM-DD HH:MM:SS.ffffff": isoformat() gives the same digits, with
        # T, the UTC offset and no fraction when it is zero.
        if stored.endswith("000000"):
            return stored[:19].replace(" ", "T") + "+00:00"
        return stored.replace(" ", "T") + "+00:00"
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
    return str(plain(moment))


def canonical_stored(row: tuple[Any, ...]) -> str:
    """canonical(_row(event)) from a plain row (seq, stored at, actor_id, actor, action,
    entity_type, entity_id, changes, reason, prev_hash): the same text, built directly."""
    seq, at, actor_id, actor, action, entity_type, entity_id, changes, reason, prev_hash = row
    if type(seq) is int and (actor_id is None or type(actor_id) is int):
        try:
            return (
                f'{{"action":{_quote(action)},"actor":{_quote(actor)},'
                f'"actor_id":{"null" if actor_id is None else actor_id},"at":"{_iso(at)}",'
                f'"changes":{_quote(changes)},"entity_id":{_quote(entity_id)},'
                f'"entity_type":{_quote(entity_type)},"prev_hash":{_quote(prev_hash)},'
                f'"reason":{_quote(reason)},"seq":{seq}}}'
            )
        except TypeError:  # a text column holding no text (NULL, say)
            pass
    plain_row = dict(zip(_FIELDS, row, strict=True))  # the general encoder, as the writer's
    plain_row["at"] = None if at is None else _iso(at)
    return canonical(plain_row)


def _stored_rows(session: Session, batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    """(canonical row fields..., hash) in sequence order, in keyset batches of plain tuples."""
    connection = session.connection()
    columns = (AuditEvent.seq, _stored_at(connection.dialect.name), *_ROW_COLUMNS[2:])
    last = 0
    while True:
        rows = connection.execute(
            select(*columns).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


def verify(session: Session) -> VerifyReport:
    """Walk the chain in sequence order; name the first event whose link or content is broken.

    Each event's hash is recomputed over exactly the bytes the writer hashed (row_hash of
    _row), rebuilt from plain rows (canonical_stored) rather than through objects."""
    prev, expected, checked = GENESIS, 1, 0
    sha256 = hashlib.sha256
    for row in _stored_rows(session):
        seq, stored_hash, prev_hash = row[0], row[10], row[9]
        if seq != expected:
            return VerifyReport(False, checked, expected, f"event {expected} is missing")
        if prev_hash != prev:
            return VerifyReport(
                False, checked, seq, f"event {seq} does not link to event {seq - 1}"
            )
        if sha256((prev + canonical_stored(row[:10])).encode()).hexdigest() != stored_hash:
            return VerifyReport(
                False, checked, seq, f"event {seq} was altered: its hash does not match"
            )
        prev, expected, checked = stored_hash, expected + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is None or head.seq != checked or head.hash != prev:
        return VerifyReport(
            False,
            checked,
            checked + 1,
            f"event {checked + 1} is missing: the chain head records "
            f"{head.seq if head else 'nothing'} events, {checked} found",
        )
    return VerifyReport(True, checked, None, f"audit chain intact: {checked} events verified")


def history(session: Session, entity_type: str, entity_id: str) -> list[AuditEvent]:
    """Every event of one record, oldest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.seq)
        )
    )


@dataclass(frozen=True)
class AuditPage:
    """One page of the audit trail, newest event first."""

    items: list[AuditEvent]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(
    session: Session,
    *,
    actor: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """Events matching every filter given, newest first, one page at a time.

    `actor` is a username ("system" for events no user made); `since` is inclusive and `until`
    exclusive, both timezone-aware.
    """
    fields: dict[str, str] = {}
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            fields[name] = "a timezone-aware time"
    if since and until and not fields and until <= since:
        fields["until"] = "after since"
    if page < 1:
        fields["page"] = "1 or more"
    if not 1 <= per_page <= 500:
        fields["per_page"] = "between 1 and 500"
    if fields:
        raise ValidationFailed(
            "The audit trail cannot be searched: "
            + "; ".join(f"{k}: {v}" for k, v in fields.items()),
            fields,
        )
    where = []
    if actor:
        name = actor.strip().lower()
        user_id = session.scalar(select(User.id).where(User.username == name))
        if user_id is not None:
            where.append(AuditEvent.actor_id == user_id)  # indexed
        elif name == SYSTEM:
            where.append(AuditEvent.actor_id.is_(None))
        else:
            where.append(AuditEvent.actor == name)
    if entity_type:
        where.append(AuditEvent.entity_type == entity_type)
    if entity_id:
        where.append(AuditEvent.entity_id == entity_id)
    if since is not None:
        where.append(AuditEvent.at >= since)
    if until is not None:
        where.append(AuditEvent.at < until)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    items = session.scalars(
        select(AuditEvent)
        .where(*where)
        .order_by(AuditEvent.seq.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return AuditPage(list(items), total, page, per_page)
