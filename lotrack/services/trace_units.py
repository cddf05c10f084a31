"""Every unit of a set of lots, where it is and who received it, read as plain rows (issue 21).

A forward trace or a recall's impact reaches thousands of units: they are read in one statement of
columns (the unit, its shipment and site, its infusion and the patient), never as ORM objects, and
the lots are named by a query of their ids, never by a list of unit ids. A unit is on one shipment
and one infusion at most (both unit_id columns are unique), so plain outer joins give one row each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, distinct, func, or_, select
from sqlalchemy.orm import Session, aliased

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.states import ShipmentStatus, UnitState
from lotrack.domain.text import N_, said
from lotrack.models import Infusion, Lot, Patient, Shipment, ShipmentUnit, Site, Unit
from lotrack.services.report import Reached
from lotrack.services.shipment import Location, Whereabouts, whereabouts_of

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


# The columns of a unit a trace reads, by models.Unit's names.
UNIT_FIELDS = ("id", "din", "check_character", "lot_id", "state")
UNIT_FIELDS += ("freezer", "rack", "box", "position")


class UnitPlace:
    """A unit (the columns of models.Unit a trace shows, by the same names), where it is and,
    once infused, who received it. One object per unit, its own `unit`: a trace of 10,000 units
    makes 10,000 of them, and each object more per unit costs the garbage collector's time."""

    __slots__ = (*UNIT_FIELDS, "lot", "location", "site", "received_by")
    id: int
    din: str
    check_character: str
    lot_id: int
    state: UnitState
    freezer: str | None
    rack: str | None
    box: str | None
    position: str | None
    lot: Lot
    location: Location
    site: str | None  # code of the site of its shipment
    received_by: Reached | None  # the infusion, if any

    def __init__(
        self,
        unit: tuple[Any, ...],
        lot: Lot,
        location: Location,
        site: str | None,
        received_by: Reached | None,
    ) -> None:
        """`unit`: the values of UNIT_FIELDS, in that order."""
        (
            self.id, self.din, self.check_character, self.lot_id, self.state,
            self.freezer, self.rack, self.box, self.position,
        ) = unit  # fmt: skip
        self.lot, self.location, self.site, self.received_by = lot, location, site, received_by

    @property
    def unit(self) -> UnitPlace:
        """The unit's own columns (din, check_character, state, storage ...): this object."""
        return self

    @property
    def place(self) -> Whereabouts:
        """Its state and place as every page shows it (storage only while stored)."""
        return whereabouts_of(self, self.site, self.location.shipment)  # type: ignore[arg-type]

    @property
    def status(self) -> str:
        """Where the unit is, as a word, from its state (an infusion recorded says infused)."""
        if self.received_by is not None:
            return "infused"
        return STATUS_OF_STATE.get(self.state, self.state)

    @property
    def where(self) -> str:
        if self.received_by is not None:
            return said("infused into %(patient)s", patient=self.received_by.patient)
        return self.place.text


NOT_SHIPPED = Location(None, False, None)
UNIT_COLUMNS = tuple(getattr(Unit, name).label(name) for name in UNIT_FIELDS)


def _rows(lot_ids: list[int]) -> Select[Any]:
    """One row per unit of the lots `lot_ids`, ordered by lot and DIN: UNIT_FIELDS (0-8),
    its shipment's number, site id and status, whether received, the site's code (9-13), and
    its infusion's patient, their site and when (14-16)."""
    shipped_to, patient_site = aliased(Site), aliased(Site)
    return (
        select(
            *UNIT_COLUMNS,
            Shipment.number.label("shipment"),
            Shipment.site_id.label("shipment_site_id"),
            Shipment.status.label("shipment_status"),
            ShipmentUnit.received.label("received"),
            shipped_to.code.label("site"),
            Patient.wristband.label("patient"),
            patient_site.code.label("patient_site"),
            Infusion.started_at.label("infused_at"),
        )
        .outerjoin(ShipmentUnit, ShipmentUnit.unit_id == Unit.id)
        .outerjoin(Shipment, Shipment.id == ShipmentUnit.shipment_id)
        .outerjoin(shipped_to, shipped_to.id == Shipment.site_id)
        .outerjoin(Infusion, Infusion.unit_id == Unit.id)
        .outerjoin(Patient, Patient.id == Infusion.patient_id)
        .outerjoin(patient_site, patient_site.id == Patient.site_id)
        .where(Unit.lot_id.in_(lot_ids))
        .order_by(Unit.lot_id, Unit.din)
    )


def after_unit(session: Session, lot_ids: list[int], din: str) -> Any:
    """Units after the unit `din` in trace order (lot, DIN): the keyset of the next page. A DIN
    that is no unit of these lots is refused, naming `after` (an empty page would read as the
    end of the trace)."""
    lot_id = session.scalar(select(Unit.lot_id).where(Unit.din == din, Unit.lot_id.in_(lot_ids)))
    if lot_id is None:
        raise ValidationFailed(
            said("No unit %(din)s in this trace to page on from.", din=din),
            {"after": N_("the DIN of a unit of this trace, as next_after gave it")},
        )
    return or_(Unit.lot_id > lot_id, and_(Unit.lot_id == lot_id, Unit.din > din))


def unit_places(
    session: Session,
    lots: dict[int, Lot],
    *,
    limit: int | None = None,
    after: str | None = None,
) -> list[UnitPlace]:
    """The units of the `lots` (by id), where each is (one statement whatever their number);
    `limit` units after the unit `after` (a DIN, one statement more) for a page."""
    # By the lots' ids, as values: PostgreSQL's planner then reads their units by the lot_id
    # index (a subquery of the lots made it join every unit first: 4x slower at 200,000 units).
    lot_ids = list(lots)
    stmt = _rows(lot_ids)
    if after:
        stmt = stmt.where(after_unit(session, lot_ids, after))
    if limit is not None:
        stmt = stmt.limit(limit)
    out = []
    # Units travel together: one Location per shipment and receipt, not one per unit.
    located: dict[tuple[str, bool, int | None], Location] = {}
    in_transit = ShipmentStatus.IN_TRANSIT
    # Through the connection: plain rows, without the ORM result machinery (a third of the time),
    # each dropped once read (by position: the order of _rows' columns).
    for row in session.connection().execute(stmt):
        lot = lots[row[3]]
        location, number = NOT_SHIPPED, row[9]
        if number is not None:
            key = (number, row[11] == in_transit, row[10] if row[12] else None)
            location = located.get(key) or located.setdefault(
                key, Location(None, True, number) if key[1] else Location(key[2], False, number)
            )
        reached = None
        if row[14] is not None:  # infused: patient, their site, when; the DIN and its check
            reached = Reached(lot.lot_number, row[1], row[14], row[15], row[16], row[2])
        out.append(UnitPlace(row[:9], lot, location, row[13], reached))
    return out


def reached_by(places: list[UnitPlace]) -> list[Reached]:
    """The patients these units reached, by lot number and DIN (as report.patients_reached)."""
    found = [p.received_by for p in places if p.received_by is not None]
    return sorted(found, key=lambda r: (r.lot_number, r.din))


@dataclass(frozen=True)
class Counts:
    units: int
    infused: int  # units infused
    patients: int  # distinct patients they were infused into


def counts(session: Session, lot_ids: list[int]) -> Counts:
    """How many units the lots hold, how many were infused and into how many patients (one
    statement): the totals a page of a trace reports."""
    units, infused, patients = session.execute(
        select(
            func.count(Unit.id), func.count(Infusion.id), func.count(distinct(Infusion.patient_id))
        )
        .select_from(Unit)
        .outerjoin(Infusion, Infusion.unit_id == Unit.id)
        .where(Unit.lot_id.in_(lot_ids))
    ).one()
    return Counts(units, infused, patients)


def counts_of(places: list[UnitPlace]) -> Counts:
    """The same totals, from every unit already read."""
    reached = [p.received_by for p in places if p.received_by is not None]
    return Counts(len(places), len(reached), len({r.patient for r in reached}))
