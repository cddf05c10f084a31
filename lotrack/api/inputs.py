"""Request schemas of the API: the shared input schemas of lotrack/schemas.py (which also bound
values to what the columns hold) and lotrack/quality_schemas.py, and the query-string arguments."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

from lotrack.context import setting
from lotrack.domain.states import LotState
from lotrack.quality_schemas import (
    ConclusionIn,
    CorrectionIn,
    FindingsIn,
    ImportDefaultsIn,
    QualifyIn,
    ResultIn,
)
from lotrack.schemas import (
    BankIn,
    CloneIn,
    DeterminationIn,
    DonorIn,
    FillIn,
    LotIn,
    PassageIn,
    ReasonIn,
    RunIn,
    ScreeningIn,
    VialsIn,
    WithdrawIn,
)

__all__ = [
    "BankIn",
    "CloneIn",
    "ConclusionIn",
    "CorrectionIn",
    "DeterminationIn",
    "DonorIn",
    "FillIn",
    "FindingsIn",
    "ImportDefaultsIn",
    "LotIn",
    "PassageIn",
    "QualifyIn",
    "ReasonIn",
    "ResultIn",
    "RunIn",
    "ScreeningIn",
    "VialsIn",
    "WithdrawIn",
]


def _key(description: str) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": description},
    )


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(
        validate=validate.Range(min=1, max=500),
        metadata={"description": "items per page; the PAGE_SIZE setting (50) when left out"},
    )

    @post_load
    def _page_size(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        # The same page size as the web lists unless the client asks for another.
        data.setdefault("per_page", setting("PAGE_SIZE"))
        return data


class LotPageArgs(PageArgs):
    state = fields.String(
        validate=validate.OneOf([s.value for s in LotState]),
        metadata={"description": "only lots in this state"},
    )


class TraceBackArgs(Schema):
    lot = _key("the lot number, e.g. CFM-2025-0001")


class TraceForwardArgs(Schema):
    bank = _key("a cell bank code (MCB or WCB), e.g. MCB-001")


class InvestigationPageArgs(PageArgs):
    status = fields.String(
        validate=validate.OneOf(["open", "closed"]),
        metadata={"description": "only open or only closed investigations"},
    )
