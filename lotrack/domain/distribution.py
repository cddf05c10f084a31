"""Whether a unit may go on toward a patient: be allocated, shipped or infused. One rule over one
plain value of the unit's facts; allocation, shipping, the bedside and `/v/` all read it. The
bedside adds the patient's side and the steps at the bedside (domain/bedside.py).

Reasons carry a severity, so that the most serious one is shown first: a nurse at 2 a.m. must see
"RECALLED" before "the thaw time is not recorded".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

from lotrack.domain.clock import expired
from lotrack.domain.states import LotState, UnitState
from lotrack.domain.text import N_, Said


class Severity(IntEnum):
    """Most serious first."""

    RECALL = 0  # the lot is recalled: quarantine the unit
    NOT_GENUINE = 1  # the label or the unit cannot be trusted
    HOLD = 2  # the lot is held or was never released
    WRONG_PATIENT = 3  # allocated to, or released by exception for, someone else
    EXPIRY = 4
    CONDITION = 5  # destroyed, lost in transit, infused already, at another place
    PATIENT = 6  # consent, eligibility, dose
    STEP = 7  # a step not done yet: received, allocated, thawed


@dataclass(frozen=True, order=True)
class Reason:
    """Why not: how serious, a stable code, and the sentence in English; `template` and `params`
    let an edge say the same sentence in the reader's language (domain/text.py)."""

    severity: Severity
    code: str
    text: str
    template: str = ""
    params: tuple[tuple[str, str], ...] = ()


def said(severity: Severity, code: str, template: str, **params: object) -> Reason:
    """A reason whose sentence is `template` filled with `params` (kept for translation; a
    parameter that is itself a sentence, a `Said`, is kept as one, to be translated too)."""
    shown = {
        name: value if isinstance(value, Said) else str(value) for name, value in params.items()
    }
    return Reason(severity, code, template % shown, template, tuple(sorted(shown.items())))


@dataclass(frozen=True)
class UnitFacts:
    din: str
    lot_number: str
    lot_state: str
    expires_on: dt.date | None
    unit_state: str
    # An exceptionally released lot goes to one named patient only (None: the release names no
    # patient record), and only once its open conditions are met (physician's acceptance, sponsor
    # told), listed in `exceptional_problems`.
    exceptional_patient_id: int | None = None
    exceptional_problems: tuple[str, ...] = ()
    # The number of the unit's shipment while its temperature logger showed an excursion that QA
    # has not yet disposed of (domain/cold_chain.py); None: no such excursion.
    cold_chain_hold: str | None = None


def lot_status(lot_state: str, expires_on: dt.date | None, now: dt.datetime, zone: str) -> str:
    """What a label or certificate of the lot reads now: its state, or EXPIRED once past it."""
    usable = lot_state in (LotState.RELEASED, LotState.EXCEPTIONAL_RELEASE)
    if usable and expired(expires_on, now, zone):
        return "EXPIRED"
    return lot_state.replace("_", " ")


def unit_status(f: UnitFacts, now: dt.datetime, zone: str) -> str:
    """What a unit's label reads now: its lot's status, but ON HOLD while its shipment's
    excursion awaits QA (a recall or an expiry, more serious, still reads as such)."""
    status = lot_status(f.lot_state, f.expires_on, now, zone)
    if f.cold_chain_hold is not None and status in ("RELEASED", "EXCEPTIONAL RELEASE"):
        return "ON HOLD"
    return status


def lot_reasons(lot_number: str, lot_state: str) -> list[Reason]:
    if lot_state == LotState.RECALLED:
        return [
            said(
                Severity.RECALL,
                "recalled",
                N_("Lot %(lot)s has been RECALLED. Do not infuse; quarantine the unit."),
                lot=lot_number,
            )
        ]
    if lot_state == LotState.ON_HOLD:
        return [
            said(
                Severity.HOLD,
                "on_hold",
                N_("Lot %(lot)s is ON HOLD. Do not infuse."),
                lot=lot_number,
            )
        ]
    if lot_state not in (LotState.RELEASED, LotState.EXCEPTIONAL_RELEASE):
        shown = lot_state.replace("_", " ") or "in an unknown state"
        return [
            said(
                Severity.HOLD,
                "not_released",
                N_("Lot %(lot)s is %(state)s; only a released lot's units may go to a patient."),
                lot=lot_number,
                state=shown,
            )
        ]
    return []


_CONDITION = {
    UnitState.DESTROYED: ("destroyed", N_("The unit is recorded as destroyed.")),
    UnitState.MISSING: (
        "missing",
        N_("The unit was shipped and never received: its cold chain is unknown. Do not use it."),
    ),
    UnitState.INFUSED: ("infused", N_("This unit has been infused already.")),
}


def unit_reasons(
    f: UnitFacts, *, now: dt.datetime, zone: str, patient_id: int | None = None
) -> list[Reason]:
    """Every reason the unit may not go on now (to `patient_id`, when one is named), most serious
    first. Empty: the unit may be allocated, shipped or, with the bedside's own checks, infused."""
    reasons = lot_reasons(f.lot_number, f.lot_state)
    if f.lot_state == LotState.EXCEPTIONAL_RELEASE:
        if f.exceptional_patient_id is None:
            reasons.append(
                said(
                    Severity.WRONG_PATIENT,
                    "exceptional_no_patient",
                    N_(
                        "Lot %(lot)s was released by exception without a patient record;"
                        " it may go to no one."
                    ),
                    lot=f.lot_number,
                )
            )
        elif patient_id is not None and patient_id != f.exceptional_patient_id:
            # Nothing makes it this patient's: its open conditions would only mislead.
            reasons.append(
                said(
                    Severity.WRONG_PATIENT,
                    "exceptional_other_patient",
                    N_("Lot %(lot)s was released by exception for another patient only."),
                    lot=f.lot_number,
                )
            )
        else:
            reasons.extend(
                said(
                    Severity.HOLD,
                    "exceptional_conditions",
                    N_("Exceptional release: %(problem)s."),
                    problem=problem if isinstance(problem, Said) else Said(problem),
                )
                for problem in f.exceptional_problems
            )
    if f.cold_chain_hold is not None:
        reasons.append(
            said(
                Severity.HOLD,
                "cold_chain_excursion",
                N_(
                    "The temperature logger of shipment %(shipment)s shows an excursion: the unit"
                    " is ON HOLD until QA decides. Do not infuse."
                ),
                shipment=f.cold_chain_hold,
            )
        )
    if expired(f.expires_on, now, zone):
        reasons.append(
            said(
                Severity.EXPIRY,
                "expired",
                N_("The unit expired at the end of %(date)s (%(zone)s)."),
                date=f.expires_on,
                zone=zone,
            )
            if f.expires_on
            else said(Severity.EXPIRY, "expired", N_("The unit's expiry date is unknown."))
        )
    if f.unit_state in _CONDITION:
        code, text = _CONDITION[UnitState(f.unit_state)]
        reasons.append(said(Severity.CONDITION, code, text))
    return sorted(reasons)
