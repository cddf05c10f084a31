"""Electronic signatures on QA decisions about a cell bank, a specification version, a deviation,
an investigation or a material lot's incoming inspection (21 CFR 11.50, 11.200). The signer proves
identity before anything is written (`prove`); the signature is made after the decision, in the
same transaction, over the SHA-256 of the record as decided (`sign`). A signature is void once
its record no longer hashes the same."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.record_signatures import RecordMeaning, SubjectKind, check_meaning
from lotrack.models import (
    CellBank,
    Deviation,
    ExcursionDecision,
    Investigation,
    MaterialLot,
    RecordSignature,
    Result,
    SpecVersion,
    User,
)
from lotrack.services import audit
from lotrack.services.signature import Lockout, SignIn, authenticate_sign_in

Record = CellBank | SpecVersion | Deviation | Investigation | MaterialLot | ExcursionDecision
KIND_OF: dict[type, SubjectKind] = {
    CellBank: SubjectKind.CELL_BANK,
    SpecVersion: SubjectKind.SPEC_VERSION,
    Deviation: SubjectKind.DEVIATION,
    Investigation: SubjectKind.INVESTIGATION,
    MaterialLot: SubjectKind.MATERIAL_LOT,
    ExcursionDecision: SubjectKind.EXCURSION_DECISION,
}


@dataclass(frozen=True)
class Proven:
    """A signer who has just proved who they are, and the meaning their signature will carry."""

    signer: User
    meaning: RecordMeaning
    reason: str


def hold(session: Session, record: Record) -> None:
    """Lock the record's row until commit and read it afresh: of two people deciding at once, the
    second waits, then sees the first's decision (409) instead of signing a second one. (SQLite
    writers take the database's lock at BEGIN, so there the wait is already the transaction's.)"""
    kind = type(record)
    # The row alone: a refresh's eager joins cannot be locked (FOR UPDATE on an outer join).
    session.execute(select(kind.id).where(kind.id == record.id).with_for_update())
    session.refresh(record)


def prove(
    session: Session,
    actor: User,
    kind: SubjectKind,
    sign_in: SignIn,
    lockout: Lockout,
    decision: str = "",
) -> Proven:
    """Call before writing anything: a wrong password is refused with its failure count kept
    (SignatureRefused.keep_writes), and only that must be kept."""
    signer = authenticate_sign_in(session, actor, sign_in, lockout)
    meaning = check_meaning(kind, sign_in.meaning, decision)
    return Proven(signer, meaning, (sign_in.reason or "").strip())


def _signed_content(session: Session, record: Record) -> dict[str, Any]:
    """What a signature on `record` vouches for: the fields the decision rests on."""
    if isinstance(record, CellBank):
        return {
            "code": record.code,
            "tier": str(record.tier),
            "qualification": str(record.qualification),
            "spec_version_id": record.spec_version_id,
            "results": [
                [r.id, r.test_code, r.value, r.unit, str(r.verdict), r.invalidated_at is not None]
                for r in session.scalars(
                    select(Result).where(Result.bank_id == record.id).order_by(Result.id)
                )
            ],
        }
    if isinstance(record, SpecVersion):
        return {
            "product": record.product,
            "stage": str(record.stage),
            "version": record.version,
            "content_hash": record.content_hash,
        }
    if isinstance(record, MaterialLot):
        return {
            "number": record.number,
            "material_id": record.material_id,
            "supplier_lot": record.supplier_lot,
            "expires_on": record.expires_on.isoformat(),
            "certificate_sha256": record.certificate.sha256,
            "state": str(record.state),
        }
    if isinstance(record, ExcursionDecision):
        log = record.log
        return {
            "log_id": record.log_id,
            "shipment_id": log.shipment_id,
            "logger_sha256": log.attachment.sha256,
            "excursion": log.excursion,
            "problems": log.problems,
            "outcome": str(record.outcome),
            "reason": record.reason,
        }
    if isinstance(record, Deviation):
        return {
            "number": record.number,
            "lot_id": record.lot_id,
            "run_id": record.run_id,
            "description": record.description,
            "impact_assessment": record.impact_assessment,
            "status": str(record.status),
            "closure": record.closure,
        }
    return {
        "number": record.number,
        "lot_id": record.lot_id,
        "result_id": record.result_id,
        "phase": record.phase,
        "status": str(record.status),
        "conclusion": str(record.conclusion) if record.conclusion else None,
        "assignable_cause": record.assignable_cause,
        "findings": record.findings,
        "siblings_reviewed": record.siblings_reviewed,
    }


def content_hash(session: Session, record: Record) -> str:
    """SHA-256 of the record's signed content, as canonical JSON."""
    text = audit.canonical(_signed_content(session, record))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sign(session: Session, proven: Proven, record: Record) -> RecordSignature:
    """The signature on `record` as it now stands (after the decision), audited as it is made."""
    session.flush()  # the record has its id and its decided values
    signer = proven.signer
    signature = RecordSignature(
        subject_kind=KIND_OF[type(record)],
        subject_id=record.id,
        meaning=proven.meaning,
        signer_id=signer.id,
        signer_name=signer.full_name,
        signer_username=signer.username,
        signed_at=utcnow(),
        content_sha256=content_hash(session, record),
        reason=proven.reason,
    )
    audit.created(session, signer, signature, reason=proven.reason)
    session.flush()  # its id, for the answer that names it
    return signature


@dataclass(frozen=True)
class ShownRecordSignature:
    signature: RecordSignature
    void: bool  # the record changed after signing


def signatures_of(session: Session, record: Record) -> list[ShownRecordSignature]:
    """Every signature on `record`, oldest first, each marked void if the record changed since."""
    rows = session.scalars(
        select(RecordSignature)
        .where(
            RecordSignature.subject_kind == KIND_OF[type(record)],
            RecordSignature.subject_id == record.id,
        )
        .order_by(RecordSignature.id)
    ).all()
    if not rows:
        return []
    current = content_hash(session, record)
    return [ShownRecordSignature(s, s.content_sha256 != current) for s in rows]
