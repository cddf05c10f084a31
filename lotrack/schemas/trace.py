"""Query-string arguments of tracing, shared by the trace pages and the API: a patient back to the
donor, a donor, bank or lot forward to every unit and patient, and a lot's or bank's lineage. A
patient is named by its wristband "<SITE>/<SUBJECT>"."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

from lotrack.schemas.base import InputSchema, Length, text_field


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


def _key(description: str) -> fields.String:
    return fields.String(
        required=True,
        validate=Length(min=1, max=64),
        metadata={"description": description},
    )


class TraceBackArgs(Schema):
    """A lot's lineage back to its donor."""

    lot = _key("the lot number, e.g. CFM-2025-0001")


class TraceForwardArgs(Schema):
    """A bank's lineage forward to every lot and unit."""

    bank = _key("a cell bank code (MCB or WCB), e.g. MCB-001")
