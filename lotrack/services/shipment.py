"""Shipments of units to a trial site, received there with condition and temperature record and
reconciled against what was shipped. A unit in transit cannot be infused."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, ScalarSelect, select
from sqlalchemy.orm import Session, aliased, selectinload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import USABLE_LOT_STATES
from lotrack.models import Shipment, ShipmentUnit, Site, Unit, User
from lotrack.services import audit
from lotrack.services.clinical import require_same_site, site_scope
from lotrack.services.common import Page, norm, page_of
from lotrack.services.numbering import issue


def ship(session: Session, actor: User, *, site_code: str, dins: list[str]) -> Shipment:
    """Send released, unexpired units that are not already on their way or at a site."""
    require(actor.role, "shipment.send")
    site = session.scalar(select(Site).where(Site.code == norm(site_code)))
    if site is None:
        raise ValidationFailed(f"No site {site_code}.", {"site": "unknown site"})
    wanted = [d.strip().upper() for d in dins if d.strip()]
    if not wanted or len(set(wanted)) != len(wanted):
        raise ValidationFailed("List each unit once.", {"units": "one or more distinct DINs"})
    units = {u.din: u for u in session.scalars(select(Unit).where(Unit.din.in_(wanted)))}
    today = utcnow().date()
    fields: dict[str, str] = {}
    for din in wanted:
        u = units.get(din)
        if u is None:
            fields[din] = "unknown DIN"
        elif u.state == "destroyed":
            fields[din] = "the unit was destroyed"
        elif u.lot.state not in USABLE_LOT_STATES:
            fields[din] = f"lot {u.lot.lot_number} is {u.lot.state}"
        elif u.lot.expires_on < today:
            fields[din] = f"expired on {u.lot.expires_on}"
        elif (where := location(session, u)).shipment is not None:
            # Received at a site, on its way, or lost on the way (its cold chain is unknown):
            # a unit leaves the manufacturer once.
            fields[din] = (
                f"shipped already on {where.shipment}"
                if where.site_id is not None or where.in_transit
                else f"shipped on {where.shipment} and never received; it may not be sent again"
            )
    if fields:
        raise ValidationFailed("The shipment cannot be sent.", fields)
    shipment = Shipment(
        number=issue(session, "SHP", utcnow().year, Shipment.number, 4),
        site=site,
        status="in_transit",
        shipped_by_id=actor.id,
    )
    audit.created(session, actor, shipment)
    session.flush()
    for din in wanted:
        item = ShipmentUnit(shipment_id=shipment.id, unit_id=units[din].id)
        audit.created(session, actor, item)
    return shipment


def receive(
    session: Session,
    actor: User,
    shipment: Shipment,
    *,
    received_dins: list[str],
    condition: str,
    temperature_record: str,
) -> Shipment:
    """The site confirms what arrived; anything missing or extra is a recorded discrepancy."""
    require(actor.role, "shipment.receive")
    require_same_site(actor, shipment.site_id)
    if shipment.status != "in_transit":
        raise Conflict(f"{shipment.number} was received already.", {"shipment": shipment.status})
    fields = {}
    if not (condition or "").strip():
        fields["condition"] = "required"
    if not (temperature_record or "").strip():
        fields["temperature_record"] = "required (e.g. the dry shipper's logger reading)"
    if fields:
        raise ValidationFailed("The receipt is incomplete.", fields)
    got = {d.strip().upper() for d in received_dins if d.strip()}
    shipped = {item.unit.din: item for item in shipment.items}
    missing = sorted(set(shipped) - got)
    extra = sorted(got - set(shipped))
    for din, item in shipped.items():
        audit.changed(
            session, actor, item, {"received": din in got}, reason=f"received {shipment.number}"
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
            "status": "discrepancy" if notes else "received",
            "received_by_id": actor.id,
            "received_at": utcnow(),
            "condition": condition.strip(),
            "temperature_record": temperature_record.strip(),
            "discrepancy": "; ".join(notes) or None,
        },
        reason="received at site",
    )
    return shipment


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
    if status == "in_transit":
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
        raise NotFound(f"No shipment {number}.", {"shipment": "no such shipment"})
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
