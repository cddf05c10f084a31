"""API output schemas of the quality record: specification versions, results, evaluations and
investigations (split from schemas.py, which keeps the manufacturing record's)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.api.schemas import LotRef, SpecVersionRef, _code_of
from lotrack.domain.specs import Interval
from lotrack.models import Investigation, Result
from lotrack.services.evaluation import SubjectEvaluation


class Row:
    """A record with facts kept elsewhere (a version's status, the investigation a result opened),
    dumped by one schema as if they were the record's own attributes."""

    def __init__(self, record: Any, **extra: Any) -> None:
        self._record = record
        self.__dict__.update(extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._record, name)


def _limit(end: str) -> fields.Decimal:
    return fields.Decimal(
        as_string=True,
        attribute=f"{end}.value",
        allow_none=True,
        metadata={"type": "string", "format": "decimal", "description": f"{end} limit, exact"},
    )


class IntervalOut(Schema):
    """Limits as exact decimal strings; a missing end is null (unbounded)."""

    lower = _limit("lower")
    lower_inclusive = fields.Function(
        lambda iv: iv.lower.inclusive if iv.lower.value is not None else None,
        allow_none=True,
        metadata={"type": "boolean", "description": "≥ (true) or > (false); null if unbounded"},
    )
    upper = _limit("upper")
    upper_inclusive = fields.Function(
        lambda iv: iv.upper.inclusive if iv.upper.value is not None else None,
        allow_none=True,
        metadata={"type": "boolean", "description": "≤ (true) or < (false); null if unbounded"},
    )


class IntervalOrNull(fields.Nested):
    """A test's limits or alert limits, or null when the test states none."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(IntervalOut, allow_none=True, **kwargs)

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        interval = getattr(obj, attr)
        return None if interval == Interval() else interval


class SpecTestOut(Schema):
    code = fields.String()
    name = fields.String()
    method = fields.String()
    unit = fields.String(metadata={"description": "empty for qualitative tests"})
    kind = fields.Function(
        lambda t: t.kind.value, metadata={"type": "string", "description": "numeric, qualitative"}
    )
    criterion = fields.Function(lambda t: t.criterion(), metadata={"type": "string"})
    decimals = fields.Integer(metadata={"description": "values are rounded to these, then judged"})
    limits = IntervalOrNull()
    alert = IntervalOrNull(metadata={"description": "inside the limits but outside these: alert"})
    accepted = fields.List(fields.String(), metadata={"description": "qualitative: passing values"})
    rejected = fields.List(fields.String(), metadata={"description": "qualitative: failing values"})
    alternatives = fields.List(fields.String(), metadata={"description": "a panel's analytes"})
    incubation_days = fields.Integer(allow_none=True)
    required = fields.Boolean(metadata={"description": "false: informational, never blocks"})
    source = fields.String(metadata={"description": "where the criterion comes from"})


class SpecVersionOut(SpecVersionRef):
    product = fields.String()
    stage = fields.String(metadata={"description": "release, MCB, WCB or in-process"})
    version = fields.Integer()
    title = fields.String()
    source_file = fields.String()
    loaded_at = fields.DateTime()
    approved_by = _code_of("approved_by.username", "the QA approver's username, or null")
    approved_at = fields.DateTime(allow_none=True)
    status = fields.String(
        metadata={"description": "draft, withdrawn draft, in effect or superseded"}
    )


class SpecVersionDetail(SpecVersionOut):
    limits = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "stage-wide limits, e.g. max_passage, post_thaw_use_minutes"},
    )
    tests = fields.List(fields.Nested(SpecTestOut))


class RawFileOut(Schema):
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.DateTime()


class ResultOut(Schema):
    """One result as entered and as judged; an invalidated one stays, with why and by whom."""

    id = fields.Integer()
    lot = _code_of("lot.lot_number", "the lot, for a lot result")
    bank = _code_of("bank.code", "the cell bank, for a bank result")
    run = _code_of("passage.run.code", "the production run, for an in-process result")
    passage = fields.Function(
        lambda r: r.passage.number if r.passage is not None else None,
        allow_none=True,
        metadata={"type": "integer", "description": "the passage, for an in-process result"},
    )
    test = fields.String(attribute="test_code", metadata={"description": "the spec's test code"})
    analyte = fields.String(metadata={"description": "what was measured (a panel alternative)"})
    value = fields.String(metadata={"description": "as entered"})
    unit = fields.String()
    method = fields.String()
    instrument = fields.String()
    reagent_lot = fields.String()
    performed_on = fields.Date()
    recorded_at = fields.DateTime()
    analyst = _code_of("analyst.username", "who entered the result")
    verdict = fields.String(
        attribute="shown_verdict",
        metadata={"description": "pass, alert, fail, pending; invalid once invalidated"},
    )
    judged = fields.String(
        attribute="verdict", metadata={"description": "the verdict when it was recorded"}
    )
    rounded = fields.String(
        allow_none=True, metadata={"description": "the value as compared with the limits"}
    )
    due_on = fields.Date(allow_none=True, metadata={"description": "when a pending result is due"})
    note = fields.String()
    spec_version = fields.Nested(SpecVersionRef)
    raw_file = fields.Nested(RawFileOut, attribute="attachment", allow_none=True)
    verified_by = _code_of("verified_by.username", "the second person who verified it")
    verified_at = fields.DateTime(allow_none=True)
    invalidated_by = _code_of("invalidated_by.username", "who invalidated it")
    invalidated_at = fields.DateTime(allow_none=True)
    invalidation_reason = fields.String(allow_none=True)
    replaces = fields.Integer(
        attribute="replaces_id", allow_none=True, metadata={"description": "the result it corrects"}
    )
    replaced_by = fields.Integer(
        allow_none=True, metadata={"description": "the result that corrected or completed it"}
    )
    investigation = fields.String(
        allow_none=True, metadata={"description": "the OOS investigation its failure opened"}
    )


def result_rows(session: Session, results: list[Result]) -> list[Row]:
    """Results with the investigation each opened and the result that replaced each (two queries
    per 500 results, whatever their number)."""
    opened: dict[int, str] = {}
    successors: dict[int, int] = {}
    ids = [r.id for r in results]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found = select(Investigation.result_id, Investigation.number)
        opened.update(
            (rid, number)
            for rid, number in session.execute(found.where(Investigation.result_id.in_(chunk)))
        )
        later = select(Result.replaces_id, Result.id).where(Result.replaces_id.in_(chunk))
        successors.update((old, new) for old, new in session.execute(later))
    return [
        Row(r, investigation=opened.get(r.id), replaced_by=successors.get(r.id)) for r in results
    ]


class ImportOut(Schema):
    imported = fields.Integer(metadata={"description": "how many results were recorded"})
    format = fields.String(metadata={"description": "csv or xlsx, as read from the content"})
    encoding = fields.String(
        allow_none=True,
        metadata={"description": "a CSV's text encoding: utf-8, utf-8-sig (with BOM) or gb18030;"
                  " null for a workbook"},
    )  # fmt: skip
    results = fields.List(fields.Nested(ResultOut))


class BlockerOut(Schema):
    kind = fields.String(
        metadata={
            "description": "missing, pending, failing, unverified, investigation (on the lot"
            " or a sibling), deviation, passage, in-process, donor, bank or spec"
        }
    )
    subject = fields.String(metadata={"description": "the test code or record concerned"})
    message = fields.String()


class TestOutcomeOut(Schema):
    test = fields.String(metadata={"description": "the spec's test code"})
    name = fields.String()
    criterion = fields.String()
    unit = fields.String()
    required = fields.Boolean()
    verdict = fields.String(metadata={"description": "pass, alert, fail, pending or missing"})
    verified = fields.Boolean()
    result = fields.Nested(
        ResultOut, allow_none=True, metadata={"description": "the result judged, or null"}
    )


class EvaluationOut(Schema):
    releasable = fields.Boolean(metadata={"description": "true only when nothing blocks"})
    blockers = fields.List(fields.Nested(BlockerOut))
    warnings = fields.List(fields.String())
    spec_version = fields.Nested(SpecVersionRef, allow_none=True)
    newer_spec_version = fields.Nested(
        SpecVersionRef,
        allow_none=True,
        metadata={"description": "a newer approved version; the subject stays judged by its own"},
    )
    tests = fields.List(fields.Nested(TestOutcomeOut))


class LotEvaluationOut(EvaluationOut):
    lot = fields.String()
    state = fields.String()


class BankEvaluationOut(EvaluationOut):
    bank = fields.String()
    tier = fields.String()
    qualification = fields.String()


def evaluation_body(session: Session, ev: SubjectEvaluation) -> dict[str, Any]:
    """An evaluation with, for each test, the full result it judged."""
    rows = {row.id: row for row in result_rows(session, ev.results)}
    return {
        "releasable": ev.releasable,
        "blockers": ev.evaluation.blockers,
        "warnings": ev.evaluation.warnings,
        "spec_version": ev.version,
        "newer_spec_version": ev.newer,
        "tests": [
            {
                "test": o.test.code,
                "name": o.test.name,
                "criterion": o.test.criterion(),
                "unit": o.test.unit,
                "required": o.test.required,
                "verdict": o.verdict.value,
                "verified": o.verified,
                "result": rows.get(o.result.id) if o.result is not None else None,
            }
            for o in ev.evaluation.outcomes
        ],
    }


class SiblingLotOut(LotRef):
    run = _code_of("run.code", "the run the lot was harvested from")


class InvestigationOut(Schema):
    number = fields.String(metadata={"description": "e.g. OOS-2025-001"})
    lot = _code_of("lot.lot_number", "the lot whose result failed")
    test = _code_of("result.test_code", "the failing test")
    result = fields.Integer(attribute="result_id", metadata={"description": "the failing result"})
    phase = fields.String(metadata={"description": "I (laboratory) or II (full)"})
    status = fields.String(metadata={"description": "open or closed; an open one blocks release"})
    conclusion = fields.String(
        allow_none=True, metadata={"description": "confirmed_oos or invalidated"}
    )
    assignable_cause = fields.String(allow_none=True)
    opened_at = fields.DateTime()
    opened_by = _code_of("opened_by.username", "who recorded the failing result")
    closed_at = fields.DateTime(allow_none=True)
    closed_by = _code_of("closed_by.username", "the QA reviewer who concluded it")


class InvestigationDetail(InvestigationOut):
    findings = fields.String()
    failing_result = fields.Nested(ResultOut)
    siblings = fields.List(
        fields.Nested(SiblingLotOut),
        metadata={"description": "other lots from the same run or working cell bank"},
    )
    siblings_reviewed = fields.List(
        fields.String(), metadata={"description": "the sibling lots reviewed at its conclusion"}
    )
