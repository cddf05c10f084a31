"""A lot's audit timeline: every event on the lot and on each record of its dossier (units,
results, investigations, deviations, signatures, exceptional releases, holds and recalls, and who
was notified of them), in sequence order, for audit review and export; records and the records
their changes refer to are named as people name them (services/record_names.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from lotrack.domain.parts import Part
from lotrack.models import (
    AuditEvent,
    ContainmentLot,
    Deviation,
    ExceptionalRelease,
    Investigation,
    Lot,
    Notification,
    Result,
    RetainedSample,
    RetainedSampleWithdrawal,
    Signature,
    Unit,
)
from lotrack.services import record_names

COLUMNS = ("seq", "at_utc", "actor", "action", "record", "changes", "reason")


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str  # UTC, as the CSV export writes it
    actor: str
    action: str
    record: str
    changes: str
    reason: str
    moment: dt.datetime  # the same time, for pages and the PDF to show in the reader's zone

    def row(self) -> list[Any]:
        return [self.seq, self.at, self.actor, self.action, self.record, self.changes, self.reason]


def _ids(session: Session, column: Any, where: Any) -> list[str]:
    return [str(i) for i in session.scalars(select(column).where(where))]


def _dossier(session: Session, lot: Lot) -> Any:
    """Which audit events belong to the lot's dossier: a WHERE clause (a fixed number of
    queries finds the records' ids)."""
    keys: dict[str, list[str]] = {
        "lot": [str(lot.id)],
        "unit": _ids(session, Unit.id, Unit.lot_id == lot.id),
        "result": _ids(session, Result.id, Result.lot_id == lot.id),
        "investigation": _ids(session, Investigation.id, Investigation.lot_id == lot.id),
        "signature": _ids(session, Signature.id, Signature.lot_id == lot.id),
        "deviation": _ids(
            session,
            Deviation.id,
            or_(Deviation.lot_id == lot.id, Deviation.run_id == lot.run_id),
        ),
        "exceptional_release": _ids(
            session, ExceptionalRelease.id, ExceptionalRelease.lot_id == lot.id
        ),
        "containment": _ids(
            session, ContainmentLot.containment_id, ContainmentLot.lot_id == lot.id
        ),
    }
    keys["containment_lot"] = [f"{c}:{lot.id}" for c in keys["containment"]]
    keys.update(_retained_keys(session, lot))
    # Who was told of the lot's exceptional release or of a hold/recall that reached it.
    keys["notification"] = _ids(
        session,
        Notification.id,
        or_(
            Notification.exceptional_release_id.in_([int(i) for i in keys["exceptional_release"]]),
            Notification.containment_id.in_([int(i) for i in keys["containment"]]),
        ),
    )
    return or_(
        *(
            and_(AuditEvent.entity_type == kind, AuditEvent.entity_id.in_(ids))
            for kind, ids in keys.items()
            if ids
        )
    )


def _retained_keys(session: Session, lot: Lot) -> dict[str, list[str]]:
    """The ids of the lot's retained samples and their withdrawals, by audit kind (1 query)."""
    withdrawal = RetainedSampleWithdrawal
    rows = session.execute(
        select(RetainedSample.id, withdrawal.id)
        .outerjoin(withdrawal, withdrawal.sample_id == RetainedSample.id)
        .where(RetainedSample.lot_id == lot.id)
    )
    keys: dict[str, set[str]] = {"retained_sample": set(), "retained_sample_withdrawal": set()}
    for sample_id, withdrawal_id in rows:
        keys["retained_sample"].add(str(sample_id))
        if withdrawal_id is not None:
            keys["retained_sample_withdrawal"].add(str(withdrawal_id))
    return {kind: sorted(ids) for kind, ids in keys.items()}


def timeline_size(session: Session, lot: Lot) -> int:
    """How many events the lot's timeline holds (counted, not loaded)."""
    return session.scalar(select(func.count(AuditEvent.seq)).where(_dossier(session, lot))) or 0


def lot_timeline(session: Session, lot: Lot, part: Part | None = None) -> list[Entry]:
    """Every audit event of the lot's dossier, oldest first; with `part`, only that slice."""
    query = select(AuditEvent).where(_dossier(session, lot)).order_by(AuditEvent.seq)
    if part is not None:
        query = query.offset(part.start).limit(part.stop - part.start)
    events = list(session.scalars(query))
    names = record_names.names_for(session, events)
    return [
        Entry(
            seq=e.seq,
            at=e.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            actor=e.actor,
            action=e.action,
            record=names.record(e.entity_type, e.entity_id),
            changes=names.changes_text(e),
            reason=e.reason,
            moment=e.at,
        )
        for e in events
    ]


def safe_cell(value: Any) -> Any:
    # A spreadsheet must not run a value as a formula (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(entries: list[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for e in entries:
        writer.writerow([safe_cell(v) for v in e.row()])
    return out.getvalue()
