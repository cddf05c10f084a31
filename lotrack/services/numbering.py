"""Record numbers per kind and year (CFM-2026-0001, OOS-2026-001, RCL-2026-002 ...), issued from a
counter row by a guarded increment: concurrent writers wait on the row and never collide."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lotrack.domain.errors import Conflict
from lotrack.domain.text import said
from lotrack.models import NumberSequence


def _highest(session: Session, column: Any, prefix: str) -> int:
    last = session.scalar(select(func.max(column)).where(column.like(prefix + "%")))
    tail = (last or "")[len(prefix) :]
    return int(tail) if tail.isdigit() else 0


def _next(session: Session, kind: str, year: int, column: Any, prefix: str) -> int:
    for _ in range(3):
        last = session.execute(
            update(NumberSequence)
            .where(NumberSequence.prefix == kind, NumberSequence.year == year)
            .values(last=NumberSequence.last + 1)
            .returning(NumberSequence.last)
        ).scalar()
        if last is not None:
            return int(last)
        # First of its kind this year: start after anything stored before the counter existed.
        first = _highest(session, column, prefix) + 1
        try:
            with session.begin_nested():
                session.execute(insert(NumberSequence).values(prefix=kind, year=year, last=first))
            return first
        except IntegrityError:
            continue  # another writer made the row first: increment it
    raise Conflict(
        said("Could not issue a %(kind)s number: the counter is busy. Try again.", kind=kind)
    )


def issue(session: Session, kind: str, year: int, column: Any, width: int) -> str:
    """The next free '<kind>-<year>-<n>' for records numbered in `column`."""
    prefix = f"{kind}-{year}-"
    for _ in range(1000):
        number = f"{prefix}{_next(session, kind, year, column, prefix):0{width}d}"
        # A number typed by hand (lots may be numbered manually) is skipped, not reused.
        if not session.scalar(select(func.count()).where(column == number)):
            return number
    raise Conflict(said("No free %(kind)s number is left for %(year)s.", kind=kind, year=year))
