"""Input schemas of the cold chain: a shipment's logger file (its format) and QA's signed
decision on an excursion, shared by the HTML forms and the JSON API."""

from __future__ import annotations

from lotrack.schemas.base import InputSchema, OneOf, text_field
from lotrack.schemas.record_signing import RecordSignIn


class LoggerIn(InputSchema):
    """The logger's format (the file itself is the multipart field `logger_file`)."""

    mapping = text_field(
        max=40,
        required=False,
        load_default="generic",
        metadata={
            "description": "the logger's export format: generic (timestamp,temperature), temptale,"
            " elpro, logtag, or one configured in LOTRACK_LOGGER_MAPPINGS"
        },
    )


class ExcursionIn(RecordSignIn):
    """QA's decision on a shipment's excursion, signed: 'released for use' or 'rejected'."""

    outcome = text_field(
        validate=OneOf(["released", "rejected"]),
        metadata={"description": "released: the units go on; rejected: they are destroyed"},
    )
    reason = text_field(max=2000, metadata={"description": "why (required)"})
