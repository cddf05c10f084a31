"""Response schemas of the QA decision API (issue 4): signing, the release review,
exceptional release, deviations, holds and recalls; their requests are
lotrack/schemas/release.py's. Field names are the public contract (DESIGN.md); times are ISO 8601
with their zone (UTC)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from marshmallow import Schema, fields

from lotrack.services.signature import ShownSignature
from lotrack.services.timeline import Entry


class SignatureOut(Schema):
    """An electronic signature: who, when (UTC), what it means, the SHA-256 of the dossier."""

    id = fields.Integer()
    action = fields.String(metadata={"description": "release, reject, hold, recall, review..."})
    meaning = fields.String()
    signer = fields.String(attribute="signer_username", metadata={"description": "username"})
    signer_name = fields.String()
    signed_at = fields.DateTime(metadata={"description": "ISO 8601 with zone (UTC)"})
    dossier_sha256 = fields.String()
    reason = fields.String()


class ShownSignatureOut(SignatureOut):
    """A signature as shown later: void when the dossier changed after it was given."""

    void = fields.Boolean(metadata={"description": "the dossier no longer hashes as signed"})

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if isinstance(obj, ShownSignature):
            if attr == "void":
                return obj.void
            obj = obj.signature
        return super().get_attribute(obj, attr, default)


class DecisionOut(Schema):
    """A lot after a signed decision: its new state and the signature given."""

    lot_number = fields.String()
    state = fields.String()
    held_from = fields.String(allow_none=True, metadata={"description": "state a hold kept"})
    signature = fields.Nested(SignatureOut)
    containment = fields.String(
        allow_none=True, metadata={"description": "the hold or recall number (HLD-/RCL-)"}
    )


class SignaturesOut(Schema):
    lot = fields.String()
    items = fields.List(fields.Nested(ShownSignatureOut))


class ReleaseBlocker(Schema):
    kind = fields.String(
        metadata={
            "description": "missing, pending, failing, unverified, investigation (on the lot or a"
            " sibling), passage, in-process, bank, donor, deviation or spec"
        }
    )
    subject = fields.String()
    message = fields.String()


class PinnedSpecVersion(Schema):
    label = fields.String()
    product = fields.String()
    stage = fields.String()
    version = fields.Integer()
    content_hash = fields.String()
    approved_at = fields.DateTime(allow_none=True)


def _username(path: str) -> fields.Function:
    def get(obj: Any) -> str | None:
        user = getattr(obj, path)
        return user.username if user is not None else None

    return fields.Function(
        get, allow_none=True, metadata={"type": "string", "description": "username, or null"}
    )


class DeviationOut(Schema):
    number = fields.String()
    lot = fields.Function(
        lambda d: d.lot.lot_number if d.lot else None,
        allow_none=True,
        metadata={"type": "string", "description": "the lot concerned, or null"},
    )
    run = fields.Function(
        lambda d: d.run.code if d.run else None,
        allow_none=True,
        metadata={"type": "string", "description": "the run concerned, or null"},
    )
    description = fields.String()
    impact_assessment = fields.String()
    status = fields.String(metadata={"description": "open (blocks release) or closed"})
    closure = fields.String(allow_none=True)
    opened_by = _username("opened_by")
    opened_at = fields.DateTime()
    closed_by = _username("closed_by")
    closed_at = fields.DateTime(allow_none=True)


class RecordRef(Schema):
    number = fields.String()
    status = fields.String()


class ContainmentRef(Schema):
    number = fields.String()
    kind = fields.String()


class HoldOut(Schema):
    """The hold record that put a lot ON_HOLD: QA's signed hold, or a lookback (a fact that
    arose after release; its trigger names the fact's record)."""

    number = fields.String(metadata={"description": "HLD-... (QA's hold) or LBK-... (lookback)"})
    kind = fields.String(metadata={"description": "hold or lookback"})
    reason = fields.String()
    trigger_entity = fields.String(
        allow_none=True, metadata={"description": "a lookback's triggering record type, or null"}
    )
    trigger_id = fields.String(allow_none=True)
    trigger = fields.String(
        allow_none=True, metadata={"description": "that record as people name it, e.g. OOS-..."}
    )
    created_at = fields.DateTime()
    created_by = _username("created_by")


class ReviewOut(Schema):
    """Everything QA decides on, with every blocker to release named."""

    lot_number = fields.String()
    state = fields.String()
    held_from = fields.String(allow_none=True)
    releasable = fields.Boolean()
    blockers = fields.List(fields.Nested(ReleaseBlocker))
    warnings = fields.List(fields.String())
    spec_version = fields.Nested(PinnedSpecVersion, allow_none=True)
    newer_spec_version = fields.String(
        allow_none=True, metadata={"description": "a newer approved version than the pinned one"}
    )
    deviations = fields.List(fields.Nested(DeviationOut), metadata={"description": "open ones"})
    signatures = fields.List(fields.Nested(ShownSignatureOut))
    exceptional_releases = fields.List(fields.Nested(RecordRef))
    containments = fields.List(fields.Nested(ContainmentRef))
    hold = fields.Nested(
        HoldOut,
        allow_none=True,
        metadata={"description": "why an ON_HOLD lot is held (its latest hold record), or null"},
    )


class NotificationOut(Schema):
    recipient_role = fields.String()
    recipient = fields.String()
    method = fields.String()
    notified_at = fields.DateTime()
    note = fields.String()
    recorded_by = _username("recorded_by")
    recorded_at = fields.DateTime()


class ExceptionalOut(Schema):
    number = fields.String()
    lot = fields.Function(lambda er: er.lot.lot_number)
    state = fields.Function(
        lambda er: er.lot.state, metadata={"description": "the lot's state now"}
    )
    status = fields.String(metadata={"description": "pending, approved or withdrawn"})
    physician = fields.String()
    patient = fields.String(metadata={"description": "the patient's wristband (SITE/SUBJECT)"})
    request = fields.String()
    requested_on = fields.Date()
    risk_assessment = fields.String()
    blockers = fields.Function(
        lambda er: json.loads(er.blockers),
        metadata={"type": "array", "items": {"type": "string"}, "description": "when requested"},
    )
    created_by = _username("created_by")
    created_at = fields.DateTime()


class AcceptedExceptionalOut(ExceptionalOut):
    """A request with the treating physician's acceptance (a base: its lists and the API's
    per-patient answer add to it)."""

    acceptance = fields.Nested(
        SignatureOut,
        allow_none=True,
        metadata={"description": "the treating physician's signed acceptance, or null"},
    )
    awaiting_acceptance = fields.Boolean(
        metadata={"description": "pending or approved, and not yet accepted by the physician"}
    )


class ExceptionalDetail(AcceptedExceptionalOut):
    signatures = fields.List(fields.Nested(ShownSignatureOut))
    notifications = fields.List(fields.Nested(NotificationOut))
    before_allocation = fields.List(
        fields.String(),
        metadata={
            "description": "what is still missing before a unit may be allocated (approved"
            " requests): the physician's acceptance, the sponsor's notification"
        },
    )


class ExceptionalSigned(ExceptionalDetail):
    signature = fields.Nested(SignatureOut, metadata={"description": "the signature just given"})


class ContainmentLotOut(Schema):
    lot = fields.Function(lambda link: link.lot.lot_number)
    from_state = fields.String()
    to_state = fields.String()
    state = fields.Function(lambda link: link.lot.state, metadata={"description": "now"})


class AffectedUnitOut(Schema):
    din = fields.Function(lambda a: a.unit.din)
    check_character = fields.Function(lambda a: a.unit.check_character)
    lot = fields.String(attribute="lot_number")
    lot_state = fields.String()
    container = fields.Function(lambda a: a.unit.container)
    state = fields.Function(
        lambda a: a.where.state,
        metadata={
            "description": "the unit's state: stored, in_transit, received, missing,"
            " thawed, infused or destroyed"
        },
    )
    where = fields.Function(lambda a: a.where.text, metadata={"description": "where it is now"})
    site = fields.Function(lambda a: a.where.site, allow_none=True)
    # Its storage position only while it is stored at the manufacturer; null once it has left.
    freezer = fields.Function(lambda a: a.unit.freezer if a.where.storage else None)
    rack = fields.Function(lambda a: a.unit.rack if a.where.storage else None)
    box = fields.Function(lambda a: a.unit.box if a.where.storage else None)
    position = fields.Function(lambda a: a.unit.position if a.where.storage else None)


class ContainmentOut(Schema):
    number = fields.String()
    kind = fields.String(
        metadata={"description": "hold, recall, or lookback (a fact that arose after release)"}
    )
    lot = fields.Function(
        lambda c: c.lot.lot_number if c.lot else None,
        allow_none=True,
        metadata={"type": "string", "description": "the lot held or recalled, or null"},
    )
    bank = fields.Function(
        lambda c: c.bank.code if c.bank else None,
        allow_none=True,
        metadata={"type": "string", "description": "the cell bank held or recalled, or null"},
    )
    material_lot = fields.Function(
        lambda c: c.material_lot.number if c.material_lot else None,
        allow_none=True,
        metadata={"type": "string", "description": "the material lot held or recalled, or null"},
    )
    reason = fields.String()
    trigger_entity = fields.String(
        allow_none=True, metadata={"description": "a lookback's triggering record type, or null"}
    )
    trigger_id = fields.String(allow_none=True)
    created_by = _username("created_by")
    created_at = fields.DateTime()
    lots = fields.List(fields.Nested(ContainmentLotOut))


class ContainmentDetail(ContainmentOut):
    trigger = fields.String(
        allow_none=True, metadata={"description": "the triggering record as people name it"}
    )
    units = fields.List(fields.Nested(AffectedUnitOut), metadata={"description": "where they are"})
    signatures = fields.List(fields.Nested(ShownSignatureOut))
    notifications = fields.List(fields.Nested(NotificationOut))


class TimelineEntryOut(Schema):
    seq = fields.Integer()
    at = fields.Function(lambda e: iso_at(e), metadata={"type": "string", "format": "date-time"})
    actor = fields.String()
    action = fields.String()
    record = fields.String(metadata={"description": "entity type and id, e.g. 'lot 4'"})
    changes = fields.String()
    reason = fields.String()


class TimelineOut(Schema):
    lot = fields.String()
    items = fields.List(fields.Nested(TimelineEntryOut))


def iso_at(entry: Entry) -> str:
    """The timeline's UTC time as ISO 8601 with its zone."""
    return entry.moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()
