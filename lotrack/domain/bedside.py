"""The bedside hard stop: GO only when every check passes; otherwise NO-GO with every reason.

Facts are gathered by the service; this module only judges them, so each rule can be tried alone
and in combination. A missing fact is never read as a safe one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from lotrack.domain.states import LotState


@dataclass(frozen=True)
class BedsideFacts:
    label_genuine: bool
    label_reason: str = ""  # why the label was not accepted
    unit_found: bool = False
    din: str = ""
    lot_number: str = ""
    lot_state: str = ""
    lot_expires_on: dt.date | None = None
    exceptional_acknowledged: bool = False
    unit_destroyed: bool = False
    received_at_site: bool = False  # received at the scanning user's site
    in_transit: bool = False
    already_infused: bool = False
    patient_found: bool = False
    patient_code: str = ""
    allocated_to_patient: bool = False
    allocated_to_other: bool = False
    patient_consented: bool = False
    patient_eligible: bool = False
    eligibility_problems: tuple[str, ...] = ()
    prescribed_cells: int | None = None  # cells/kg × weight for this infusion
    cells_given_before: int = 0  # of this prescription, already infused
    unit_cells: int = 0
    dose_tolerance: Decimal = Decimal("0.10")
    thawed_at: dt.datetime | None = None
    post_thaw_minutes: int | None = None  # from the lot's release specification
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class BedsideVerdict:
    go: bool
    reasons: tuple[str, ...]
    needs_acknowledgement: bool = False  # exceptional release not yet acknowledged


def check(f: BedsideFacts) -> BedsideVerdict:
    reasons: list[str] = []
    if not f.label_genuine:
        reasons.append(
            f"The label is not genuine: {f.label_reason or 'unreadable'}. Do not use it."
        )
        return BedsideVerdict(False, tuple(reasons))
    if not f.unit_found:
        reasons.append(f"No unit {f.din} is known to lotrack.")
        return BedsideVerdict(False, tuple(reasons))
    if not f.patient_found:
        reasons.append("The wristband does not match a patient of this site.")
    ack = False
    state = f.lot_state
    if state == LotState.EXCEPTIONAL_RELEASE:
        if not f.exceptional_acknowledged:
            ack = True
            reasons.append(
                f"Lot {f.lot_number} was released by exception: the physician must acknowledge"
                " the exceptional release before infusion."
            )
    elif state == LotState.RECALLED:
        reasons.append(f"Lot {f.lot_number} has been RECALLED. Do not infuse; quarantine the unit.")
    elif state == LotState.ON_HOLD:
        reasons.append(f"Lot {f.lot_number} is ON HOLD. Do not infuse.")
    elif state != LotState.RELEASED:
        reasons.append(
            f"Lot {f.lot_number} is {state.replace('_', ' ') or 'in an unknown state'};"
            " only a released lot may be infused."
        )
    today = f.now.date()
    if f.lot_expires_on is None or f.lot_expires_on < today:
        reasons.append(
            f"The unit expired on {f.lot_expires_on}."
            if f.lot_expires_on
            else "The unit's expiry date is unknown."
        )
    if f.unit_destroyed:
        reasons.append("The unit is recorded as destroyed.")
    if f.already_infused:
        reasons.append("This unit has been infused already.")
    if f.in_transit:
        reasons.append("The unit is still in transit: receive it at this site first.")
    elif not f.received_at_site:
        reasons.append("The unit has not been received at this site.")
    if f.allocated_to_other:
        reasons.append("The unit is allocated to another patient.")
    elif not f.allocated_to_patient:
        reasons.append("The unit is not allocated to this patient.")
    if f.patient_found:
        if not f.patient_consented:
            reasons.append("The patient's informed consent is not recorded.")
        if not f.patient_eligible:
            problems = (
                "; ".join(f.eligibility_problems) or "the eligibility checklist is incomplete"
            )
            reasons.append(f"The patient is not eligible: {problems}.")
    reasons.extend(_dose(f))
    reasons.extend(_thaw(f))
    return BedsideVerdict(not reasons, tuple(reasons), ack)


def _dose(f: BedsideFacts) -> list[str]:
    if f.prescribed_cells is None or f.prescribed_cells <= 0:
        return ["No prescription with a dose is recorded for this patient."]
    ceiling = Decimal(f.prescribed_cells) * (1 + f.dose_tolerance)
    total = f.cells_given_before + f.unit_cells
    if Decimal(total) > ceiling:
        return [
            f"This unit would bring the dose to {total:,} cells, above the prescribed"
            f" {f.prescribed_cells:,} (+{f.dose_tolerance:.0%} tolerance)."
        ]
    return []


def _thaw(f: BedsideFacts) -> list[str]:
    if f.post_thaw_minutes is None:
        return ["The specification states no post-thaw use window; the unit cannot be checked."]
    if f.thawed_at is None:
        return ["The thaw time is not recorded: record it before infusion."]
    if f.thawed_at > f.now + dt.timedelta(minutes=1):
        return ["The recorded thaw time is in the future."]
    elapsed = f.now - f.thawed_at
    # Compared in seconds: a timedelta of an absurd window from a spec would overflow.
    if elapsed.total_seconds() > f.post_thaw_minutes * 60:
        minutes = int(elapsed.total_seconds() // 60)
        return [
            f"The unit was thawed {minutes} minutes ago; it must be infused within"
            f" {f.post_thaw_minutes} minutes of thawing."
        ]
    return []
