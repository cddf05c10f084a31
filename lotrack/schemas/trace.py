"""Query-string arguments of tracing, shared by the trace pages and the API: a patient back to the
donor, a donor, bank or lot forward to every unit and patient, and a lot's or bank's lineage. A
patient is named by its wristband "<SITE>/<SUBJECT>"."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load

from lotrack.request_scope import setting
from lotrack.schemas.base import InputSchema, Length, Range, text_field
from lotrack.schemas.paging import PageArgs


class PatientArgs(InputSchema):
    class Meta:
        unknown = EXCLUDE  # a query string may carry other keys (the page's own)

    patient = text_field(max=64, metadata={"description": 'the wristband, e.g. "SZ-GIMI/SUBJ-001"'})


class PatientSearchArgs(PatientArgs):
    """The trace page's search: the empty form until a wristband is typed."""

    patient = text_field(max=64, required=False)


class ForwardArgs(InputSchema):
    """Exactly one of donor, bank or lot (the service names the inputs when it is not one)."""

    class Meta:
        unknown = EXCLUDE

    donor = text_field(
        max=32, required=False, metadata={"description": "a donor code, e.g. FD-0001"}
    )
    bank = text_field(max=32, required=False, metadata={"description": "an MCB or WCB code"})
    lot = text_field(max=32, required=False, metadata={"description": "a lot number"})


class ForwardPageArgs(ForwardArgs):
    """A forward trace's units a page at a time, in trace order (lot, then DIN): `after` is the
    last DIN of the page before (its `next_after`)."""

    limit = fields.Integer(
        validate=Range(min=1, max=500),
        metadata={"description": "units per page; the PAGE_SIZE setting (50) when left out"},
    )
    after = text_field(
        max=13,
        required=False,
        metadata={"description": "the DIN to go on after: the previous page's next_after"},
    )

    @post_load
    def _page_size(self, data: dict[str, Any], **_kw: Any) -> dict[str, Any]:
        data.setdefault("limit", setting("PAGE_SIZE"))  # as the API's other lists
        return data


def _key(description: str) -> fields.String:
    return fields.String(
        required=True,
        validate=Length(min=1, max=64),
        metadata={"description": description},
    )


class TraceBackArgs(Schema):
    """A lot's lineage back to its donor."""

    lot = _key("the lot number, e.g. CFM-2025-0001")


class TraceForwardArgs(PageArgs):
    """A bank's lineage forward to every lot and unit, a page of its runs at a time."""

    bank = _key("a cell bank code (MCB or WCB), e.g. MCB-001")
