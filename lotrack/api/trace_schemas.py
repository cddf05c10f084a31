"""Response schemas of the trace and recall-impact API (issue 6, part 8); the requests are
lotrack/schemas/trace.py's. A patient is
named by its wristband "<SITE>/<SUBJECT>", a unit by its 13-character DIN, a lot by `lot_number`;
times are ISO 8601 in UTC."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from lotrack.api.release_schemas import NotificationOut

__all__ = ["NotificationOut"]

STATUSES = "infused, destroyed, in_transit, at_site, not_received or at_manufacturer"
UNIT_STATES = (
    "where the unit is and what happened to it: stored (at the manufacturer), in_transit,"
    " received (at `site`), missing (shipped, never received), thawed, infused or destroyed"
)


def _fn(get: Any, kind: str = "string", description: str = "", **kw: Any) -> fields.Function:
    return fields.Function(get, metadata={"type": kind, "description": description, **kw})


class TracePassageOut(Schema):
    number = fields.Integer()
    seeded_on = fields.Date()
    harvested_on = fields.Date()
    cells_seeded = fields.Integer()
    cells_harvested = fields.Integer()
    viability_percent = fields.Decimal(as_string=True, metadata={"type": "string"})


class InfusionTraceOut(Schema):
    """One infusion and the chain behind its unit (services.trace.InfusionTrace)."""

    infusion = _fn(lambda t: t.infusion.id, "integer", "the infusion record's id")
    started_at = _fn(lambda t: t.infusion.started_at.isoformat(), format="date-time")
    stopped_at = _fn(
        lambda t: t.infusion.stopped_at.isoformat() if t.infusion.stopped_at else None,
        format="date-time",
        nullable=True,
    )
    din = _fn(lambda t: t.unit.din, description="ISBT 128 DIN, 13 characters, no spaces")
    check_character = _fn(lambda t: t.unit.check_character)
    lot = _fn(lambda t: t.lot.lot_number, description="the lot number")
    lot_state = _fn(lambda t: t.lot.state, description="the lot's state now")
    run = _fn(lambda t: t.run.code, description="the production run")
    passages = fields.List(fields.Nested(TracePassageOut))
    wcb = _fn(lambda t: t.wcb.code, description="the working cell bank the run started from")
    mcb = _fn(lambda t: t.mcb.code, description="the WCB's master cell bank")
    clone = _fn(lambda t: t.clone.code)
    donor = _fn(lambda t: t.donor.code, description="the donor's coded id")
    donor_determination = _fn(lambda t: t.donor.determination)


class PatientTraceOut(Schema):
    """A patient back to the donor: every infusion, oldest first."""

    patient = _fn(lambda t: t.patient.wristband, description="<SITE>/<SUBJECT>")
    site = _fn(lambda t: t.patient.site.code)
    infusions = fields.List(fields.Nested(InfusionTraceOut))


class ReachedOut(Schema):
    """A patient infused from a lot: whom to follow up."""

    patient = fields.String(metadata={"description": "<SITE>/<SUBJECT>"})
    site = fields.String()
    lot = fields.String(attribute="lot_number")
    din = fields.String()
    infused_at = fields.DateTime()


class UnitPlaceOut(Schema):
    """A unit and where it is now (services.trace.UnitPlace)."""

    din = _fn(lambda p: p.unit.din, description="ISBT 128 DIN, 13 characters, no spaces")
    check_character = _fn(lambda p: p.unit.check_character)
    lot = _fn(lambda p: p.lot.lot_number)
    lot_state = _fn(lambda p: p.lot.state)
    state = _fn(lambda p: p.unit.state, description=UNIT_STATES)
    status = fields.String(metadata={"description": STATUSES + ", from the unit's state"})
    where = fields.String(metadata={"description": "where it is, in a sentence"})
    site = fields.String(
        allow_none=True, metadata={"description": "the site of its latest shipment"}
    )
    shipment = _fn(lambda p: p.location.shipment, nullable=True, description="its latest one")
    patient = _fn(
        lambda p: p.received_by.patient if p.received_by else None,
        nullable=True,
        description="who received it, once infused",
    )


class LotRow(Schema):
    lot_number = fields.String()
    state = fields.String()
    harvested_on = fields.Date()
    expires_on = fields.Date()


class ForwardOut(Schema):
    """From a donor, bank or lot forward: its lots, a page of its units with where each is and who
    received it, and the totals of every unit. Page on with `after` = `next_after` until it is
    null; the pages together hold every unit once and, in `patients`, every infusion once."""

    origin = fields.String(metadata={"description": 'e.g. "lot CFM-2025-0001"'})
    lots = fields.List(fields.Nested(LotRow))
    units = fields.List(
        fields.Nested(UnitPlaceOut), metadata={"description": "this page's units, by lot and DIN"}
    )
    patients = fields.List(
        fields.Nested(ReachedOut),
        metadata={"description": "the infusions of this page's units: whom they reached"},
    )
    unit_count = _fn(lambda t: t.counts.units, "integer", "every unit of the lots, all pages")
    infused_count = _fn(lambda t: t.counts.infused, "integer", "of them infused, all pages")
    patient_count = _fn(
        lambda t: t.counts.patients, "integer", "distinct patients they reached, all pages"
    )
    next_after = fields.String(
        allow_none=True,
        metadata={"description": "the DIN to ask `after` for the next page; null on the last"},
    )


class ImpactOut(Schema):
    """What a hold or recall means in the field: patients to follow, units to stop, who was told."""

    number = _fn(lambda i: i.containment.number)
    kind = _fn(lambda i: i.containment.kind, description="hold or recall")
    reason = _fn(lambda i: i.containment.reason)
    lots = fields.List(fields.Nested(LotRow))
    patients = fields.List(
        fields.Nested(ReachedOut), metadata={"description": "infused: to follow up"}
    )
    at_sites = fields.List(
        fields.Nested(UnitPlaceOut), metadata={"description": "received at a site: to quarantine"}
    )
    in_transit = fields.List(
        fields.Nested(UnitPlaceOut), metadata={"description": "on their way: stop on arrival"}
    )
    at_manufacturer = fields.List(
        fields.Nested(UnitPlaceOut), metadata={"description": "never shipped: quarantine"}
    )
    missing = fields.List(
        fields.Nested(UnitPlaceOut), metadata={"description": "shipped, not received: find"}
    )
    notifications = fields.List(fields.Nested(NotificationOut))
