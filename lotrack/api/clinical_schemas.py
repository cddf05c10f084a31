"""Response schemas of the clinical API (issue 6). Field names are the public contract (DESIGN.md):
a bedside check answers `go`, `reasons` and `scan_id`. Decimals are strings (exact), dates and
times ISO 8601 (times in UTC). Patients are named by their wristband "<SITE>/<SUBJECT>"."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, fields

from lotrack.api.schemas import page_of
from lotrack.domain import clinical as rules
from lotrack.services.clinical import problems_of

__all__ = ["page_of"]


def _dec(description: str = 'exact, e.g. "70.00"', allow_none: bool = False) -> fields.Decimal:
    return fields.Decimal(
        as_string=True,
        allow_none=allow_none,
        metadata={"type": "string", "format": "decimal", "description": description},
    )


def _fn(get: Any, kind: str = "string", description: str = "", **kw: Any) -> fields.Function:
    return fields.Function(get, metadata={"type": kind, "description": description, **kw})


def _username(path: str, nullable: bool = False) -> fields.Function:
    """The username of a user the record names (a relationship the service loaded with it)."""

    def get(obj: Any) -> str | None:
        user = getattr(obj, path)
        return user.username if user is not None else None

    if nullable:
        return _fn(get, description="username, or null", nullable=True)
    return _fn(get, description="username")


class PatientOut(Schema):
    wristband = fields.String(metadata={"description": "<SITE>/<SUBJECT>, as on the wristband"})
    subject_code = fields.String()
    site = _fn(lambda p: p.site.code, description="the trial site's code")
    weight_kg = _dec()
    indication = fields.String()
    cohort = fields.String(metadata={"description": "the protocol dose cohort's code"})
    age_band = fields.String(allow_none=True, metadata={"description": "ICH E11 band; null before"})
    sex = fields.String(allow_none=True)
    consent_date = fields.Date(allow_none=True)
    eligibility = _fn(
        lambda p: json.loads(p.eligibility or "{}"), "object", "checklist answers, item -> bool"
    )
    eligible = _fn(lambda p: not problems_of(p), "boolean", "consented and eligible")
    problems = _fn(problems_of, "array", "every reason the patient may not be dosed")
    created_at = fields.DateTime()


class AllocationOut(Schema):
    prescription = _fn(lambda a: a.prescription_id, "integer")
    din = _fn(lambda a: a.unit.din)
    check_character = _fn(lambda a: a.unit.check_character)
    lot = _fn(lambda a: a.unit.lot.lot_number)
    cells = _fn(lambda a: a.unit.cells, "integer")
    allocated_at = fields.DateTime()


class DrawOut(Schema):
    """What is given from one container: whole, or a volume drawn (domain/dose.py)."""

    din = fields.String(attribute="key")
    volume_ml = _dec('mL to give (drawn or whole), e.g. "16.3"')
    whole = fields.Boolean(metadata={"description": "given whole: nothing to draw"})
    cells = _fn(lambda d: int(d.cells), "integer", "cells in that volume")
    discard_ml = _dec("mL left in the container, discarded")
    given = fields.Boolean(metadata={"description": "infused already"})


def _plan(v: Any) -> dict[str, Any] | None:
    p = v.plan
    if p is None:
        return None
    return {
        "ok": p.ok,
        "problem": p.problem or None,
        "draws": DrawOut(many=True).dump(p.draws),
        "achieved_cells": int(p.achieved_cells) if p.ok else None,
        "achieved_per_kg": int(p.achieved_per_kg) if p.ok else None,
        "endotoxin_eu_per_kg": f"{p.endotoxin_eu_per_kg:.3f}"
        if p.endotoxin_eu_per_kg is not None
        else None,
    }


class PrescriptionOut(Schema):
    """A prescription with what is set aside for it and what was infused (PrescriptionView)."""

    id = _fn(lambda v: v.rx.id, "integer")
    patient = _fn(lambda v: v.rx.patient.wristband)
    cohort = _fn(lambda v: v.rx.cohort.code if v.rx.cohort else None, nullable=True)
    dose_basis = _fn(lambda v: v.rx.dose_basis, description="per_kg or fixed")
    dose_per_kg = _fn(
        lambda v: v.rx.dose_per_kg, "integer", "cells per kg; null if fixed", nullable=True
    )
    fixed_cells = _fn(
        lambda v: v.rx.fixed_cells, "integer", "a fixed dose; null if per kg", nullable=True
    )
    weight_kg = _fn(lambda v: f"{v.rx.weight_kg:.2f}", description="weight at prescribing")
    cells_needed = _fn(lambda v: v.rx.cells_needed, "integer", "dose × weight, or the fixed")
    tolerance = _fn(lambda v: f"{v.rx.tolerance:.2f}", description="± e.g. 0.10 for ±10%")
    plan = _fn(
        _plan,
        "object",
        "the dose plan: containers whole and the volume to draw from the last; achieved"
        " cells and cells/kg; endotoxin EU/kg; or the problem",
        nullable=True,
    )
    planned_on = _fn(lambda v: v.rx.planned_on.isoformat(), description="date")
    status = _fn(lambda v: v.rx.status)
    allocated_cells = fields.Integer()
    infused_cells = fields.Integer()
    covered = fields.Boolean(metadata={"description": "the allocated units cover the dose"})
    allocations = fields.List(fields.Nested(AllocationOut))


class InfusionOut(Schema):
    id = fields.Integer()
    patient = _fn(lambda i: i.patient.wristband)
    din = _fn(lambda i: i.unit.din)
    lot = _fn(lambda i: i.unit.lot.lot_number)
    cells = _fn(lambda i: i.unit.cells, "integer")
    scan_id = fields.Integer(metadata={"description": "the GO bedside check it followed"})
    thawed_at = fields.DateTime()
    started_at = fields.DateTime()
    stopped_at = fields.DateTime(allow_none=True)
    volume_ml = _dec('mL given, e.g. "16.3"; null when not recorded', allow_none=True)
    achieved_cells = fields.Integer(allow_none=True, metadata={"description": "cells given"})
    achieved_per_kg = fields.Integer(
        allow_none=True, metadata={"description": "cells given per kg of the prescribed weight"}
    )
    discarded_ml = _dec("mL left in the unit and discarded", allow_none=True)
    operator = _username("operator")
    witness = _username("witness")
    witness_meaning = fields.String(
        allow_none=True, metadata={"description": 'the witness\'s signature: "witnessed"'}
    )
    witness_signed_at = fields.DateTime(
        allow_none=True, metadata={"description": "when the witness signed (password re-entered)"}
    )
    premedication = fields.String()
    vital_signs = fields.String()
    immediate_reactions = fields.String()
    recorded_at = fields.DateTime()


class AdverseEventOut(Schema):
    id = fields.Integer()
    patient = _fn(lambda e: e.patient.wristband)
    infusion = fields.Integer(attribute="infusion_id", allow_none=True)
    term = fields.String(metadata={"description": "CTCAE v4.03 term"})
    meddra = fields.String(metadata={"description": "MedDRA code of the term"})
    soc = fields.String(metadata={"description": "the term's system organ class"})
    specify = fields.String(metadata={"description": "the event's name for an 'Other, specify'"})
    grade = fields.Integer(metadata={"description": "as first reported (follow-ups: its page)"})
    onset_on = fields.Date()
    attribution = fields.String()
    related = _fn(
        lambda e: e.attribution in rules.RELATED,
        "boolean",
        "treatment-related: attribution possible, probable or definite",
    )
    serious = fields.Boolean()
    seriousness = _fn(lambda e: json.loads(e.seriousness or "[]"), "array")
    aware_on = fields.Date(
        allow_none=True, metadata={"description": "the site became aware (the clock starts)"}
    )
    expected = fields.Boolean(
        allow_none=True, metadata={"description": "expected by the investigator's brochure"}
    )
    report_due_on = fields.Date(
        allow_none=True,
        metadata={
            "description": "expedited report due as first reported (SUSAR: serious, related,"
            " unexpected); the current clock is in adverse-events/<id>"
        },
    )
    outcome = fields.String()
    description = fields.String()
    measurement = _fn(
        lambda e: json.loads(e.measurement) if e.measurement else None,
        "object",
        "the measurement the grade was proposed from, as entered",
        nullable=True,
    )
    proposed_grade = fields.Integer(allow_none=True)
    grade_reason = fields.String(metadata={"description": "why the grade differs from proposed"})
    reported_by = _username("reported_by")
    reported_at = fields.DateTime()


class FollowUpOut(Schema):
    patient = _fn(lambda f: f.patient.wristband)
    visit_on = fields.Date()
    response = fields.String(metadata={"description": "improved, stable or worse"})
    notes = fields.String()
    recorded_at = fields.DateTime()


class PatientDetail(PatientOut):
    """A patient with prescriptions, infusions, adverse events and the one-month visit."""

    prescriptions = fields.List(fields.Nested(PrescriptionOut))
    infusions = fields.List(fields.Nested(InfusionOut))
    adverse_events = fields.List(fields.Nested(AdverseEventOut))
    follow_up = fields.Nested(FollowUpOut, allow_none=True)


class EligibilityOut(Schema):
    wristband = fields.String()
    eligible = fields.Boolean()
    problems = fields.List(fields.String())


class ShipmentItemOut(Schema):
    din = _fn(lambda i: i.unit.din)
    check_character = _fn(lambda i: i.unit.check_character)
    lot = _fn(lambda i: i.unit.lot.lot_number)
    received = fields.Boolean(
        allow_none=True, metadata={"description": "null until the site reconciles"}
    )


class ShipmentOut(Schema):
    number = fields.String()
    site = _fn(lambda s: s.site.code)
    status = fields.String(metadata={"description": "in_transit, received or discrepancy"})
    shipped_by = _username("shipped_by")
    shipped_at = fields.DateTime()
    received_by = _username("received_by", nullable=True)
    received_at = fields.DateTime(allow_none=True)
    condition = fields.String(allow_none=True)
    temperature_record = fields.String(allow_none=True)
    discrepancy = fields.String(allow_none=True)
    units = fields.List(fields.Nested(ShipmentItemOut), attribute="items")


class CheckOut(Schema):
    """The bedside answer: GO only when every check passes; otherwise every reason."""

    draw = fields.Nested(
        "DrawOut",
        allow_none=True,
        metadata={"description": "on a GO, what to give from this unit: whole, or mL to draw"},
    )
    go = fields.Boolean()
    reasons = fields.List(
        fields.String(), metadata={"description": "plain sentences, the most serious first"}
    )
    codes = fields.List(
        fields.String(),
        metadata={
            "description": "one code per reason, same order (e.g. recalled, expired). The label's"
            " own: not_genuine (the QR code's signature fails, or nothing readable), check_mismatch"
            " and check_missing (a typed DIN's check character wrong or absent), flag_mismatch"
            " (an ISBT 128 001 bar code whose type 3 flags contradict its DIN), other_code (the"
            " label's product code 003 or expiry 005 scanned as the label), unknown_unit,"
            " expiry_mismatch (the scanned 005 is not the unit's recorded expiry) and"
            " expiry_unreadable (what was sent as `expiry` is not a 005). The dose's"
            " (domain/dose.py): under_dose, over_dose, container_not_needed,"
            " no_drawable_volume, endotoxin_over_limit (over 5 EU/kg, USP <85>),"
            " endotoxin_unknown, dose_unknown"
        },
    )
    notes = fields.List(
        fields.String(),
        metadata={
            "description": "said whatever the answer, never a reason for NO-GO: e.g. that a bar"
            " code scan does not prove the label genuine (scan the QR code for that)"
        },
    )
    scan_id = fields.Integer(metadata={"description": "the recorded check (an infusion cites it)"})
    needs_acknowledgement = fields.Boolean(
        metadata={"description": "exceptional release: check again acknowledging it"}
    )
    patient = fields.String(allow_none=True, metadata={"description": "the wristband matched"})
    din = fields.String(allow_none=True, metadata={"description": "the unit identified"})
    method = fields.String()
    scanned_at = fields.DateTime()
    decoded = fields.String(
        allow_none=True, metadata={"description": "check-photo: the text read from the photo"}
    )


class ThawOut(Schema):
    din = fields.String()
    thawed_at = fields.DateTime()
    recorded_at = fields.DateTime()


class CountOut(Schema):
    value = fields.String()
    participants = fields.Integer(metadata={"description": "participants infused"})
    with_related = fields.Integer(metadata={"description": "with treatment-related events"})


class GradeCountOut(Schema):
    grade = fields.Integer(metadata={"description": "worst treatment-related CTCAE grade"})
    participants = fields.Integer()


class SocCountOut(Schema):
    soc = fields.String(metadata={"description": "system organ class"})
    grade = fields.Integer(metadata={"description": "worst grade the events reached"})
    events = fields.Integer()
    event_ids = fields.List(fields.Integer(), metadata={"description": "adverse-events/<id>"})


class PrimaryOutcomeOut(Schema):
    rule = fields.String()
    by_soc_grade = fields.List(
        fields.Nested(SocCountOut),
        metadata={"description": "treatment-related events of dictionary terms, with their ids"},
    )
    events_by_cohort = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()))
    events_by_lot = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()))
    not_counted = fields.List(
        fields.Integer(), metadata={"description": "events whose term is not in the dictionary"}
    )
    participants = fields.Integer()
    with_related = fields.Integer()
    by_worst_grade = fields.List(fields.Nested(GradeCountOut))
    by_cohort = fields.List(fields.Nested(CountOut))
    by_lot = fields.List(fields.Nested(CountOut))
    signals = fields.List(fields.String(), metadata={"description": "lots with clustered events"})
    exceptional = fields.List(
        fields.String(),
        metadata={"description": "infusions given on an exceptional release acknowledged at scan"},
    )
    secondary = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "participants by response at one month, not yet seen, and the"
            ' secondary outcome "reduced or stabilised" (improved + stable)'
        },
    )


class CohortOut(Schema):
    code = fields.String()
    dose_basis = fields.String(metadata={"description": "per_kg or fixed"})
    amount = fields.Integer(metadata={"description": "cells per kg, or cells if fixed"})
    created_at = fields.DateTime()


class EnrolmentOut(Schema):
    target = fields.Integer(metadata={"description": "the trial's target recruitment"})
    enrolled = fields.Integer(metadata={"description": "consented participants"})
    by_site = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_cohort = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_site_and_cohort = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        metadata={"description": "site -> cohort -> participants"},
    )
    by_age_band = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_sex = fields.Dict(keys=fields.String(), values=fields.Integer())
