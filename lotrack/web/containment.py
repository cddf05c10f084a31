"""Holds and recalls: of one lot (forms on its release review) or of every lot from a bank (the
bank's containment page); the list, and one hold or recall with every affected unit and where it
is stored, its signatures and who was told. Lookback holds (services/lookback.py) show here too,
with the record whose new fact triggered them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import pgettext

from lotrack.domain.decisions import Meaning
from lotrack.domain.errors import NotFound
from lotrack.domain.isbt128 import eye_readable
from lotrack.domain.permissions import may
from lotrack.domain.states import ContainmentKind
from lotrack.domain.text import N_, said
from lotrack.i18n import word
from lotrack.models import CellBank, Containment
from lotrack.request_scope import actor, db_session, lockout, setting
from lotrack.schemas.release import NotifyIn, SignIn, sign_in
from lotrack.services import cellbank as banks
from lotrack.services import containment as containments
from lotrack.services import decisions, exceptional, lookback, signature
from lotrack.services import lot as lots
from lotrack.web.forms import NO_FORM, FormState, submit
from lotrack.web.guard import permission
from lotrack.web.release import review_page
from lotrack.web.signing import notifications, notify_state

bp = Blueprint("containment", __name__)
bp.context_processor(lambda: {"may": may, "eye_readable": eye_readable})
MEANINGS = {ContainmentKind.HOLD: Meaning.PLACED_ON_HOLD, ContainmentKind.RECALL: Meaning.RECALLED}


def _kind(kind: str) -> str:
    if kind not in containments.KINDS:
        raise NotFound(
            said("No containment of kind %(kind)s.", kind=kind), {"kind": N_("hold or recall")}
        )
    return kind


@bp.get("/containments")
@permission("manufacturing.read")
def list_containments() -> ResponseReturnValue:
    session = db_session()
    page = containments.list_containments(
        session, request.args.get("page", 1, type=int), setting("PAGE_SIZE")
    )
    triggers = decisions.triggers_of(session, page.items)
    return render_template("containment/list.html", page=page, triggers=triggers)


def _page(record: Containment, form: FormState = NO_FORM) -> str:
    session = db_session()
    signed = [
        s
        for link in record.lots
        for s in signature.signatures_of(session, link.lot)
        if s.signature.containment_id == record.id
    ]
    notify = notify_state(form)
    return render_template(
        "containment/show.html",
        record=record,
        trigger=decisions.trigger_of(session, record),
        units=containments.affected_units(session, record),
        signatures=signed,
        notifications=notifications(session, containment_id=record.id),
        notify=notify,
        recipient_roles=exceptional.RECIPIENT_ROLES,
        zone=setting("SITE_TIME_ZONE"),
        # The "Lots reached" table's header: the state a lot went to ("To" alone is a
        # shipment's recipient in the catalog).
        to_state=pgettext("lot state", "To"),
    )


@bp.get("/containments/<number>")
@permission("manufacturing.read")
def show_containment(number: str) -> ResponseReturnValue:
    return _page(containments.get_containment(db_session(), number))


@bp.post("/containments/<number>/notify")
@permission("release.decide")
def notify(number: str) -> ResponseReturnValue:
    session = db_session()
    record = containments.get_containment(session, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        exceptional.record_notification(session, actor(), containment_id=record.id, **data)
        flash(
            _("Notification of the %(recipient)s recorded.", recipient=word(data["recipient_role"]))
        )
        return redirect(url_for(".show_containment", number=record.number) + "#notifications")

    return submit("notify", NotifyIn(), act, lambda form: _page(record, form))


def _done(record: Containment) -> ResponseReturnValue:
    moved = ", ".join(f"{link.lot.lot_number} → {word(link.to_state)}" for link in record.lots)
    flash(
        _(
            "%(number)s: %(kind)s signed; %(moved)s.",
            number=record.number,
            kind=word(record.kind),
            moved=moved,
        )
    )
    return redirect(url_for(".show_containment", number=record.number))


@bp.post("/lots/<lot_number>/contain/<kind>")
@permission("release.decide")
def contain_lot(lot_number: str, kind: str) -> ResponseReturnValue:
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    kind = _kind(kind)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        record = containments.contain(
            session, actor(), kind=kind, sign_in=sign_in(data), lockout=lockout(), lot=lot
        )
        session.flush()
        session.refresh(record)
        return _done(record)

    return submit(kind, SignIn(), act, lambda form: review_page(lot, form))


def _bank_page(bank: CellBank, form: FormState = NO_FORM) -> str:
    session = db_session()
    return render_template(
        "containment/bank.html",
        bank=bank,
        lots=lookback.lots_of_bank(session, bank),
        meanings=MEANINGS,
        form=form,
    )


@bp.get("/banks/<code>/contain")
@permission("manufacturing.read")
def bank(code: str) -> ResponseReturnValue:
    return _bank_page(banks.get_bank(db_session(), code))


@bp.post("/banks/<code>/contain/<kind>")
@permission("release.decide")
def contain_bank(code: str, kind: str) -> ResponseReturnValue:
    session = db_session()
    found = banks.get_bank(session, code)
    kind = _kind(kind)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        record = containments.contain(
            session, actor(), kind=kind, sign_in=sign_in(data), lockout=lockout(), bank=found
        )
        session.flush()
        session.refresh(record)
        return _done(record)

    return submit(kind, SignIn(), act, lambda form: _bank_page(found, form))
