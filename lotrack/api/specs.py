"""/api/v1 specification versions (their tests and limits as reviewed, status, QA approval), and
a cell bank's qualification against its version."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lotrack.api import quality_schemas as qout
from lotrack.api import schemas as out
from lotrack.api.common import READ, Blueprint, permission
from lotrack.models import CellBank, SpecVersion
from lotrack.request_scope import actor, db_session
from lotrack.schemas.quality import QualifyIn
from lotrack.services import cellbank as banks
from lotrack.services import evaluation
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


def _detail(session: Session, version: SpecVersion) -> qout.Row:
    content = service.content_of(version)
    return qout.Row(
        version,
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
@bp.response(200, qout.SpecVersionDetail)
def get_version(version_id: int) -> qout.Row:
    """A specification version with each test: criterion, limits, decimals and source"""
    session = db_session()
    return _detail(session, service.get_version(session, version_id))


@bp.route(f"/specs/{ID}/approve", methods=["POST"])
@permission("specs.approve")
@bp.response(200, qout.SpecVersionDetail)
def approve(version_id: int) -> qout.Row:
    """QA approval: the version takes effect for records created from now on, and never changes"""
    session = db_session()
    version = service.approve(session, actor(), service.get_version(session, version_id))
    row = _detail(session, version)
    return row


@bp.route(f"/banks/{CODE}/qualify", methods=["POST"])
@permission("bank.qualify")
@bp.arguments(QualifyIn)
@bp.response(200, out.BankOut)
def qualify(data: dict[str, Any], code: str) -> CellBank:
    """QA's decision on a bank: qualified only when its evaluation has no blocker"""
    session = db_session()
    bank = evaluation.qualify_bank(session, actor(), banks.get_bank(session, code), **data)
    return bank
