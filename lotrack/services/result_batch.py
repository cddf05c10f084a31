"""An instrument import's rows recorded at once: the facts each row is judged against loaded once
per lot, every row judged in Python by the same rules as `result.record_result`, then the results
written in one flush and their audit events queued in file order (sealed in one pass at commit).

Only a file in which every row is a plain new reading takes this path: the first row that would
be refused, fail a required test (an investigation opens), complete or meet an earlier result of
its test, name material lots, or fall on a lot whose release a result can undo, sends the whole
file back to the row-by-row path, which then writes or refuses exactly as it always did. Nothing
is written before that decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from lotrack.domain.decisions import DISTRIBUTED
from lotrack.domain.errors import DomainError
from lotrack.domain.result_dates import check_test_date
from lotrack.domain.specs import Verdict, judge
from lotrack.domain.states import InvestigationStatus
from lotrack.models import Investigation, Lot, Result, User
from lotrack.services import audit, clock, equipment
from lotrack.services.result import DETAIL_LENGTHS, OPEN_LOT_STATES, analyte_of, new_result
from lotrack.services.result_dates import subject_start
from lotrack.services.result_subject import pinned_test


@dataclass(frozen=True)
class Entry:
    """One parsed row: its lot and what `record_result` would be given."""

    lot: Lot
    test: str
    value: str
    unit: str
    performed_on: dt.date
    method: str
    instrument: str
    reagent_lot: str
    material_lots: list[str]


@dataclass
class _Facts:
    """What the rules read of a lot's record, loaded once per import."""

    open_oos: set[str]  # test codes with an open investigation
    current: set[tuple[str, str]]  # (test code, analyte) with a valid result on record
    latest_on: dict[tuple[str, str], dt.date]  # latest test date, invalidated entries included


def _facts(session: Session, lot_ids: list[int]) -> dict[int, _Facts]:
    facts = {i: _Facts(set(), set(), {}) for i in lot_ids}
    for lot_id, code in session.execute(
        select(Investigation.lot_id, Result.test_code)
        .join(Result, Investigation.result_id == Result.id)
        .where(Investigation.lot_id.in_(lot_ids), Investigation.status == InvestigationStatus.OPEN)
    ):
        facts[lot_id].open_oos.add(code)
    for lot_id, code, analyte, performed_on, invalidated_at in session.execute(
        select(
            Result.lot_id,
            Result.test_code,
            Result.analyte,
            Result.performed_on,
            Result.invalidated_at,
        ).where(Result.lot_id.in_(lot_ids))
    ):
        f = facts[lot_id]
        if invalidated_at is None:
            f.current.add((code, analyte))
        if performed_on is not None:
            before = f.latest_on.get((code, analyte))
            f.latest_on[(code, analyte)] = max(performed_on, before or performed_on)
    return facts


def _new_ids(session: Session, n: int) -> list[int]:
    """The keys the database would give `n` new results inserted one by one, taken at once, so
    the results go in as one executemany (an ORM insert that must read each key back goes row by
    row on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return sorted(
            session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('result', 'id'))"
                    " FROM generate_series(1, :n)"
                ),
                {"n": n},
            )
        )
    # SQLite: the transaction holds the write lock from BEGIN IMMEDIATE (db.make_engine), and a
    # table without AUTOINCREMENT gives the largest key + 1 to each new row.
    first = (session.scalar(select(func.max(Result.id))) or 0) + 1
    return list(range(first, first + n))


def record_all(session: Session, actor: User, entries: list[Entry]) -> list[Result] | None:
    """Every entry recorded as `record_result` would, or None (nothing written) when one needs
    the row-by-row path."""
    lots = {e.lot.id: e.lot for e in entries}
    if any(lot.state not in OPEN_LOT_STATES or lot.state in DISTRIBUTED for lot in lots.values()):
        return None  # a result can undo a release there: the lookback runs row by row
    if any(e.material_lots for e in entries):
        return None  # material uses are recorded (and checked) row by row
    facts = _facts(session, list(lots))
    today = clock.today(session)
    calibrated: set[tuple[str, dt.date]] = set()
    seen: set[tuple[int, str, str]] = set()
    made = []
    try:
        for e in entries:
            details = {"method": e.method, "instrument": e.instrument, "reagent_lot": e.reagent_lot}
            if any(len((details[k] or "").strip()) > n for k, n in DETAIL_LENGTHS.items()):
                return None
            version, spec_test = pinned_test(e.lot, e.test)
            analyte = analyte_of(spec_test, e.test)
            key = (spec_test.code, analyte)
            f = facts[e.lot.id]
            if (e.lot.id, *key) in seen or key in f.current or spec_test.code in f.open_oos:
                return None  # a pending entry to complete, a retest, or a refusal: row by row
            seen.add((e.lot.id, *key))
            check_test_date(
                e.performed_on,
                today=today,
                start=subject_start(e.lot),
                test=spec_test.name,
                incubation_days=spec_test.incubation_days,
                incubation_on_record=(
                    f.latest_on.get(key) if spec_test.incubation_days is not None else None
                ),
            )
            if (e.instrument, e.performed_on) not in calibrated:
                equipment.check_result(session, e.instrument, e.performed_on)
                calibrated.add((e.instrument, e.performed_on))
            judgement = judge(
                spec_test,
                value=e.value,
                unit=e.unit,
                analyte=analyte,
                performed_on=e.performed_on,
                recorded_on=today,
            )
            if judgement.verdict == Verdict.FAIL and spec_test.required:
                return None  # an investigation opens: row by row
            made.append((e, version, spec_test, analyte, judgement))
    except DomainError:
        return None  # the row-by-row path refuses it, in its own words
    results = []
    ids = _new_ids(session, len(made))
    for key, (e, version, spec_test, analyte, judgement) in zip(ids, made, strict=True):
        result = new_result(
            actor,
            version,
            spec_test,
            analyte,
            judgement,
            value=e.value,
            performed_on=e.performed_on,
            method=e.method,
            instrument=e.instrument,
            reagent_lot=e.reagent_lot,
            replaces=None,
        )
        result.id = key
        result.lot = e.lot
        audit.created(session, actor, result)
        results.append(result)
    session.flush()
    return results
