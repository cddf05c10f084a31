"""Materials and equipment: the three rules every path (page, API, CSV import) asks, over plain
facts the services gather.

- `material_refusal`: may this material lot be used on day D? Only an approved lot, on or before
  its expiry date (the whole expiry day counts). D is the calendar date of the use in the
  facility's zone (`domain/clock.local_date`), as every other date judgement is made.
- `calibration_refusal`: was this instrument in calibration on day D? Its latest passing
  calibration on or before D must not be due before D, and the calibration that followed it must
  not have found it out of tolerance (then everything since the last good one is in doubt).
- `lots_reached`: which product lots a material lot reached through the runs, passages and
  results that recorded its use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from lotrack.domain.states import MaterialLotState
from lotrack.domain.text import Said, said


class MaterialCategory(StrEnum):
    MEDIUM = "medium"
    SERUM = "serum"  # foetal bovine serum or human platelet lysate
    PLATELET_LYSATE = "platelet_lysate"
    ENZYME = "enzyme"
    CRYOPROTECTANT = "cryoprotectant"
    REAGENT = "reagent"
    BAG = "bag"


class EquipmentEventKind(StrEnum):
    CALIBRATION = "calibration"
    MAINTENANCE = "maintenance"


# ---- material lots -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialLotFact:
    number: str  # the receipt number, "MAT-2026-001"
    state: MaterialLotState
    expires_on: dt.date
    received_on: dt.date


def material_refusal(lot: MaterialLotFact, used_on: dt.date) -> Said | None:
    """Why `lot` may not be used on `used_on` (None: it may): approved, received by then, and
    not past its expiry date (usable through the whole expiry day)."""
    if lot.state != MaterialLotState.APPROVED:
        return said(
            "Material lot %(lot)s is %(state)s, not approved for use.",
            lot=lot.number,
            state=Said(str(lot.state)),  # a coded word, translated
        )
    if used_on < lot.received_on:
        return said(
            "Material lot %(lot)s was received on %(received)s, after its use on %(date)s.",
            lot=lot.number,
            received=lot.received_on,
            date=used_on,
        )
    if used_on > lot.expires_on:
        return said(
            "Material lot %(lot)s expired on %(expiry)s, before its use on %(date)s.",
            lot=lot.number,
            expiry=lot.expires_on,
            date=used_on,
        )
    return None


# What blocks the release of a product lot made with a material lot: a later decision that the
# material lot must not be used (the refusal at use already keeps out quarantined or expired ones).
BLOCKING_MATERIAL_STATES = frozenset(
    {MaterialLotState.ON_HOLD, MaterialLotState.RECALLED, MaterialLotState.REJECTED}
)


# ---- instruments -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationFact:
    performed_on: dt.date
    due_on: dt.date  # the next calibration is due on this day (still in calibration that day)
    passed: bool  # as found: within tolerance
    order: int = 0  # entry order, for two calibrations on one day (an adjustment after a failure)


def calibration_refusal(
    instrument: str, calibrations: Iterable[CalibrationFact], on: dt.date
) -> Said | None:
    """Why results on `instrument` on day `on` cannot be trusted (None: it was in calibration)."""
    ordered = sorted(calibrations, key=lambda c: (c.performed_on, c.order))
    before = [i for i, c in enumerate(ordered) if c.passed and c.performed_on <= on]
    if not before:
        return said(
            "Instrument %(instrument)s had no passing calibration on or before %(date)s.",
            instrument=instrument,
            date=on,
        )
    last = ordered[before[-1]]
    if on > last.due_on:
        return said(
            "Instrument %(instrument)s was out of calibration on %(date)s: its calibration was"
            " due on %(due)s.",
            instrument=instrument,
            date=on,
            due=last.due_on,
        )
    following = ordered[before[-1] + 1 : before[-1] + 2]
    if following and not following[0].passed:
        return said(
            "Instrument %(instrument)s was found out of tolerance on %(found)s; results since"
            " its calibration on %(date)s are in doubt.",
            instrument=instrument,
            found=following[0].performed_on,
            date=last.performed_on,
        )
    return None


# ---- which product lots a material lot reached -------------------------------------------------


@dataclass(frozen=True)
class UseFact:
    """One recorded use: in a run (all its lots), a passage (the lots harvested after it), or a
    result on a lot (that lot). A bank's result reaches no product lot."""

    run_id: int | None
    passage_harvested_on: dt.date | None = None
    lot_id: int | None = None


@dataclass(frozen=True)
class LotMade:
    lot_id: int
    run_id: int
    harvested_on: dt.date


def lots_reached(uses: Iterable[UseFact], lots: Iterable[LotMade]) -> list[int]:
    """The ids of the product lots the uses reached, in id order."""
    uses = list(uses)
    reached: set[int] = {u.lot_id for u in uses if u.lot_id is not None}
    for lot in lots:
        for use in uses:
            if use.lot_id is not None or use.run_id != lot.run_id:
                continue
            # A passage made a lot only if it was harvested by the lot's harvest.
            if use.passage_harvested_on is None or use.passage_harvested_on <= lot.harvested_on:
                reached.add(lot.lot_id)
                break
    return sorted(reached)
