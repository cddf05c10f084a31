"""The bedside hard stop: GO only when every check passes; otherwise NO-GO with every reason, the
most serious first (a nurse at 2 a.m. reads "RECALLED" before "the thaw time is not recorded").

The unit's side (lot state, an exceptional release for one named patient, expiry, the unit's
condition) is the one rule of domain/distribution.py, asked for the scanned patient. This module
adds the label, the patient's side (found, consent, eligibility, dose) and the steps at the
bedside (received here, allocated to this patient, thawed, within the post-thaw window).

Facts are gathered by services/bedside.py; this module only judges them, so each rule can be tried
alone and in combination. A missing fact is never read as a safe one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from lotrack.domain import dose
from lotrack.domain.distribution import Reason, Severity, UnitFacts, said, unit_reasons
from lotrack.domain.isbt128_expiry import expiry_disagrees
from lotrack.domain.states import LotState
from lotrack.domain.text import N_, Said

WITNESSED = "witnessed"  # the meaning of the infusion witness's signature (21 CFR 11.50)
SCAN_VALID_FOR = dt.timedelta(minutes=30)  # a GO answers for the moment it was given
CLOCK_SLACK = dt.timedelta(minutes=5)  # times typed to the minute, clocks a little apart

# How the label's DIN was read. Only the QR code's signed token proves the label genuine; a bar
# code (Code 128 carries the DIN alone) or a typed DIN identifies the unit without that proof.
QR, BARCODE, TYPED = "qr", "barcode", "typed"
# Why a label was not accepted.
NOT_GENUINE, CHECK_MISMATCH, CHECK_MISSING = "not_genuine", "check_mismatch", "check_missing"
FLAG_MISMATCH = "flag_mismatch"  # a bar code's type 3 flags contradict its DIN
OTHER_CODE = "other_code"  # the label's product code or expiry bar code, not its DIN
# The reasons after which recording a thaw is the next step (the thaw form may open itself):
# every other reason makes a thaw wrong or pointless.
THAW_NEXT = frozenset({"not_thawed", "acknowledge_exceptional"})

_NOTES = {
    BARCODE: N_(
        "Read from the bar code: a bar code scan does not prove the label genuine — scan"
        " the QR code for that."
    ),
    TYPED: N_(
        "Read from a typed DIN: a typed DIN does not prove the label genuine — scan the QR"
        " code for that."
    ),
}


@dataclass(frozen=True)
class BedsideFacts:
    label_accepted: bool
    label_reason: str = ""  # why the label was not accepted
    label_problem: str = NOT_GENUINE  # NOT_GENUINE, CHECK_MISMATCH, CHECK_MISSING, FLAG_MISMATCH
    label_source: str = QR  # QR, BARCODE or TYPED
    din: str = ""
    unit: UnitFacts | None = None  # None: no such unit
    zone: str = "UTC"  # the facility's zone, in which the label's expiry date is printed
    label_expiry: dt.datetime | None = None  # read from the label's 005 bar code, if scanned
    label_expiry_problem: str = ""  # why what was scanned as the 005 could not be read
    exceptional_acknowledged: bool = False
    received_at_site: bool = False  # received at the scanning user's site
    received_elsewhere: bool = False  # received at another site
    in_transit: bool = False
    patient_id: int | None = None  # None: the wristband matches no patient of this site
    allocated_to_patient: bool = False
    allocated_to_other: bool = False
    patient_consented: bool = False
    patient_eligible: bool = False
    eligibility_problems: tuple[str, ...] = ()
    prescribed_cells: int | None = None  # cells/kg × weight (or the fixed dose) to infuse
    dose_tolerance: Decimal = Decimal("0.10")  # ±, as prescribed
    weight_kg: Decimal = Decimal(0)  # at prescribing: the dose's and the endotoxin's per kg
    # Every container allocated to the prescription, in allocation order, with the volume given
    # from those infused already (domain/dose.py judges them together).
    dose_containers: tuple[dose.Container, ...] = ()
    thawed_at: dt.datetime | None = None
    post_thaw_minutes: int | None = None  # from the lot's release specification
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


@dataclass(frozen=True)
class BedsideVerdict:
    go: bool
    reasons: tuple[str, ...]  # plain sentences, most serious first
    needs_acknowledgement: bool = False  # offer the exceptional release's acknowledgement box
    codes: tuple[str, ...] = ()  # one per reason, in the same order
    # What to give from this unit (whole, or the volume to draw), from the one dose rule; only
    # on a GO.
    draw: dose.Draw | None = None
    notes: tuple[str, ...] = ()  # said whatever the verdict; never a reason for NO-GO
    thaw_next: bool = False  # recording the thaw is what is left to do
    # Per reason, its template and parameters: the edges say it in the reader's language.
    said: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()


def named_patient(f: BedsideFacts) -> bool:
    """Whether the unit's lot was released by exception for the scanned patient."""
    return (
        f.unit is not None
        and f.unit.lot_state == LotState.EXCEPTIONAL_RELEASE
        and f.patient_id is not None
        and f.unit.exceptional_patient_id == f.patient_id
    )


def check(f: BedsideFacts) -> BedsideVerdict:
    if not f.label_accepted:  # nothing can be known of a unit from a label not accepted
        return _verdict([_label(f)])
    notes = (_NOTES[f.label_source],) if f.label_source in _NOTES else ()
    if f.unit is None:
        unknown = said(
            Severity.NOT_GENUINE,
            "unknown_unit",
            N_("No unit %(din)s is known to lotrack."),
            din=f.din,
        )
        return _verdict([unknown], notes)
    reasons = unit_reasons(f.unit, now=f.now, zone=f.zone, patient_id=f.patient_id)
    dosing, draw = _dose(f)
    reasons += _label_expiry(f) + _patient(f) + _place(f) + _allocation(f) + dosing + _thaw(f)
    acknowledging = named_patient(f) and not f.exceptional_acknowledged
    if acknowledging:
        reasons.append(
            said(
                Severity.STEP,
                "acknowledge_exceptional",
                N_(
                    "Lot %(lot)s was released by exception: the physician must"
                    " acknowledge the exceptional release before infusion."
                ),
                lot=f.unit.lot_number,
            )
        )
    # The box is offered to the named patient only, and only when nothing else blocks: ticking
    # it must never be the way past any other reason.
    return _verdict(reasons, notes, offer=acknowledging and len(reasons) == 1, draw=draw)


def _verdict(
    reasons: list[Reason],
    notes: tuple[str, ...] = (),
    *,
    offer: bool = False,
    draw: dose.Draw | None = None,
) -> BedsideVerdict:
    ordered = sorted(reasons)
    codes = tuple(r.code for r in ordered)
    return BedsideVerdict(
        go=not ordered,
        reasons=tuple(r.text for r in ordered),
        needs_acknowledgement=offer,
        codes=codes,
        notes=notes,
        thaw_next="not_thawed" in codes and set(codes) <= THAW_NEXT,
        said=tuple((r.template, r.params) for r in ordered),
        draw=None if ordered else draw,
    )


def _label(f: BedsideFacts) -> Reason:
    code = f.label_problem or NOT_GENUINE
    if f.label_problem == CHECK_MISMATCH:
        # A slip of the finger or a misread, not a forgery: say how to put it right.
        text = N_(
            "The check character does not match — re-scan or re-type the DIN with its boxed"
            " check character."
        )
    elif f.label_problem == FLAG_MISMATCH:
        # The bar code contradicts itself: which unit it names cannot be known from it.
        why = _as_said(f.label_reason)
        text = N_(
            "The DIN bar code cannot be used: %(why)s. Scan the label's QR code or re-scan the"
            " bar code; do not use the unit on this reading."
        )
        return said(Severity.NOT_GENUINE, code, text, why=why)
    elif f.label_problem == OTHER_CODE:
        why = _as_said(f.label_reason)
        text = N_("%(why)s: scan the DIN bar code or the label's QR code.")
        return said(Severity.NOT_GENUINE, code, text, why=why)
    elif f.label_problem == CHECK_MISSING:
        text = N_(
            "A typed DIN needs its check character: type the boxed character printed beside"
            " the DIN, or scan the label."
        )
    else:
        why = Said(f.label_reason or N_("unreadable"))  # the token check's reason, said too
        text = N_("The label is not genuine: %(why)s. Do not use it.")
        return said(Severity.NOT_GENUINE, code, text, why=why)
    return said(Severity.NOT_GENUINE, code, text)


def _as_said(reason: str) -> Said:
    """A reason given as a sentence, kept translatable when it was said with parameters."""
    return reason if isinstance(reason, Said) else Said(reason or "")


def _label_expiry(f: BedsideFacts) -> list[Reason]:
    """A scanned 005 must say the unit's recorded expiry: otherwise the label is not this unit's."""
    if f.unit is None:
        return []
    if f.label_expiry_problem:  # scanned, but not an expiry: never taken as "nothing scanned"
        why = f.label_expiry_problem
        text = N_(
            "The expiry bar code cannot be used. %(why)s Scan the label's expiry bar code (005)"
            " again."
        )
        return [said(Severity.NOT_GENUINE, "expiry_unreadable", text, why=_as_said(why))]
    if f.label_expiry is None:
        return []
    why = expiry_disagrees(f.label_expiry, f.unit.expires_on, f.zone)
    if why is None:
        return []
    text = N_("The label's bar-coded expiry does not match the record: %(why)s. Do not use it.")
    return [said(Severity.NOT_GENUINE, "expiry_mismatch", text, why=why)]


def _patient(f: BedsideFacts) -> list[Reason]:
    if f.patient_id is None:
        return [
            said(
                Severity.PATIENT,
                "patient_unknown",
                N_("The wristband does not match a patient of this site."),
            )
        ]
    reasons = []
    if not f.patient_consented:
        reasons.append(
            said(
                Severity.PATIENT,
                "no_consent",
                N_("The patient's informed consent is not recorded."),
            )
        )
    if not f.patient_eligible:
        problems = "; ".join(f.eligibility_problems) or "the eligibility checklist is incomplete"
        reasons.append(
            said(
                Severity.PATIENT,
                "not_eligible",
                N_("The patient is not eligible: %(problems)s."),
                problems=problems,
            )
        )
    return reasons


def _place(f: BedsideFacts) -> list[Reason]:
    if f.in_transit:
        text = N_("The unit is still in transit: receive it at this site first.")
        return [said(Severity.STEP, "in_transit", text)]
    if f.received_elsewhere:
        text = N_("The unit has not been received at this site: it is at another site.")
        return [said(Severity.CONDITION, "elsewhere", text)]
    if not f.received_at_site:
        text = N_("The unit has not been received at this site.")
        return [said(Severity.STEP, "not_received", text)]
    return []


def _allocation(f: BedsideFacts) -> list[Reason]:
    if f.allocated_to_other:
        text = N_("The unit is allocated to another patient.")
        return [said(Severity.WRONG_PATIENT, "allocated_other", text)]
    if not f.allocated_to_patient:
        text = N_("The unit is not allocated to this patient.")
        return [said(Severity.STEP, "not_allocated", text)]
    return []


def _dose(f: BedsideFacts) -> tuple[list[Reason], dose.Draw | None]:
    """GO only when what will be given (containers whole, plus the volume drawn from the last)
    is within the prescription's tolerance and its endotoxin within the limit: the one rule of
    domain/dose.py over every container of the prescription. Returns this unit's draw too."""
    if f.prescribed_cells is None or f.prescribed_cells <= 0:
        text = N_("No prescription with a dose is recorded for this patient.")
        return [said(Severity.PATIENT, "no_prescription", text)], None
    plan = dose.plan(f.prescribed_cells, f.dose_tolerance, f.weight_kg, f.dose_containers)
    if not plan.ok:
        template, params = dose.refusal(plan, f.dose_tolerance)
        return [said(Severity.PATIENT, plan.problem, template, **params)], None
    draw = plan.draw_for(f.din)
    if draw is None or draw.given:  # a fact missing or already spent: never read as safe
        text = N_("This unit is not among the prescription's containers still to give.")
        return [said(Severity.PATIENT, "dose_unknown", text)], None
    return [], draw


def _thaw(f: BedsideFacts) -> list[Reason]:
    if f.post_thaw_minutes is None:
        text = N_("The specification states no post-thaw use window; the unit cannot be checked.")
        return [said(Severity.CONDITION, "no_window", text)]
    if f.thawed_at is None:
        text = N_("The thaw time is not recorded: record it before infusion.")
        return [said(Severity.STEP, "not_thawed", text)]
    if f.thawed_at > f.now + dt.timedelta(minutes=1):
        text = N_("The recorded thaw time is in the future.")
        return [said(Severity.CONDITION, "thaw_in_future", text)]
    elapsed = f.now - f.thawed_at
    # Compared in seconds: a timedelta of an absurd window from a spec would overflow.
    if elapsed.total_seconds() > f.post_thaw_minutes * 60:
        # Past its window the thawed unit is spent, like an expired one.
        minutes = int(elapsed.total_seconds() // 60)
        text = N_(
            "The unit was thawed %(minutes)s minutes ago; it must be infused within"
            " %(window)s minutes of thawing."
        )
        return [
            said(
                Severity.EXPIRY,
                "post_thaw_expired",
                text,
                minutes=minutes,
                window=f.post_thaw_minutes,
            )
        ]
    return []


def start_problem(scanned_at: dt.datetime, started: dt.datetime, now: dt.datetime) -> str:
    """Why an infusion may not start at `started` after its GO check at `scanned_at` ("": it
    may): not before the check, not after the GO's validity, not in the future."""
    # Start times are typed to the minute: a start in the GO check's own minute is after it.
    if started < scanned_at.replace(second=0, microsecond=0):
        return "not before the GO check"
    if started > scanned_at + SCAN_VALID_FOR:
        minutes = int(SCAN_VALID_FOR.total_seconds() // 60)
        return f"within {minutes} minutes of the GO check: check again at the bedside"
    if started > now + CLOCK_SLACK:
        return "not in the future"
    return ""
