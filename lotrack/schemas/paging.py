"""Query-string arguments of the API's lists: the page asked for and each list's filter."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load

from lotrack.domain.states import DeviationStatus, LotState
from lotrack.request_scope import setting
from lotrack.schemas.base import OneOf, Range

OPEN_OR_CLOSED = [s.value for s in DeviationStatus]  # the same words as InvestigationStatus


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=Range(min=1, max=1_000_000))
    per_page = fields.Integer(
        validate=Range(min=1, max=500),
        metadata={"description": "items per page; the PAGE_SIZE setting (50) when left out"},
    )

    @post_load
    def _page_size(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        # The same page size as the web lists unless the client asks for another.
        data.setdefault("per_page", setting("PAGE_SIZE"))
        return data


class LotPageArgs(PageArgs):
    state = fields.String(
        validate=OneOf([s.value for s in LotState]),
        metadata={"description": "only lots in this state"},
    )


class InvestigationPageArgs(PageArgs):
    status = fields.String(
        validate=OneOf(OPEN_OR_CLOSED),
        metadata={"description": "only open or only closed investigations"},
    )


class DeviationArgs(PageArgs):
    status = fields.String(validate=OneOf(OPEN_OR_CLOSED))
