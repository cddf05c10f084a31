"""Responses of what waits on someone's decision (services/decisions.py): QA's "needs decision"
queue of lots ON_HOLD with the hold record that put each there, and a patient's exceptional
releases awaiting the treating physician's acceptance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields

from lotrack.api.release_schemas import AcceptedExceptionalOut, HoldOut
from lotrack.models import Containment, Signature
from lotrack.services.decisions import HeldLot, PatientRelease


@dataclass
class HoldView:
    """A hold record with its trigger as people name it (HoldOut); other attributes are the
    record's own."""

    record: Containment
    trigger: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


def hold_view(found: HeldLot | None) -> HoldView | None:
    """Why a held lot is held (HoldOut), or None: not held, or held with no record."""
    if found is None or found.hold is None:
        return None
    return HoldView(found.hold, found.trigger.label if found.trigger else None)


def held_lot(found: HeldLot) -> dict[str, Any]:
    """One row of the needs-decision queue (HeldLotOut)."""
    return {
        "lot_number": found.lot_number,
        "state": found.state,
        "held_from": found.held_from,
        "hold": hold_view(found),
    }


class HeldLotOut(Schema):
    """A lot ON_HOLD, waiting on QA: lift the hold (a new signed decision), reject or recall."""

    lot_number = fields.String()
    state = fields.String(metadata={"description": "ON_HOLD"})
    held_from = fields.String(
        allow_none=True, metadata={"description": "the state the hold interrupted"}
    )
    hold = fields.Nested(
        HoldOut,
        allow_none=True,
        metadata={"description": "the latest hold record that reached the lot"},
    )


@dataclass
class ReleaseView:
    """An exceptional release for a patient with the physician's acceptance (PatientReleaseOut);
    other attributes are the request's own."""

    release: PatientRelease

    @property
    def acceptance(self) -> Signature | None:
        return self.release.acceptance

    @property
    def awaiting_acceptance(self) -> bool:
        return self.release.awaiting

    def __getattr__(self, name: str) -> Any:
        return getattr(self.release.er, name)


class PatientReleaseOut(AcceptedExceptionalOut):
    """One of a patient's exceptional releases (GET patients/<wristband>/exceptional-releases)."""


class PatientReleasesOut(Schema):
    patient = fields.String(metadata={"description": "the wristband (SITE/SUBJECT)"})
    items = fields.List(fields.Nested(PatientReleaseOut), metadata={"description": "oldest first"})
