"""/api/v1 holds and recalls, of one lot or of every lot from a cell bank, under the signer's
electronic signature (services/containment.py): each answers its containment number, each lot's
from/to state and every affected unit with its DIN and storage position. Units follow their lot's
state, so they are blocked at once wherever they are. Lookback holds (services/lookback.py) are
read here too, kind "lookback", with the record whose new fact triggered them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from lotrack.api import release_schemas as io
from lotrack.api import schemas as out
from lotrack.api.common import READ, Blueprint, permission, signed_in
from lotrack.api.release import decision
from lotrack.domain.states import ContainmentKind
from lotrack.models import Containment, Notification, Signature
from lotrack.request_scope import actor, db_session, lockout
from lotrack.schemas.paging import PageArgs
from lotrack.schemas.release import SignWithReasonIn, ZonedNotifyIn
from lotrack.services import cellbank as banks
from lotrack.services import containment as service
from lotrack.services import decisions, exceptional, signature
from lotrack.services import lot as lots
from lotrack.services.common import Page
from lotrack.services.containment import AffectedUnit
from lotrack.services.signature import ShownSignature

bp = Blueprint(
    "api_containment",
    __name__,
    description="Holds and recalls of one lot or of every lot from a bank, the affected units"
    " and where they are, and who was told.",
)

LOT = "<string(maxlength=64):lot_number>"
CODE = "<string(maxlength=64):code>"
NUMBER = "<string(maxlength=32):number>"
DECIDE = "release.decide"


@dataclass
class ContainmentView:
    """A hold or recall with what it reached (io.ContainmentDetail); other attributes are the
    record's own."""

    record: Containment
    units: list[AffectedUnit]
    signatures: list[ShownSignature]
    notifications: list[Notification]
    trigger: str | None  # a lookback's triggering record as people name it

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


def view(record: Containment) -> ContainmentView:
    session = db_session()
    shown = [
        s
        for link in record.lots
        for s in signature.signatures_of(session, link.lot)
        if s.signature.containment_id == record.id
    ]
    told = exceptional.notifications_of(session, containment_id=record.id)
    trigger = decisions.trigger_of(session, record)
    return ContainmentView(
        record,
        service.affected_units(session, record),
        shown,
        told,
        trigger.label if trigger is not None else None,
    )


def _contain_lot(kind: str, data: dict[str, Any], lot_number: str) -> dict[str, Any]:
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    record = service.contain(
        session, actor(), kind=kind, sign_in=signed_in(data), lockout=lockout(), lot=lot
    )
    session.flush()
    signed = session.scalars(
        select(Signature).where(Signature.containment_id == record.id, Signature.lot_id == lot.id)
    ).one()
    return decision(lot, signed, record.number)


@bp.route(f"/lots/{LOT}/hold", methods=["POST"])
@permission(DECIDE)
@bp.arguments(SignWithReasonIn)
@bp.response(200, io.DecisionOut)
def hold_lot(data: dict[str, Any], lot_number: str) -> dict[str, Any]:
    """Put a lot on hold (meaning 'placed on hold', with a reason); its units are blocked"""
    return _contain_lot(ContainmentKind.HOLD, data, lot_number)


@bp.route(f"/lots/{LOT}/recall", methods=["POST"])
@permission(DECIDE)
@bp.arguments(SignWithReasonIn)
@bp.response(200, io.DecisionOut)
def recall_lot(data: dict[str, Any], lot_number: str) -> dict[str, Any]:
    """Recall a released lot (meaning 'recalled', with a reason); a lot never released is held"""
    return _contain_lot(ContainmentKind.RECALL, data, lot_number)


def _contain_bank(kind: str, data: dict[str, Any], code: str) -> ContainmentView:
    session = db_session()
    bank = banks.get_bank(session, code)
    record = service.contain(
        session, actor(), kind=kind, sign_in=signed_in(data), lockout=lockout(), bank=bank
    )
    session.flush()
    session.refresh(record)  # the lots the service linked after creating the record
    shown = view(record)
    return shown


@bp.route(f"/banks/{CODE}/hold", methods=["POST"])
@permission(DECIDE)
@bp.arguments(SignWithReasonIn)
@bp.response(201, io.ContainmentDetail)
def hold_bank(data: dict[str, Any], code: str) -> ContainmentView:
    """Hold every lot made from a bank (an MCB reaches the lots of each of its WCBs)"""
    return _contain_bank(ContainmentKind.HOLD, data, code)


@bp.route(f"/banks/{CODE}/recall", methods=["POST"])
@permission(DECIDE)
@bp.arguments(SignWithReasonIn)
@bp.response(201, io.ContainmentDetail)
def recall_bank(data: dict[str, Any], code: str) -> ContainmentView:
    """Recall every released lot made from a bank; its quarantined lots are held"""
    return _contain_bank(ContainmentKind.RECALL, data, code)


@bp.route("/containments")
@permission(READ)
@bp.arguments(PageArgs, location="query")
@bp.response(200, out.page_of(io.ContainmentOut, "ContainmentPage"))
def list_containments(args: dict[str, Any]) -> Page[Containment]:
    """Holds, recalls and lookback holds, newest first"""
    return service.list_containments(db_session(), args["page"], args["per_page"])


@bp.route(f"/containments/{NUMBER}")
@permission(READ)
@bp.response(200, io.ContainmentDetail)
def get_containment(number: str) -> ContainmentView:
    """A hold, recall or lookback hold: its lots (from/to state), every affected unit and where it
    is stored; a lookback names its trigger"""
    return view(service.get_containment(db_session(), number))


@bp.route(f"/containments/{NUMBER}/notifications", methods=["POST"])
@permission(DECIDE)
@bp.arguments(ZonedNotifyIn)
@bp.response(201, io.NotificationOut)
def notify(data: dict[str, Any], number: str) -> Notification:
    """Log that a physician, the sponsor or a site was told of this hold or recall"""
    session = db_session()
    record = service.get_containment(session, number)
    told = exceptional.record_notification(session, actor(), containment_id=record.id, **data)
    return told
