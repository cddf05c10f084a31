"""What waits on someone's decision: the lots ON_HOLD waiting on QA (the "needs decision" queue),
with the hold record that put each there and what triggered it; what lifting a hold would be
refused for; and the exceptional releases waiting on a patient's treating physician."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.domain.decisions import Action
from lotrack.domain.states import ExceptionalStatus, LotState
from lotrack.models import (
    CellBank,
    Containment,
    ContainmentLot,
    Deviation,
    Donor,
    ExceptionalRelease,
    Investigation,
    Lot,
    Passage,
    Patient,
    Result,
    Signature,
)
from lotrack.services.common import Page


@dataclass(frozen=True)
class Trigger:
    """The record whose new fact put a lot on hold (a lookback), as people name it."""

    entity: str  # the audit trail's entity type: donor, cell_bank, result, investigation...
    id: str
    label: str  # "donor FD-0001", "OOS-2025-002", "result 41 (VIAB 70.0)"
    code: str | None = None  # the record's code or number where it has a page of its own


# How each kind of triggering record is named, and the code its own page is found by.
NAMES: dict[str, tuple[type[Any], Callable[[Any], tuple[str, str | None]]]] = {
    "donor": (Donor, lambda d: (f"donor {d.code}", d.code)),
    "cell_bank": (CellBank, lambda b: (f"{b.tier} {b.code}", b.code)),
    "investigation": (Investigation, lambda i: (i.number, i.number)),
    "deviation": (Deviation, lambda d: (f"deviation {d.number}", d.number)),
    "passage": (Passage, lambda p: (f"{p.run.code} passage {p.number}", p.run.code)),
    "result": (Result, lambda r: (f"result {r.id} ({r.analyte} {r.value})", None)),
}


def triggers_of(session: Session, records: Iterable[Containment]) -> dict[int, Trigger]:
    """The triggering record of each lookback among `records`, by the hold record's id (a hold
    or recall QA signed has none): one query per kind of record, whatever their number."""
    looked_back = [r for r in records if r.trigger_entity and r.trigger_id is not None]
    wanted: dict[str, set[int]] = {}
    for r in looked_back:
        if r.trigger_entity in NAMES and str(r.trigger_id).isdigit():
            wanted.setdefault(str(r.trigger_entity), set()).add(int(str(r.trigger_id)))
    named: dict[tuple[str, str], tuple[str, str | None]] = {}
    for entity, ids in sorted(wanted.items()):
        model, name = NAMES[entity]
        stmt = select(model).where(model.id.in_(sorted(ids)))
        if model is Passage:
            stmt = stmt.options(joinedload(Passage.run))
        for row in session.scalars(stmt):
            named[(entity, str(row.id))] = name(row)
    out = {}
    for r in looked_back:
        entity, ident = str(r.trigger_entity), str(r.trigger_id)
        label, code = named.get((entity, ident), (f"{entity.replace('_', ' ')} {ident}", None))
        out[r.id] = Trigger(entity, ident, label, code)
    return out


def trigger_of(session: Session, record: Containment) -> Trigger | None:
    """The triggering record of a lookback hold (None for a hold or recall QA signed)."""
    return triggers_of(session, [record]).get(record.id)


@dataclass(frozen=True)
class HeldLot:
    """A lot ON_HOLD and the latest hold record that reached it (a lookback or QA's hold)."""

    lot: Lot
    hold: Containment | None
    trigger: Trigger | None

    @property
    def lot_number(self) -> str:
        return self.lot.lot_number

    @property
    def state(self) -> str:
        return self.lot.state

    @property
    def held_from(self) -> str | None:
        return self.lot.held_from


def _latest_holds() -> Subquery:
    """Per lot, the id of the latest hold record that moved it ON_HOLD."""
    return (
        select(ContainmentLot.lot_id, func.max(ContainmentLot.containment_id).label("hold_id"))
        .where(ContainmentLot.to_state == LotState.ON_HOLD.value)
        .group_by(ContainmentLot.lot_id)
        .subquery()
    )


def needs_decision(session: Session, page: int = 1, per_page: int = 50) -> Page[HeldLot]:
    """Every lot ON_HOLD, the longest-waiting first, with the hold record that put it there:
    QA lifts the hold by a new signed decision, rejects or recalls."""
    page, per_page = max(1, page), max(1, min(per_page, 500))
    latest = _latest_holds()
    held = Lot.state == LotState.ON_HOLD.value
    total = session.scalar(select(func.count()).select_from(Lot).where(held)) or 0
    rows = session.execute(
        select(Lot, Containment)
        .where(held)
        .outerjoin(latest, latest.c.lot_id == Lot.id)
        .outerjoin(Containment, Containment.id == latest.c.hold_id)
        # A lot held before hold records existed (no record) first: it has waited longest.
        .order_by(func.coalesce(Containment.id, 0), Lot.lot_number)
        .options(joinedload(Containment.created_by))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    triggers = triggers_of(session, [hold for _lot, hold in rows if hold is not None])
    items = [
        HeldLot(lot, hold, triggers.get(hold.id) if hold is not None else None)
        for lot, hold in rows
    ]
    return Page(items, page, per_page, total)


def latest_hold(session: Session, lot: Lot) -> HeldLot | None:
    """Why a lot ON_HOLD is held: the latest hold record that reached it (None: not held)."""
    if lot.state != LotState.ON_HOLD:
        return None
    hold = session.scalar(
        select(Containment)
        .join(ContainmentLot, ContainmentLot.containment_id == Containment.id)
        .where(ContainmentLot.lot_id == lot.id, ContainmentLot.to_state == LotState.ON_HOLD.value)
        .order_by(Containment.id.desc())
        .limit(1)
        .options(joinedload(Containment.created_by))
    )
    return HeldLot(lot, hold, trigger_of(session, hold) if hold is not None else None)


@dataclass(frozen=True)
class PatientRelease:
    """An exceptional release for one patient and the treating physician's acceptance of it."""

    er: ExceptionalRelease
    acceptance: Signature | None

    @property
    def awaiting(self) -> bool:
        """Still to be accepted: requested or approved, and not yet accepted."""
        return self.acceptance is None and self.er.status in (
            ExceptionalStatus.PENDING,
            ExceptionalStatus.APPROVED,
        )


def releases_for_patient(session: Session, patient: Patient) -> list[PatientRelease]:
    """Every exceptional release requested for the patient, oldest first, with its acceptance
    (exceptional.acceptance_of, for all of them in one query)."""
    found = list(
        session.scalars(
            select(ExceptionalRelease)
            .where(ExceptionalRelease.patient_id == patient.id)
            .order_by(ExceptionalRelease.id)
            .options(
                selectinload(ExceptionalRelease.lot), selectinload(ExceptionalRelease.created_by)
            )
        )
    )
    accepted = {
        s.exceptional_release_id: s
        for s in session.scalars(
            select(Signature)
            .where(
                Signature.exceptional_release_id.in_([er.id for er in found]),
                Signature.action == Action.EXCEPTIONAL_ACCEPTANCE.value,
            )
            .order_by(Signature.id.desc())  # the first of each, should there be two
        )
    }
    return [PatientRelease(er, accepted.get(er.id)) for er in found]
