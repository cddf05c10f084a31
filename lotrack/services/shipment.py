"""Shipments of units to a trial site, received there with condition and temperature record and
reconciled against what was shipped. A unit in transit cannot be infused.

A unit leaves the manufacturer once and is received once: shipping moves it stored -> in_transit
and the receipt in_transit -> received (or missing), each a guarded update (services/lot.py
move_unit), so of parallel requests for one unit one succeeds and the others get a Conflict (409).
shipment_unit.unit_id is UNIQUE: the database's last word if a race ever gets past the guard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, ScalarSelect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, selectinload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import ShipmentStatus, UnitState
from lotrack.domain.text import N_, Said, said
from lotrack.models import (
    Allocation,
    Patient,
    Prescription,
    Shipment,
    ShipmentUnit,
    Site,
    Unit,
    User,
)
from lotrack.services import audit
from lotrack.services import lot as lots
from lotrack.services.clinical import require_same_site, site_scope
from lotrack.services.common import Page, in_turn, norm, page_of
from lotrack.services.numbering import issue


def ship(session: Session, actor: User, *, site_code: str, dins: list[str]) -> Shipment:
    """Send units that may go on (domain/distribution.py: to the patient each is allocated to,
    if any) and are still stored at the manufacturer."""
    require(actor.role, "shipment.send")
    site = session.scalar(select(Site).where(Site.code == norm(site_code)))
    if site is None:
        raise ValidationFailed(
            said("No site %(site)s.", site=site_code), {"site": N_("unknown site")}
        )
    wanted = lots.read_dins(dins)
    if not wanted or len(set(wanted)) != len(wanted):
        raise ValidationFailed(
            N_("List each unit once."), {"units": N_("one or more distinct DINs")}
        )
    units = {u.din: u for u in session.scalars(select(Unit).where(Unit.din.in_(wanted)))}
    patients = _allocated_patients(session, [u.id for u in units.values()])
    fields: dict[str, str] = {}
    for din in wanted:
        u = units.get(din)
        allocated = patients.get(u.id) if u is not None else None
        if u is None:
            fields[din] = N_("unknown DIN")
        elif reasons := lots.unit_refusals(
            session, u, patient_id=allocated.id if allocated else None
        ):
            fields[din] = lots.refusal_text(reasons)
        elif allocated is not None and allocated.site_id != site.id:
            # Sent elsewhere it could never be given to its patient (the bedside would refuse).
            fields[din] = said(
                "allocated to %(patient)s, a patient of another site", patient=allocated.wristband
            )
    if fields:
        raise ValidationFailed(N_("The shipment cannot be sent."), fields)
    left = [units[din] for din in wanted if units[din].state != UnitState.STORED]
    if left:
        places = whereabouts(session, left)
        gone = {u.din: said("is %(place)s", place=places[u.id].text) for u in left}
        listed = in_turn(said("%(din)s %(why)s", din=din, why=why) for din, why in gone.items())
        raise Conflict(
            said(
                "A unit leaves the manufacturer once; these are no longer in the store:"
                " %(units)s. Nothing was sent.",
                units=listed,
            ),
            gone,
        )
    shipment = Shipment(
        number=issue(session, "SHP", utcnow().year, Shipment.number, 4),
        site=site,
        status=ShipmentStatus.IN_TRANSIT,
        shipped_by_id=actor.id,
        shipped_at=utcnow(),  # the service's clock, which the logger's journey is judged from
    )
    audit.created(session, actor, shipment)
    session.flush()
    for din in wanted:
        _send(session, actor, shipment, units[din], site.code)
    return shipment


def _allocated_patients(session: Session, unit_ids: list[int]) -> dict[int, Patient]:
    """unit id -> the patient it is allocated to (units not allocated are absent)."""
    rows = session.execute(
        select(Allocation.unit_id, Patient)
        .join(Prescription, Allocation.prescription_id == Prescription.id)
        .join(Patient, Prescription.patient_id == Patient.id)
        .where(Allocation.unit_id.in_(unit_ids or [-1]))
    )
    return {unit_id: patient for unit_id, patient in rows}


def _send(session: Session, actor: User, shipment: Shipment, unit: Unit, site: str) -> None:
    """Put one unit on the shipment: the guarded move first, the UNIQUE row as the last word."""
    taken = Conflict(
        said(
            "Unit %(din)s was shipped by someone else a moment ago; nothing was sent.", din=unit.din
        ),
        {unit.din: N_("shipped already")},
    )
    try:
        lots.move_unit(
            session,
            actor,
            unit,
            UnitState.IN_TRANSIT,
            reason=f"shipped to {site} ({shipment.number})",
        )
    except Conflict as err:
        raise taken from err
    item = ShipmentUnit(shipment_id=shipment.id, unit_id=unit.id)
    try:
        with session.begin_nested():
            session.add(item)
    except IntegrityError as err:  # on another shipment already: the unique index said no
        raise taken from err
    audit.created(session, actor, item)


def receive(
    session: Session,
    actor: User,
    shipment: Shipment,
    *,
    received_dins: list[str],
    condition: str,
    temperature_record: str,
) -> Shipment:
    """The site confirms what arrived; anything missing or extra is a recorded discrepancy. Each
    unit shipped becomes received (or missing) once, by a guarded update."""
    require(actor.role, "shipment.receive")
    require_same_site(actor, shipment.site_id)
    if shipment.status != ShipmentStatus.IN_TRANSIT:
        raise Conflict(
            said("%(shipment)s was received already.", shipment=shipment.number),
            {"shipment": shipment.status},
        )
    fields = {}
    if not (condition or "").strip():
        fields["condition"] = N_("required")
    if not (temperature_record or "").strip():
        fields["temperature_record"] = N_("required (e.g. the dry shipper's logger reading)")
    if fields:
        raise ValidationFailed(N_("The receipt is incomplete."), fields)
    got = set(lots.read_dins(received_dins, "received"))
    shipped = {item.unit.din: item for item in shipment.items}
    missing = sorted(set(shipped) - got)
    extra = sorted(got - set(shipped))
    for din, item in shipped.items():
        arrived = din in got
        try:
            lots.move_unit(
                session,
                actor,
                item.unit,
                UnitState.RECEIVED if arrived else UnitState.MISSING,
                reason=f"{'received' if arrived else 'not received'} at {shipment.site.code}"
                f" ({shipment.number})",
            )
        except Conflict as err:  # another receipt of this shipment won the race
            raise Conflict(
                said(
                    "%(shipment)s was received by someone else a moment ago.",
                    shipment=shipment.number,
                ),
                {"shipment": N_("received already")},
            ) from err
        audit.changed(
            session, actor, item, {"received": arrived}, reason=f"received {shipment.number}"
        )
    notes = []
    if missing:
        notes.append(f"missing: {', '.join(missing)}")
    if extra:
        notes.append(f"not on the shipment: {', '.join(extra)}")
    audit.changed(
        session,
        actor,
        shipment,
        {
            "status": ShipmentStatus.DISCREPANCY if notes else ShipmentStatus.RECEIVED,
            "received_by_id": actor.id,
            "received_at": utcnow(),
            "condition": condition.strip(),
            "temperature_record": temperature_record.strip(),
            "discrepancy": "; ".join(notes) or None,
        },
        reason="received at site",
    )
    return shipment


# ---- where a unit is, as every page and record shows it ---------------------------------------


@dataclass(frozen=True)
class Whereabouts:
    """A unit's state and place: the site it was shipped to, and its storage position only while
    it is stored at the manufacturer (a unit shipped and infused is no longer in its freezer)."""

    state: str
    site: str | None = None  # the code of the site it was shipped to
    shipment: str | None = None
    storage: str | None = None  # "LN2-2 / rack C / box 1", only while stored

    @property
    def text(self) -> str:
        """Where the unit is, in words (said in the reader's language at the edge)."""
        site, shipment = self.site, self.shipment
        if self.state == UnitState.STORED:
            return said("stored at the manufacturer")
        if self.state == UnitState.IN_TRANSIT:
            return said("in transit to %(site)s (%(shipment)s)", site=site, shipment=shipment)
        if self.state == UnitState.MISSING:
            return said(
                "missing: shipped to %(site)s (%(shipment)s), never received",
                site=site,
                shipment=shipment,
            )
        if self.state in _AT_SITE:
            here, elsewhere = _AT_SITE[UnitState(self.state)]
            return said(here, site=site) if site else Said(elsewhere)
        return Said(self.state.replace("_", " "))


# A unit's state where it may be at a site: (the words with the site, without one).
_AT_SITE = {
    UnitState.RECEIVED: (N_("received at %(site)s"), N_("received")),
    UnitState.THAWED: (N_("thawed at %(site)s"), N_("thawed")),
    UnitState.INFUSED: (N_("infused at %(site)s"), N_("infused")),
    UnitState.DESTROYED: (N_("destroyed at %(site)s"), N_("destroyed")),
}


def storage_of(unit: Unit) -> str | None:
    """Freezer / rack / box / position, while the unit is in them (stored); otherwise None."""
    if unit.state != UnitState.STORED or not unit.freezer:
        return None
    parts = [unit.freezer, f"rack {unit.rack or '—'}", f"box {unit.box or '—'}"]
    return " / ".join(parts + ([unit.position] if unit.position else []))


def whereabouts_of(unit: Unit, site: str | None, shipment: str | None) -> Whereabouts:
    """A unit's Whereabouts from its state and its shipment's site code and number (if any)."""
    return Whereabouts(unit.state, site, shipment, storage_of(unit))


def whereabouts(session: Session, units: Sequence[Unit]) -> dict[int, Whereabouts]:
    """unit id -> Whereabouts, for any number of units in one query."""
    shipped = {
        unit_id: (code, number)
        for unit_id, code, number in session.execute(
            select(ShipmentUnit.unit_id, Site.code, Shipment.number)
            .join(Shipment, ShipmentUnit.shipment_id == Shipment.id)
            .join(Site, Shipment.site_id == Site.id)
            .where(ShipmentUnit.unit_id.in_([u.id for u in units] or [-1]))
        )
    }
    return {u.id: whereabouts_of(u, *shipped.get(u.id, (None, None))) for u in units}


@dataclass(frozen=True)
class Location:
    site_id: int | None  # received at this site
    in_transit: bool
    shipment: str | None


# What locates a unit: its latest shipment's number, site and status, and whether it was received.
LOCATION_COLUMNS = (Shipment.number, Shipment.site_id, Shipment.status, ShipmentUnit.received)


def latest_shipment_of(unit_id: ColumnElement[int]) -> ScalarSelect[int]:
    """The id of the unit's latest shipment, correlated to `unit_id` (None if never shipped);
    outer-join ShipmentUnit and Shipment on it to read LOCATION_COLUMNS in the caller's query."""
    other = aliased(ShipmentUnit)  # the caller's query joins ShipmentUnit itself
    return (
        select(other.shipment_id)
        .where(other.unit_id == unit_id)
        .order_by(other.shipment_id.desc())
        .limit(1)
        .scalar_subquery()
    )


def location_of(
    number: str | None, site_id: int | None, status: str | None, received: bool | None
) -> Location:
    """The Location that LOCATION_COLUMNS of the latest shipment (all None: none) describe."""
    if number is None:
        return Location(None, False, None)
    if status == ShipmentStatus.IN_TRANSIT:
        return Location(None, True, number)
    return Location(site_id if received else None, False, number)


def location(session: Session, unit: Unit) -> Location:
    """Where a unit is: at the manufacturer, in transit, or received at a site."""
    row = session.execute(
        select(*LOCATION_COLUMNS)
        .join(ShipmentUnit, ShipmentUnit.shipment_id == Shipment.id)
        .where(ShipmentUnit.unit_id == unit.id)
        .order_by(Shipment.id.desc())
        .limit(1)
    ).first()
    return location_of(*row) if row is not None else location_of(None, None, None, None)


def get_shipment(session: Session, actor: User, number: str) -> Shipment:
    require(actor.role, "shipment.read")
    shipment = session.scalar(
        select(Shipment)
        .where(Shipment.number == norm(number))
        .options(
            selectinload(Shipment.items).joinedload(ShipmentUnit.unit).joinedload(Unit.lot),
            selectinload(Shipment.shipped_by),
            selectinload(Shipment.received_by),
        )
    )
    if shipment is None or (
        site_scope(actor) is not None and site_scope(actor) != shipment.site_id
    ):
        raise NotFound(
            said("No shipment %(number)s.", number=number), {"shipment": N_("no such shipment")}
        )
    return shipment


def list_shipments(
    session: Session, actor: User, page: int = 1, per_page: int = 50
) -> Page[Shipment]:
    require(actor.role, "shipment.read")
    stmt = (
        select(Shipment)
        .options(
            selectinload(Shipment.site),
            selectinload(Shipment.items).joinedload(ShipmentUnit.unit).joinedload(Unit.lot),
            selectinload(Shipment.shipped_by),
            selectinload(Shipment.received_by),
        )
        .order_by(Shipment.id.desc())
    )
    if site_scope(actor) is not None:
        stmt = stmt.where(Shipment.site_id == site_scope(actor))
    return page_of(session, stmt, page, per_page)
