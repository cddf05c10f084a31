"""Verifying the audit chain: each event's hash recomputed over exactly the bytes the writer in
services/audit.py hashed, rebuilt straight from plain rows read in keyset batches."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, func, select, type_coerce
from sqlalchemy.orm import Session

from lotrack.domain.text import N_, Moment, said
from lotrack.models import AuditEvent, AuditHead
from lotrack.services.audit import GENESIS, canonical, plain


@dataclass(frozen=True)
class Resume:
    """Where a bounded walk stopped: the next event to check, the hash that event must link to
    (recomputed, not read), and the last event at which the signed checkpoints agreed."""

    next_seq: int
    prev_hash: str
    agreed: int


@dataclass(frozen=True)
class VerifyReport:
    ok: bool  # no break found among the events checked
    checked: int  # events 1 to `checked` verified
    broken_seq: int | None
    message: str
    resume: Resume | None = None  # set when the walk stopped at its bound: not finished


START = Resume(1, GENESIS, 0)


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


# PostgreSQL gives `at` already as plain(at) spells it, bar a zero fraction (see _iso_pg).
_PG_AT = 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'


def _stored_at(dialect: str) -> ColumnElement[str]:
    """`at` as text in UTC: SQLite's stored form "YYYY-MM-DD HH:MM:SS.ffffff" as it is (checked
    per row by _iso, since SQLite keeps whatever text was put there), PostgreSQL's made
    "YYYY-MM-DDTHH:MM:SS.ffffff+00:00" by to_char from a timestamptz, well formed by
    construction; turning either into the canonical form needs no datetime per row."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", AuditEvent.at), _PG_AT)
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


def _iso_pg(made: str) -> str:
    """plain(at) from PostgreSQL's to_char(_PG_AT) of a timestamptz: the same text, less a
    zero fraction (isoformat() writes none). Only for that text, which to_char always writes
    whole and valid (a timestamp PostgreSQL holds beyond year 9999 comes out longer and hashes
    as altered, where the ORM would refuse to read it)."""
    return made[:19] + "+00:00" if made[19:26] == ".000000" and len(made) == 32 else made


def at_reader(dialect: str) -> Callable[[str], str]:
    """How verify reads the `at` text stored_columns gives on this database."""
    return _iso_pg if dialect == "postgresql" else _iso


def canonical_stored(row: tuple[Any, ...], iso: Callable[[str], str] = _iso) -> str:
    """canonical(_row(event)) from a plain row (seq, stored at, actor_id, actor, action,
    entity_type, entity_id, changes, reason, prev_hash[, hash]): the same text, built directly
    in one f-string. `iso` reads the stored `at` (at_reader: PostgreSQL's to_char text)."""
    seq, at, actor_id, actor, action, entity_type, entity_id, changes, reason, prev_hash = row[:10]
    if type(seq) is int and (actor_id is None or type(actor_id) is int):
        try:
            return (
                f'{{"action":{_quote(action)},"actor":{_quote(actor)},'
                f'"actor_id":{"null" if actor_id is None else actor_id},"at":"{iso(at)}",'
                f'"changes":{_quote(changes)},"entity_id":{_quote(entity_id)},'
                f'"entity_type":{_quote(entity_type)},"prev_hash":{_quote(prev_hash)},'
                f'"reason":{_quote(reason)},"seq":{seq}}}'
            )
        except TypeError:  # a text column holding no text (NULL, say)
            pass
    plain_row = dict(zip(_FIELDS, row[:10], strict=True))  # the general encoder, as the writer's
    plain_row["at"] = None if at is None else _iso(at)
    return canonical(plain_row)


def stored_columns(dialect: str) -> tuple[ColumnElement[Any], ...]:
    """The columns verify reads: the canonical row's fields (`at` as stored text) and the hash."""
    return (AuditEvent.seq, _stored_at(dialect), *_ROW_COLUMNS[2:])


def _stored_batches(
    session: Session, after: int = 0, limit: int | None = None, batch: int = 10_000
) -> Iterator[list[tuple[Any, ...]]]:
    """(canonical row fields..., hash) in sequence order after `after`, at most `limit` of them,
    a batch at a time: one query streamed through the driver's own cursor in the session's
    transaction (a server-side cursor on PostgreSQL, so the chain never sits in memory whole)."""
    connection = session.connection()
    dialect = connection.dialect
    query = select(*stored_columns(dialect.name)).where(AuditEvent.seq > after)
    query = query.order_by(AuditEvent.seq)
    if limit is not None:
        query = query.limit(limit)
    # Only integers are bound (after, limit), so the statement is compiled with them inline and
    # handed to the driver as it is.
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    if dialect.name == "postgresql":
        cursor = driver.cursor(name="lotrack_audit_verify")  # type: ignore[union-attr]
        cursor.itersize = batch
    else:
        cursor = driver.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield rows
    finally:
        cursor.close()


def _stored_rows(
    session: Session, after: int = 0, limit: int | None = None
) -> Iterator[tuple[Any, ...]]:
    """_stored_batches, a row at a time."""
    for rows in _stored_batches(session, after, limit):
        yield from rows


def verify_chain(
    session: Session,
    signed: dict[int, list[Any]] | None = None,
    start: Resume = START,
    limit: int | None = None,
) -> VerifyReport:
    """Walk the chain in sequence order; name the first event whose link or content is broken,
    or where the recomputed chain departs from a signed checkpoint of its head (`signed`: the
    checkpoints, services/audit_anchor.py, by the sequence they signed, signatures checked).
    With `limit`, check at most that many events from `start` and say where to resume.

    Each event's hash is recomputed over exactly the bytes the writer hashed (row_hash of
    _row), rebuilt from plain rows (canonical_stored) rather than through objects."""
    signed = signed or {}
    prev, expected, agreed = start.prev_hash, start.next_seq, start.agreed
    checked = expected - 1
    sha256 = hashlib.sha256
    if expected == 1:
        for point in signed.get(0, ()):
            if point.head_hash != GENESIS:
                return _departs(point, 0, 0)
    walked = 0
    iso = at_reader(session.get_bind().dialect.name)
    for rows in _stored_batches(session, checked, limit):
        walked += len(rows)
        for row in rows:
            seq, stored_hash, prev_hash = row[0], row[10], row[9]
            if seq != expected:
                return VerifyReport(
                    False, checked, expected, said("event %(seq)s is missing", seq=expected)
                )
            if prev_hash != prev:
                return VerifyReport(
                    False,
                    checked,
                    seq,
                    said("event %(seq)s does not link to event %(prev)s", seq=seq, prev=seq - 1),
                )
            if sha256((prev + canonical_stored(row, iso)).encode()).hexdigest() != stored_hash:
                return VerifyReport(
                    False,
                    checked,
                    seq,
                    said("event %(seq)s was altered: its hash does not match", seq=seq),
                )
            prev, expected, checked = stored_hash, expected + 1, checked + 1
            if seq in signed:
                for point in signed[seq]:
                    if point.head_hash != stored_hash:
                        return _departs(point, agreed, checked - 1)
                agreed = seq
    if limit is not None and walked == limit:
        return VerifyReport(
            True,
            checked,
            None,
            said("%(num)s events verified so far, no break found", num=checked),
            Resume(expected, prev, agreed),
        )
    head = session.get(AuditHead, 1)
    if head is None or head.seq != checked or head.hash != prev:
        return VerifyReport(
            False,
            checked,
            checked + 1,
            said(
                "event %(seq)s is missing: the chain head records %(head)s events, %(num)s found",
                seq=checked + 1,
                head=head.seq if head else N_("nothing"),
                num=checked,
            ),
        )
    beyond = sorted(seq for seq in signed if seq > checked)
    if beyond:
        return VerifyReport(
            False,
            checked,
            checked + 1,
            said(
                "event %(seq)s is missing: a signed checkpoint vouches for %(signed)s events,"
                " %(num)s found",
                seq=checked + 1,
                signed=beyond[-1],
                num=checked,
            ),
        )
    if signed:
        return VerifyReport(
            True,
            checked,
            None,
            said(
                "audit chain intact: %(num)s events verified, and %(points)s signed checkpoints"
                " agree",
                num=checked,
                points=sum(len(points) for points in signed.values()),
            ),
        )
    return VerifyReport(
        True, checked, None, said("audit chain intact: %(num)s events verified", num=checked)
    )


def _departs(point: Any, agreed: int, checked: int) -> VerifyReport:
    """The recomputed chain and a signed head disagree: an event after the last checkpoint that
    agreed was rewritten, and the chain computed again over it."""
    return VerifyReport(
        False,
        checked,
        agreed + 1,
        said(
            "the chain departs from its head signed at event %(seq)s on %(at)s: an event from"
            " %(first)s to %(seq)s was rewritten and the chain computed again",
            seq=point.seq,
            at=Moment(dt.datetime.fromisoformat(point.made_at)),
            first=agreed + 1,
        ),
    )


def chain_length(session: Session) -> int:
    """How many events the chain head records now (what a walk in steps reports progress of)."""
    head = session.get(AuditHead, 1)
    return head.seq if head is not None else 0
