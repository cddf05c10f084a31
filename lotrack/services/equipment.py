"""Instruments with their calibration and maintenance records and due dates.

A result names its instrument in the free-text `instrument` field it always had. When the text is
a registered instrument's code, the result is judged by the one rule (domain/materials.py
`calibration_refusal`): refused when recorded on a day the instrument was out of calibration, and,
for results recorded before a calibration found it out of tolerance, a release blocker of the lots
they judge (with the lookback holding any such lot already released). Text naming no registered
instrument is kept as it was entered (older results, outside instruments)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.materials import CalibrationFact, EquipmentEventKind, calibration_refusal
from lotrack.domain.permissions import require
from lotrack.domain.release import InstrumentDoubt
from lotrack.domain.text import N_, Said, said
from lotrack.models import EquipmentEvent, Instrument, Lot, Passage, Result, User
from lotrack.services import audit, clock, lookback
from lotrack.services.common import Page, check_code, norm, page_of


def register_instrument(session: Session, actor: User, *, code: str, name: str) -> Instrument:
    require(actor.role, "equipment.write")
    code = check_code(code, "code")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationFailed(
            N_("The instrument cannot be registered."), {"name": N_("1 to 200 characters")}
        )
    if session.scalar(select(func.count()).where(Instrument.code == code)):
        raise Conflict(
            said("An instrument with code %(code)s exists already.", code=code),
            {"code": N_("already used")},
        )
    instrument = Instrument(code=code, name=name)
    audit.created(session, actor, instrument)
    return instrument


def get_instrument(session: Session, code: str) -> Instrument:
    found = session.scalar(
        select(Instrument)
        .where(Instrument.code == norm(code))
        .options(selectinload(Instrument.events))
    )
    if found is None:
        raise NotFound(
            said("No instrument with code %(code)s.", code=code),
            {"instrument": said("no instrument with code %(code)s", code=code)},
        )
    return found


def list_instruments(session: Session, page: int = 1, per_page: int = 50) -> Page[Instrument]:
    """A page of instruments with their records, by code (3 queries)."""
    stmt = select(Instrument).options(selectinload(Instrument.events)).order_by(Instrument.code)
    return page_of(session, stmt, page, per_page)


def facts(events: Iterable[EquipmentEvent]) -> list[CalibrationFact]:
    return [
        CalibrationFact(e.performed_on, e.due_on, e.passed, e.id)
        for e in events
        if e.kind == EquipmentEventKind.CALIBRATION
    ]


def status_on(instrument: Instrument, on: dt.date) -> Said | None:
    """Why the instrument was out of calibration on `on` (None: it was in calibration)."""
    return calibration_refusal(instrument.code, facts(instrument.events), on)


def next_due(instrument: Instrument, kind: EquipmentEventKind) -> dt.date | None:
    dated = [e for e in instrument.events if e.kind == kind and e.passed]
    return max(dated, key=lambda e: (e.performed_on, e.id)).due_on if dated else None


def record_event(
    session: Session,
    actor: User,
    instrument: Instrument,
    *,
    kind: str,
    performed_on: dt.date,
    due_on: dt.date,
    passed: bool,
    note: str = "",
) -> EquipmentEvent:
    """A calibration or maintenance; a calibration that found the instrument out of tolerance
    puts in doubt every result measured on it since its last good calibration."""
    require(actor.role, "equipment.write")
    fields: dict[str, str] = {}
    if kind not in set(EquipmentEventKind):
        fields["kind"] = N_("calibration or maintenance")
    if due_on < performed_on:
        fields["due_on"] = N_("before the date it was performed")
    if performed_on > clock.today(session):
        fields["performed_on"] = N_("in the future")
    if fields:
        raise ValidationFailed(N_("The record cannot be kept."), fields)
    event = EquipmentEvent(
        instrument_id=instrument.id,
        kind=EquipmentEventKind(kind),
        performed_on=performed_on,
        due_on=due_on,
        passed=passed,
        note=(note or "").strip(),
        recorded_by_id=actor.id,
    )
    audit.created(session, actor, event)
    session.flush()
    session.expire(instrument, ["events"])
    if kind == EquipmentEventKind.CALIBRATION and not passed:
        lookback.reassess(
            session,
            actor,
            lots_measured_on(session, instrument),
            cause=f"Instrument {instrument.code} found out of tolerance on {performed_on}",
            trigger=event,
        )
    return event


def lots_measured_on(session: Session, instrument: Instrument) -> list[Lot]:
    """The lots with a valid result on the instrument, their own or their run's passages'."""
    on_it = (
        func.upper(func.trim(Result.instrument)) == instrument.code,
        Result.invalidated_at.is_(None),
    )
    direct = select(Result.lot_id).where(*on_it, Result.lot_id.is_not(None))
    runs = select(Passage.run_id).join(Result, Result.passage_id == Passage.id).where(*on_it)
    return list(
        session.scalars(
            select(Lot).where(Lot.id.in_(direct) | Lot.run_id.in_(runs)).order_by(Lot.id)
        )
    )


def check_result(session: Session, instrument_text: str, performed_on: dt.date) -> None:
    """Refuse a result on a registered instrument out of calibration on its test date."""
    code = norm(instrument_text)
    if not code:
        return
    instrument = session.scalar(
        select(Instrument).where(Instrument.code == code).options(selectinload(Instrument.events))
    )
    if instrument is None:
        return  # free text naming no registered instrument: kept as entered
    refusal = status_on(instrument, performed_on)
    if refusal:
        raise Conflict(refusal, {"instrument": refusal})


def doubts(session: Session, results: Iterable[Result]) -> list[InstrumentDoubt]:
    """Valid results measured on a registered instrument out of calibration on their test date
    (2 queries, however many results)."""
    valid = [r for r in results if r.invalidated_at is None and (r.instrument or "").strip()]
    codes = {norm(r.instrument) for r in valid}
    if not codes:
        return []
    instruments = {
        i.code: i
        for i in session.scalars(
            select(Instrument)
            .where(Instrument.code.in_(codes))
            .options(selectinload(Instrument.events))
        )
    }
    out = []
    for r in valid:
        instrument = instruments.get(norm(r.instrument))
        reason = status_on(instrument, r.performed_on) if instrument is not None else None
        if reason:
            out.append(
                InstrumentDoubt(
                    r.id,
                    said(
                        "Result %(id)s (%(test)s): %(reason)s",
                        id=r.id,
                        test=r.test_code,
                        reason=reason,
                    ),
                )
            )
    return out
