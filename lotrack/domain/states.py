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
