"""What the API says of the signatures on QA decisions about a bank, a specification version, a
deviation or an investigation: the record as before, with its signatures (and, in the answer to a
decision, the signature just given); and the signer's fields, once the token may sign."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from sqlalchemy.orm import Session

from lotrack.api import quality_schemas as qout
from lotrack.api import release_schemas as io
from lotrack.api import schemas as out
from lotrack.models import RecordSignature
from lotrack.schemas.record_signing import split_sign_in
from lotrack.security import require_signing_scope
from lotrack.services import record_signature
from lotrack.services.record_signature import Record
from lotrack.services.signature import SignIn


class RecordSignatureOut(Schema):
    """An electronic signature on a record: who, when (UTC), what it means, the SHA-256 of the
    record's signed content, and whether the record has changed since (void)."""

    id = fields.Integer()
    meaning = fields.String(
        metadata={"description": "qualified, not qualified, approved, closed or concluded"}
    )
    signer = fields.String(attribute="signer_username", metadata={"description": "username"})
    signer_name = fields.String()
    signed_at = fields.DateTime(metadata={"description": "ISO 8601 with zone (UTC)"})
    content_sha256 = fields.String()
    reason = fields.String()
    void = fields.Boolean(
        dump_default=False, metadata={"description": "the record changed after signing"}
    )


def _signed(cls: type[Schema], name: str) -> type[Schema]:
    """`cls` with the record's signatures and (after a decision) the signature just given."""
    return type(
        name,
        (cls,),
        {
            "signatures": fields.List(
                fields.Nested(RecordSignatureOut),
                metadata={"description": "every signature on this record, oldest first"},
            ),
            "signature": fields.Nested(
                RecordSignatureOut,
                metadata={"description": "in the answer to a decision: the signature given"},
            ),
        },
    )


SignedBankOut = _signed(out.BankOut, "SignedBankOut")
SignedBankDetail = _signed(out.BankDetail, "SignedBankDetail")
SignedSpecVersionOut = _signed(qout.SpecVersionDetail, "SignedSpecVersionOut")
SignedDeviationOut = _signed(io.DeviationOut, "SignedDeviationOut")
SignedInvestigationOut = _signed(qout.InvestigationDetail, "SignedInvestigationOut")


def signatures(session: Session, record: Record) -> list[dict[str, Any]]:
    """The record's signatures as RecordSignatureOut reads them."""
    return [
        {**_columns(s.signature), "void": s.void}
        for s in record_signature.signatures_of(session, record)
    ]


def _columns(s: RecordSignature) -> dict[str, Any]:
    return {
        "id": s.id,
        "meaning": str(s.meaning),
        "signer_username": s.signer_username,
        "signer_name": s.signer_name,
        "signed_at": s.signed_at,
        "content_sha256": s.content_sha256,
        "reason": s.reason,
    }


def signed_row(
    session: Session, record: Record, given: RecordSignature | None = None, **extra: Any
) -> qout.Row:
    """The record with its signatures and `extra` facts; after a decision, the one given now."""
    if given is not None:
        extra["signature"] = {**_columns(given), "void": False}
    return qout.Row(record, signatures=signatures(session, record), **extra)


def record_signed_in(data: dict[str, Any]) -> tuple[SignIn, dict[str, Any]]:
    """The signer of a decision made through the API (the token may sign), and the decision."""
    require_signing_scope()
    return split_sign_in(data)
