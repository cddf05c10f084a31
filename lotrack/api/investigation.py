"""/api/v1 OOS investigations: opened by a failing lot result, extended to the sibling lots of the
same run and working cell bank, escalated to phase II and concluded by QA."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from lotrack.api import quality_schemas as qout
from lotrack.api import schemas as out
from lotrack.api.common import READ, Blueprint, permission
from lotrack.api.record_signing import SignedInvestigationOut, record_signed_in, signed_row
from lotrack.models import Investigation, RecordSignature
from lotrack.request_scope import actor, db_session, lockout
from lotrack.schemas.paging import InvestigationPageArgs
from lotrack.schemas.quality import FindingsIn
from lotrack.schemas.record_signing import ConclusionSignedIn
from lotrack.services import investigation as service
from lotrack.services.common import Page

bp = Blueprint(
    "api_investigation",
    __name__,
    description="Out-of-specification investigations; an open one blocks the lot's release.",
)

MANAGE = "investigation.manage"
NUMBER = "<string(maxlength=32):number>"


def _detail(session: Session, inv: Investigation, given: RecordSignature | None = None) -> qout.Row:
    return signed_row(
        session,
        inv,
        given,
        failing_result=qout.result_rows(session, [inv.result])[0],
        siblings=service.sibling_lots(session, inv.lot),
        siblings_reviewed=json.loads(inv.siblings_reviewed) if inv.siblings_reviewed else [],
    )


@bp.route("/investigations")
@permission(READ)
@bp.arguments(InvestigationPageArgs, location="query")
@bp.response(200, out.page_of(qout.InvestigationOut, "InvestigationPage"))
def list_investigations(args: dict[str, Any]) -> Page[Investigation]:
    """List investigations, latest first; ?status=open or closed filters"""
    return service.list_investigations(
        db_session(), args["page"], args["per_page"], status=args.get("status")
    )


@bp.route(f"/investigations/{NUMBER}")
@permission(READ)
@bp.response(200, SignedInvestigationOut)
def get_investigation(number: str) -> qout.Row:
    """An investigation with its failing result, findings and the sibling lots to review"""
    session = db_session()
    return _detail(session, service.get_investigation(session, number))


@bp.route(f"/investigations/{NUMBER}/escalate", methods=["POST"])
@permission(MANAGE)
@bp.arguments(FindingsIn)
@bp.response(200, SignedInvestigationOut)
def escalate(data: dict[str, Any], number: str) -> qout.Row:
    """Phase I found no laboratory error: escalate to a full (phase II) investigation"""
    session = db_session()
    inv = service.escalate(
        session, actor(), service.get_investigation(session, number), data["findings"]
    )
    row = _detail(session, inv)
    return row


@bp.route(f"/investigations/{NUMBER}/conclude", methods=["POST"])
@permission(MANAGE)
@bp.arguments(ConclusionSignedIn)
@bp.response(200, SignedInvestigationOut)
def conclude(data: dict[str, Any], number: str) -> qout.Row:
    """Close as confirmed OOS, or invalidated with an assignable cause (which permits a retest),
    under QA's e-signature (username, password, meaning 'concluded', an optional comment as
    `reason`)"""
    sign, rest = record_signed_in(data)
    session = db_session()
    inv = service.get_investigation(session, number)
    given = service.conclude(session, actor(), inv, **rest, sign_in=sign, lockout=lockout())
    return _detail(session, inv, given)
