"""/api/v1 specification versions (their tests and limits as reviewed, status, QA approval), and
a cell bank's qualification against its version."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lotrack.api import quality_schemas as qout
from lotrack.api.common import READ, Blueprint, permission
from lotrack.api.record_signing import (
    SignedBankOut,
    SignedSpecVersionOut,
    record_signed_in,
    signed_row,
)
from lotrack.models import RecordSignature, SpecVersion
from lotrack.request_scope import actor, db_session, lockout
from lotrack.schemas.record_signing import QualifySignedIn, RecordSignIn
from lotrack.services import cellbank as banks
from lotrack.services import qualification
from lotrack.services import specs as service

bp = Blueprint(
    "api_specs",
    __name__,
    description="Specification versions (tests, limits, sources; QA approval), and a cell bank's"
    " qualification.",
)

# Record ids are 32-bit integers; a larger number names no version (404, not an overflow).
ID = "<int(min=1, max=2147483647):version_id>"
LOT = "<string(maxlength=64):lot_number>"
CODE = "<string(maxlength=64):code>"


def _row(session: Session, version: SpecVersion) -> qout.Row:
    return qout.Row(version, status=service.status(session, version))


def _detail(
    session: Session, version: SpecVersion, given: RecordSignature | None = None
) -> qout.Row:
    content = service.content_of(version)
    return signed_row(
        session,
        version,
        given,
        status=service.status(session, version),
        limits=content.limits,
        tests=content.tests,
    )


@bp.route("/specs")
@permission(READ)
@bp.response(200, qout.SpecVersionOut(many=True))
def list_versions() -> list[qout.Row]:
    """Every specification version by product and stage, newest first, with its status"""
    session = db_session()
    return [_row(session, v) for v in service.list_versions(session)]


@bp.route(f"/specs/{ID}")
@permission(READ)
@bp.response(200, SignedSpecVersionOut)
def get_version(version_id: int) -> qout.Row:
    """A specification version with each test: criterion, limits, decimals and source"""
    session = db_session()
    return _detail(session, service.get_version(session, version_id))


@bp.route(f"/specs/{ID}/approve", methods=["POST"])
@permission("specs.approve")
@bp.arguments(RecordSignIn)
@bp.response(200, SignedSpecVersionOut)
def approve(data: dict[str, Any], version_id: int) -> qout.Row:
    """QA approval under the approver's e-signature (username, password, meaning 'approved'): the
    version takes effect for records created from now on, and never changes"""
    sign, _rest = record_signed_in(data)
    session = db_session()
    version = service.get_version(session, version_id)
    given = service.approve(session, actor(), version, sign_in=sign, lockout=lockout())
    return _detail(session, version, given)


@bp.route(f"/banks/{CODE}/qualify", methods=["POST"])
@permission("bank.qualify")
@bp.arguments(QualifySignedIn)
@bp.response(200, SignedBankOut)
def qualify(data: dict[str, Any], code: str) -> qout.Row:
    """QA's decision on a bank under their e-signature (username, password, meaning 'qualified'
    or 'not qualified', the reason): qualified only when its evaluation has no blocker"""
    sign, rest = record_signed_in(data)
    session = db_session()
    bank = banks.get_bank(session, code)
    given = qualification.qualify_bank(
        session,
        actor(),
        bank,
        decision=rest["decision"],
        reason=data["reason"],
        sign_in=sign,
        lockout=lockout(),
    )
    return signed_row(session, bank, given)
