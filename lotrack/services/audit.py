"""The one place that writes the audit trail, seals its hash chain, and verifies it.

Services call `created`, `changed` or `event`; the rows are chained and inserted right before the
transaction commits, under the head row's lock, so the critical section every writer shares is the
insert of its own few audit rows and the commit, nothing more.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.orm import Session

from lotrack.db import Base, utcnow
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, said
from lotrack.models import AuditEvent, AuditHead, User
from lotrack.services.common import in_turn

if TYPE_CHECKING:
    from lotrack.services.audit_anchor import Anchor
    from lotrack.services.audit_verify import Resume, VerifyReport

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
            N_("A reason is required to change an existing record."),
            {"reason": N_("required to change an existing record")},
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


def entity_key(entity: Base | tuple[str, str]) -> tuple[str, str]:
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


# Built once: every audited write runs them, and a prebuilt statement skips rebuilding its
# cache key each time.
_CLAIM = text("UPDATE audit_head SET seq = seq + :n WHERE id = 1 RETURNING seq, hash")
_INSERT = insert(AuditEvent)
_MOVE_HEAD = text("UPDATE audit_head SET hash = :h WHERE id = 1")


def seal(session: Session) -> None:
    """Chain and insert the pending events. Called before commit; the head lock is held to it."""
    pending: list[_Pending] = session.info.pop(PENDING_KEY, [])
    if not pending:
        return
    session.flush()  # primary keys of new records are needed for entity ids
    n = len(pending)
    head = session.execute(_CLAIM, {"n": n}).one()
    seq, prev = head.seq - n, head.hash
    # Stamped under the head's lock, so time never runs backwards along the sequence.
    at = utcnow()
    at_plain = plain(at)
    rows = []
    for item in pending:
        seq += 1
        entity_type, entity_id = entity_key(item.entity)
        changes = item.changes
        if item.action == "create" and not isinstance(item.entity, tuple):
            changes = {k: [None, v] for k, v in _columns(item.entity).items() if v is not None}
        row = {
            "seq": seq,
            "at": at_plain,
            "actor_id": item.actor.id if item.actor else None,
            "actor": item.actor.username if item.actor else SYSTEM,
            "action": item.action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "changes": canonical(changes),
            "reason": item.reason,
            "prev_hash": prev,
        }
        # The hashed content is _row's (the canonical row verify rebuilds); `at` is stored as
        # the moment itself.
        prev = row_hash(prev, row)
        rows.append(row | {"at": at, "hash": prev})
    # One executemany of plain rows: the events are never read back in this transaction.
    session.execute(_INSERT, rows)
    session.execute(_MOVE_HEAD, {"h": prev})


@sa_event.listens_for(Session, "before_commit")
def _seal_before_commit(session: Session) -> None:
    seal(session)


@sa_event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def verify(
    session: Session,
    anchor: Anchor | None = None,
    start: Resume | None = None,
    limit: int | None = None,
) -> VerifyReport:
    """Walk the chain in sequence order; name the first event whose link or content is broken
    (services/audit_verify.py rebuilds exactly the bytes this module's writer hashed) and, with
    the checkpoint `anchor`, the first signed head the recomputed chain departs from. With
    `limit`, one bounded step of the walk from `start` (the report says where to resume)."""
    # Both read what this module writes; imported here, as they import this module.
    from lotrack.services.audit_anchor import signed_heads
    from lotrack.services.audit_verify import START, verify_chain

    start = start or START
    if anchor is None:
        return verify_chain(session, None, start, limit)
    refused, signed = signed_heads(session, anchor)
    return refused or verify_chain(session, signed, start, limit)


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
            fields[name] = said("a timezone-aware time")
    if since and until and not fields and until <= since:
        fields["until"] = said("after since")
    if page < 1:
        fields["page"] = said("1 or more")
    if not 1 <= per_page <= 500:
        fields["per_page"] = said("between 1 and 500")
    if fields:
        # Built apart from the sentence it goes into, so that pybabel finds its template.
        each = [said("%(field)s: %(reason)s", field=k, reason=v) for k, v in fields.items()]
        raise ValidationFailed(
            said(
                "The audit trail cannot be searched: %(details)s",
                details=in_turn(each),
            ),
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
    if where:
        total = session.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    else:
        # The whole trail: the head counts it (events are numbered 1 to head.seq, none ever
        # removed), where COUNT(*) would read a million rows for every page.
        total = session.scalar(select(AuditHead.seq).where(AuditHead.id == 1)) or 0
    items = session.scalars(
        select(AuditEvent)
        .where(*where)
        .order_by(AuditEvent.seq.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return AuditPage(list(items), total, page, per_page)
