"""Trace and recall: from a patient back to the donor, from a donor, bank or lot forward to every
unit, where each is and who received it, and a recall's impact list.

Where a unit is follows its state (stored, in transit, received, missing, thawed, infused,
destroyed: domain/states.py), with the site of its shipment (a unit is on one shipment, ever).

Each answer costs a fixed number of queries, whatever the number of units, patients or sites:
shipments are read for all units at once, as services.shipment.location reads one unit's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import BankTier
from lotrack.domain.text import N_, said
from lotrack.models import (
    CellBank,
    Clone,
    Containment,
    ContainmentLot,
    Donor,
    Infusion,
    Lot,
    Notification,
    Passage,
    Patient,
    ProductionRun,
    Unit,
    User,
)
from lotrack.services.clinical import get_patient
from lotrack.services.common import norm
from lotrack.services.containment import get_containment
from lotrack.services.report import Reached
from lotrack.services.trace_units import (
    STATUS_OF_STATE,
    Counts,
    UnitPlace,
    counts,
    counts_of,
    reached_by,
    unit_places,
)

__all__ = ["STATUS_OF_STATE", "UnitPlace"]  # read by the API schemas and the pages

# ---- backward: patient -> donor --------------------------------------------------------------


@dataclass(frozen=True)
class InfusionTrace:
    """One infusion and the whole chain behind its unit."""

    infusion: Infusion
    unit: Unit
    lot: Lot
    run: ProductionRun
    passages: list[Passage]
    wcb: CellBank
    mcb: CellBank
    clone: Clone
    donor: Donor


@dataclass(frozen=True)
class PatientTrace:
    patient: Patient
    infusions: list[InfusionTrace]


def patient_back(session: Session, actor: User, wristband: str) -> PatientTrace:
    """Patient -> infusions -> unit -> lot -> run -> passages -> WCB -> MCB -> clone -> donor
    (3 queries). Site users trace their own site's patients only."""
    require(actor.role, "clinical.read")
    patient = get_patient(session, actor, wristband)
    run_chain = joinedload(Infusion.unit).joinedload(Unit.lot).joinedload(Lot.run)
    infusions = (
        session.scalars(
            select(Infusion)
            .where(Infusion.patient_id == patient.id)
            .order_by(Infusion.started_at, Infusion.id)
            .options(
                run_chain.joinedload(ProductionRun.bank)
                .joinedload(CellBank.parent)
                .joinedload(CellBank.clone)
                .joinedload(Clone.donor),
                run_chain.selectinload(ProductionRun.passages),
            )
        )
        .unique()
        .all()
    )
    steps = []
    for inf in infusions:
        run = inf.unit.lot.run
        wcb = run.bank
        mcb = wcb.parent
        assert mcb is not None and mcb.clone is not None  # guaranteed by the cell_bank check
        steps.append(
            InfusionTrace(
                infusion=inf,
                unit=inf.unit,
                lot=inf.unit.lot,
                run=run,
                passages=list(run.passages),
                wcb=wcb,
                mcb=mcb,
                clone=mcb.clone,
                donor=mcb.clone.donor,
            )
        )
    return PatientTrace(patient, steps)


# ---- forward: donor, bank or lot -> lots, units, places, patients ----------------------------


@dataclass(frozen=True)
class ForwardTrace:
    """Every lot from a donor, bank or lot; its units (all, or one page of them) and the patients
    those units reached; the totals always count every unit."""

    origin: str  # "donor FD-0001", "bank WCB-001-A", "lot CFM-2025-0001"
    lots: list[Lot]
    units: list[UnitPlace]
    patients: list[Reached]  # reached by `units`: every patient when `units` is every unit
    counts: Counts
    next_after: str | None = None  # the DIN to page on from, while more units follow


def forward(
    session: Session,
    actor: User,
    *,
    donor: str | None = None,
    bank: str | None = None,
    lot: str | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> ForwardTrace:
    """Every lot and unit from one donor, bank or lot, where each unit is and which patients
    received it (3 queries; a page of `limit` units 4, and 5 after the unit `after`, a DIN). It
    names patients of every site: QA, the medical director and admins only (trace.read)."""
    require(actor.role, "trace.read")
    given = [(k, v) for k, v in (("donor", donor), ("bank", bank), ("lot", lot)) if v]
    if len(given) != 1:
        # Name the inputs to fix: each one given when several are, all three when none is.
        named = [k for k, _ in given] if given else ["donor", "bank", "lot"]
        reason = (
            N_("give only one of donor, bank or lot") if given else N_("give a donor, bank or lot")
        )
        raise ValidationFailed(
            N_("Trace forward from one donor, one bank or one lot."), dict.fromkeys(named, reason)
        )
    kind, code = given[0]
    chosen = _lots_from(session, kind, norm(code))
    lots = list(session.scalars(chosen))
    by_id = {x.id: x for x in lots}
    if limit is None:
        units = unit_places(session, by_id)
        total, more = counts_of(units), None
    else:
        units = unit_places(session, by_id, limit=limit + 1, after=after)
        total, more = counts(session, list(by_id)), len(units) > limit
        units = units[:limit]
    return ForwardTrace(
        origin=said(_ORIGIN[kind], code=norm(code)),
        lots=lots,
        units=units,
        patients=reached_by(units),
        counts=total,
        next_after=units[-1].unit.din if more else None,
    )


# What a forward trace starts from, in words.
_ORIGIN = {"donor": N_("donor %(code)s"), "bank": N_("bank %(code)s"), "lot": N_("lot %(code)s")}


def _lots_from(session: Session, kind: str, code: str) -> Select[tuple[Lot]]:
    """The query of the lots made from a lot, bank or donor, by lot number (the start is looked
    up first, so that an unknown one is a NotFound naming it)."""
    by_number = select(Lot).order_by(Lot.lot_number)
    if kind == "lot":
        found = session.scalar(select(Lot.id).where(Lot.lot_number == code))
        if found is None:
            raise NotFound(
                said("No lot %(lot)s.", lot=code), {"lot": said("no lot %(lot)s", lot=code)}
            )
        return by_number.where(Lot.id == found)
    wcb = aliased(CellBank)
    runs = by_number.join(ProductionRun, Lot.run_id == ProductionRun.id).join(
        wcb, ProductionRun.bank_id == wcb.id
    )
    if kind == "bank":
        start = session.execute(
            select(CellBank.id, CellBank.tier).where(CellBank.code == code)
        ).first()
        if start is None:
            raise NotFound(
                said("No cell bank %(bank)s.", bank=code),
                {"bank": said("no cell bank %(bank)s", bank=code)},
            )
        if start.tier == BankTier.MCB:
            return runs.where(wcb.parent_bank_id == start.id)
        return runs.where(wcb.id == start.id)
    found_donor = session.scalar(select(Donor.id).where(Donor.code == code))
    if found_donor is None:
        raise NotFound(
            said("No donor %(donor)s.", donor=code),
            {"donor": said("no donor %(donor)s", donor=code)},
        )
    mcb = aliased(CellBank)
    return (
        runs.join(mcb, wcb.parent_bank_id == mcb.id)
        .join(Clone, mcb.clone_id == Clone.id)
        .where(Clone.donor_id == found_donor)
    )


# ---- a recall's impact -----------------------------------------------------------------------


@dataclass(frozen=True)
class RecallImpact:
    containment: Containment
    lots: list[Lot]
    patients: list[Reached]  # infused: to follow up
    at_sites: list[UnitPlace]  # received at a site, not infused: to quarantine there
    in_transit: list[UnitPlace]  # on their way: to stop on arrival
    at_manufacturer: list[UnitPlace]  # never shipped: to quarantine in the store
    missing: list[UnitPlace]  # shipped but not received where they were sent: to find
    notifications: list[Notification]


def impact(session: Session, actor: User, number: str) -> RecallImpact:
    """A hold's or recall's impact by its number, in a fixed number of queries; it names
    patients of every site (trace.read)."""
    require(actor.role, "trace.read")
    return recall_impact(session, get_containment(session, number))


def recall_impact(session: Session, containment: Containment) -> RecallImpact:
    """Who to follow and what to quarantine where, for a hold or recall (4 queries). Every unit
    of the lots, never a page of them: a recall reaches them all."""
    chosen = (
        select(Lot)
        .join(ContainmentLot, ContainmentLot.lot_id == Lot.id)
        .where(ContainmentLot.containment_id == containment.id)
        .order_by(Lot.lot_number)
    )
    lots = list(session.scalars(chosen))
    every = unit_places(session, {x.id: x for x in lots})
    # Each unit once, by its state: infused ones are followed through their patients.
    left = [p for p in every if p.status not in ("infused", "destroyed")]
    notifications = list(
        session.scalars(
            select(Notification)
            .where(Notification.containment_id == containment.id)
            .options(selectinload(Notification.recorded_by))
            .order_by(Notification.notified_at, Notification.id)
        )
    )
    return RecallImpact(
        containment=containment,
        lots=lots,
        patients=reached_by(every),
        at_sites=[p for p in left if p.status == "at_site"],
        in_transit=[p for p in left if p.status == "in_transit"],
        at_manufacturer=[p for p in left if p.status == "at_manufacturer"],
        missing=[p for p in left if p.status == "not_received"],
        notifications=notifications,
    )
