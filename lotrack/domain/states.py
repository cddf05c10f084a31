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
    """A unit's own whereabouts; whether it may be used also depends on its lot's state."""

    STORED = "stored"
    DESTROYED = "destroyed"


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
