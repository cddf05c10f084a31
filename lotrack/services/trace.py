"""Trace and recall: from a patient back to the donor, from a donor, bank or lot forward to every
unit, where each is and who received it, and a recall's impact list.

Where a unit is follows its state (stored, in transit, received, missing, thawed, infused,
destroyed: domain/states.py), with the site of its shipment (a unit is on one shipment, ever).

Each answer costs a fixed number of queries, whatever the number of units, patients or sites:
shipments are read for all units at once, as services.shipment.location reads one unit's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import BankTier, ShipmentStatus, UnitState
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
    Shipment,
    ShipmentUnit,
    Site,
    Unit,
    User,
)
from lotrack.services.clinical import get_patient
from lotrack.services.common import norm
from lotrack.services.containment import get_containment
from lotrack.services.report import Reached, patients_reached
from lotrack.services.shipment import Location, Whereabouts, whereabouts_of

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


# A unit's state as the trace's `status` word (the API's vocabulary: api/trace_schemas.py).
STATUS_OF_STATE = {
    UnitState.STORED: "at_manufacturer",
    UnitState.IN_TRANSIT: "in_transit",
    UnitState.RECEIVED: "at_site",
    UnitState.THAWED: "at_site",
    UnitState.MISSING: "not_received",
    UnitState.INFUSED: "infused",
    UnitState.DESTROYED: "destroyed",
}


@dataclass(frozen=True)
class UnitPlace:
    """A unit, where it is and, once infused, who received it."""

    unit: Unit
    lot: Lot
    location: Location
    site: str | None  # code of the site of its latest shipment
    received_by: Reached | None  # the infusion, if any

    @property
    def place(self) -> Whereabouts:
        """Its state and place as every page shows it (storage only while stored)."""
        return whereabouts_of(self.unit, self.site, self.location.shipment)

    @property
    def status(self) -> str:
        """Where the unit is, as a word, from its state (an infusion recorded says infused)."""
        if self.received_by is not None:
            return "infused"
        return STATUS_OF_STATE.get(self.unit.state, self.unit.state)

    @property
    def where(self) -> str:
        if self.received_by is not None:
            return said("infused into %(patient)s", patient=self.received_by.patient)
        return self.place.text


@dataclass(frozen=True)
class ForwardTrace:
    origin: str  # "donor FD-0001", "bank WCB-001-A", "lot CFM-2025-0001"
    lots: list[Lot]
    units: list[UnitPlace]
    patients: list[Reached]


def forward(
    session: Session,
    actor: User,
    *,
    donor: str | None = None,
    bank: str | None = None,
    lot: str | None = None,
) -> ForwardTrace:
    """Every lot and unit from one donor, bank or lot, where each unit is and which patients
    received it (6 queries at most). It names patients of every site: QA, the medical director
    and admins only (trace.read)."""
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
    lots = _lots_from(session, kind, norm(code))
    lot_ids = [x.id for x in lots]
    units = list(
        session.scalars(
            select(Unit).where(Unit.lot_id.in_(lot_ids or [-1])).order_by(Unit.lot_id, Unit.din)
        )
    )
    by_id = {x.id: x for x in lots}
    return ForwardTrace(
        origin=said(_ORIGIN[kind], code=norm(code)),
        lots=lots,
        units=places(session, units, by_id),
        patients=patients_reached(session, lot_ids),
    )


# What a forward trace starts from, in words.
_ORIGIN = {"donor": N_("donor %(code)s"), "bank": N_("bank %(code)s"), "lot": N_("lot %(code)s")}


def _lots_from(session: Session, kind: str, code: str) -> list[Lot]:
    order = (Lot.lot_number,)
    if kind == "lot":
        found = session.scalar(select(Lot).where(Lot.lot_number == code))
        if found is None:
            raise NotFound(
                said("No lot %(lot)s.", lot=code), {"lot": said("no lot %(lot)s", lot=code)}
            )
        return [found]
    if kind == "bank":
        start = session.scalar(select(CellBank).where(CellBank.code == code))
        if start is None:
            raise NotFound(
                said("No cell bank %(bank)s.", bank=code),
                {"bank": said("no cell bank %(bank)s", bank=code)},
            )
        wcb = aliased(CellBank)
        stmt = (
            select(Lot)
            .join(ProductionRun, Lot.run_id == ProductionRun.id)
            .join(wcb, ProductionRun.bank_id == wcb.id)
        )
        if start.tier == BankTier.MCB:
            return list(
                session.scalars(stmt.where(wcb.parent_bank_id == start.id).order_by(*order))
            )
        return list(session.scalars(stmt.where(wcb.id == start.id).order_by(*order)))
    found_donor = session.scalar(select(Donor).where(Donor.code == code))
    if found_donor is None:
        raise NotFound(
            said("No donor %(donor)s.", donor=code),
            {"donor": said("no donor %(donor)s", donor=code)},
        )
    wcb, mcb = aliased(CellBank), aliased(CellBank)
    return list(
        session.scalars(
            select(Lot)
            .join(ProductionRun, Lot.run_id == ProductionRun.id)
            .join(wcb, ProductionRun.bank_id == wcb.id)
            .join(mcb, wcb.parent_bank_id == mcb.id)
            .join(Clone, mcb.clone_id == Clone.id)
            .where(Clone.donor_id == found_donor.id)
            .order_by(*order)
        )
    )


def places(session: Session, units: list[Unit], lots: dict[int, Lot]) -> list[UnitPlace]:
    """Where each unit is, all at once (2 queries whatever the number of units)."""
    ids = [u.id for u in units]
    latest: dict[int, tuple[str, int, str, bool | None, str]] = {}
    rows = session.execute(
        select(
            ShipmentUnit.unit_id,
            Shipment.number,
            Shipment.site_id,
            Shipment.status,
            ShipmentUnit.received,
            Site.code,
        )
        .join(Shipment, ShipmentUnit.shipment_id == Shipment.id)
        .join(Site, Shipment.site_id == Site.id)
        .where(ShipmentUnit.unit_id.in_(ids or [-1]))
        .order_by(ShipmentUnit.unit_id, Shipment.id)
    )
    for unit_id, number, site_id, status, received, site_code in rows:
        latest[unit_id] = (number, site_id, status, received, site_code)  # the last one wins
    infused = _infusions(session, ids)
    out = []
    for u in units:
        site = None
        location = Location(None, False, None)
        if u.id in latest:
            number, site_id, status, received, site = latest[u.id]
            if status == ShipmentStatus.IN_TRANSIT:
                location = Location(None, True, number)
            else:
                location = Location(site_id if received else None, False, number)
        out.append(UnitPlace(u, lots[u.lot_id], location, site, infused.get(u.id)))
    return out


def _infusions(session: Session, unit_ids: Iterable[int]) -> dict[int, Reached]:
    rows = session.execute(
        select(
            Infusion.unit_id,
            Lot.lot_number,
            Unit.din,
            Patient.wristband,
            Site.code,
            Infusion.started_at,
            Unit.check_character,
        )
        .join(Unit, Infusion.unit_id == Unit.id)
        .join(Lot, Unit.lot_id == Lot.id)
        .join(Patient, Infusion.patient_id == Patient.id)
        .join(Site, Patient.site_id == Site.id)
        .where(Infusion.unit_id.in_(list(unit_ids) or [-1]))
    )
    return {unit_id: Reached(*rest) for unit_id, *rest in rows}


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
    """Who to follow and what to quarantine where, for a hold or recall (6 queries)."""
    lots = list(
        session.scalars(
            select(Lot)
            .join(ContainmentLot, ContainmentLot.lot_id == Lot.id)
            .where(ContainmentLot.containment_id == containment.id)
            .order_by(Lot.lot_number)
        )
    )
    lot_ids = [x.id for x in lots]
    units = list(
        session.scalars(
            select(Unit).where(Unit.lot_id.in_(lot_ids or [-1])).order_by(Unit.lot_id, Unit.din)
        )
    )
    unit_places = places(session, units, {x.id: x for x in lots})
    # Each unit once, by its state: infused ones are followed through their patients.
    left = [p for p in unit_places if p.status not in ("infused", "destroyed")]
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
        patients=patients_reached(session, lot_ids),
        at_sites=[p for p in left if p.status == "at_site"],
        in_transit=[p for p in left if p.status == "in_transit"],
        at_manufacturer=[p for p in left if p.status == "at_manufacturer"],
        missing=[p for p in left if p.status == "not_received"],
        notifications=notifications,
    )
