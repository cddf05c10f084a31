"""State tables. Lot transitions follow DESIGN.md; a change of state is a guarded update."""

from __future__ import annotations

from enum import StrEnum


class LotState(StrEnum):
    QUARANTINE = "QUARANTINE"
    RELEASED = "RELEASED"
    REJECTED = "REJECTED"
    ON_HOLD = "ON_HOLD"
    EXCEPTIONAL_RELEASE = "EXCEPTIONAL_RELEASE"
    RECALLED = "RECALLED"


LOT_TRANSITIONS: dict[LotState, frozenset[LotState]] = {
    LotState.QUARANTINE: frozenset(
        {LotState.RELEASED, LotState.REJECTED, LotState.ON_HOLD, LotState.EXCEPTIONAL_RELEASE}
    ),
    LotState.RELEASED: frozenset({LotState.ON_HOLD, LotState.RECALLED}),
    # A hold is lifted back to the state it interrupted (see domain/release.py), so a lot held in
    # quarantine returns to QUARANTINE and is never released by lifting a hold.
    LotState.ON_HOLD: frozenset(
        {
            LotState.QUARANTINE,
            LotState.RELEASED,
            LotState.EXCEPTIONAL_RELEASE,
            LotState.REJECTED,
            LotState.RECALLED,
        }
    ),
    # An exceptionally released lot has left the building like a released one: it can be held and
    # recalled (DESIGN.md listed no way out, which would leave a contaminated lot unrecallable).
    LotState.EXCEPTIONAL_RELEASE: frozenset({LotState.ON_HOLD, LotState.RECALLED}),
    LotState.REJECTED: frozenset(),
    LotState.RECALLED: frozenset(),
}

# States in which a lot's units may go to a patient (with their own bedside checks).
USABLE_LOT_STATES = frozenset({LotState.RELEASED, LotState.EXCEPTIONAL_RELEASE})


def lot_may_move(current: LotState, target: LotState) -> bool:
    return target in LOT_TRANSITIONS[current]


class VialState(StrEnum):
    STORED = "stored"
    WITHDRAWN = "withdrawn"
    DESTROYED = "destroyed"


class UnitState(StrEnum):
    """Where a unit is and what happened to it; whether it may be used also depends on its lot."""

    STORED = "stored"  # at the manufacturer, in its storage position
    IN_TRANSIT = "in_transit"  # on a shipment not yet received
    RECEIVED = "received"  # received at the shipment's site
    MISSING = "missing"  # shipped and not received: its cold chain is unknown, never used
    THAWED = "thawed"
    INFUSED = "infused"
    DESTROYED = "destroyed"


# Each move is a guarded update (UPDATE ... WHERE state = :expected): of two requests moving one
# unit at once, one succeeds and the other is refused.
UNIT_TRANSITIONS: dict[UnitState, frozenset[UnitState]] = {
    UnitState.STORED: frozenset({UnitState.IN_TRANSIT, UnitState.DESTROYED}),
    UnitState.IN_TRANSIT: frozenset({UnitState.RECEIVED, UnitState.MISSING}),
    UnitState.RECEIVED: frozenset({UnitState.THAWED, UnitState.DESTROYED}),
    UnitState.THAWED: frozenset({UnitState.INFUSED, UnitState.DESTROYED}),
    UnitState.MISSING: frozenset(),
    UnitState.INFUSED: frozenset(),
    UnitState.DESTROYED: frozenset(),
}


class Determination(StrEnum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    INCOMPLETE = "incomplete"


class BankTier(StrEnum):
    MCB = "MCB"
    WCB = "WCB"


class Qualification(StrEnum):
    PENDING = "pending"
    QUALIFIED = "qualified"
    NOT_QUALIFIED = "not_qualified"


class Container(StrEnum):
    BAG = "bag"
    VIAL = "vial"


# ---- quality and release records -------------------------------------------------------------


class DeviationStatus(StrEnum):
    OPEN = "open"  # blocks the release of its lot, or of every lot of its run
    CLOSED = "closed"


class InvestigationStatus(StrEnum):
    OPEN = "open"  # blocks the release of its lot and of its sibling lots
    CLOSED = "closed"


class Conclusion(StrEnum):
    """How an OOS investigation closes."""

    CONFIRMED = "confirmed_oos"  # the failure stands
    INVALIDATED = "invalidated"  # an assignable cause; the result is invalidated, a retest allowed


class ExceptionalStatus(StrEnum):
    PENDING = "pending"  # requested, waiting for QA's and the medical director's signatures
    APPROVED = "approved"  # both signatures given
    WITHDRAWN = "withdrawn"


class ContainmentKind(StrEnum):
    HOLD = "hold"
    RECALL = "recall"
    LOOKBACK = "lookback"  # a hold put by a fact that arose after the lot's release


class RecipientRole(StrEnum):
    """Who is told of an exceptional release or a recall."""

    PHYSICIAN = "physician"
    SPONSOR = "sponsor"
    SITE = "site"


# ---- the clinical side -----------------------------------------------------------------------


class PrescriptionStatus(StrEnum):
    OPEN = "open"  # units may be allocated to it (the only status lotrack writes so far)


class ShipmentStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"  # every unit received as sent
    DISCREPANCY = "discrepancy"  # received, with a unit missing or a condition noted


class ScanMethod(StrEnum):
    """How the label reached the bedside check."""

    WEDGE = "wedge"  # a keyboard-wedge scanner
    CAMERA = "camera"
    PHOTO = "photo"
    TYPED = "typed"


# ---- materials and equipment -----------------------------------------------------------------


class MaterialLotState(StrEnum):
    """A received lot of a material (serum, medium, enzyme, bag ...): usable only once approved."""

    QUARANTINE = "quarantine"  # received, awaiting its incoming inspection
    APPROVED = "approved"  # approved for use (signed)
    REJECTED = "rejected"  # refused at inspection (signed)
    ON_HOLD = "on_hold"  # held after approval: nothing may use it until QA decides again
    RECALLED = "recalled"  # by its supplier or by QA: never used again


MATERIAL_LOT_TRANSITIONS: dict[MaterialLotState, frozenset[MaterialLotState]] = {
    MaterialLotState.QUARANTINE: frozenset({MaterialLotState.APPROVED, MaterialLotState.REJECTED}),
    MaterialLotState.APPROVED: frozenset({MaterialLotState.ON_HOLD, MaterialLotState.RECALLED}),
    # A hold lifted under QA's signature returns the lot to use; the product lots it held wait
    # for their own decisions.
    MaterialLotState.ON_HOLD: frozenset({MaterialLotState.APPROVED, MaterialLotState.RECALLED}),
    MaterialLotState.REJECTED: frozenset(),
    MaterialLotState.RECALLED: frozenset(),
}


def material_lot_may_move(current: MaterialLotState, target: MaterialLotState) -> bool:
    return target in MATERIAL_LOT_TRANSITIONS[current]
