"""QA release review (review by exception) with its signing forms, exceptional release, and the
lot's audit timeline as a page, CSV and PDF."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lotrack.db import utcnow
from lotrack.documents.render import pdf_from_html
from lotrack.domain.decisions import MEANING_OF_ROLE, RULES, Action, Meaning
from lotrack.domain.errors import NotFound
from lotrack.domain.isbt128 import eye_readable
from lotrack.domain.parts import choose_part, part_count
from lotrack.domain.permissions import may
from lotrack.domain.states import ContainmentKind, ExceptionalStatus, LotState
from lotrack.domain.text import said
from lotrack.i18n import local_time, word
from lotrack.models import ExceptionalRelease, Lot
from lotrack.request_scope import actor, db_session, lockout, setting
from lotrack.schemas import ReasonIn, parse
from lotrack.schemas.documents import PartArgs
from lotrack.schemas.release import ExceptionalIn, NotifyIn, SignIn, sign_in
from lotrack.services import (
    containment,
    decisions,
    exceptional,
    investigation,
    lineage,
    release,
    signature,
)
from lotrack.services import lot as lots
from lotrack.services import timeline as timelines
from lotrack.web.forms import NO_FORM, FormState, submit
from lotrack.web.guard import permission
from lotrack.web.signing import notifications, notify_state

bp = Blueprint("release", __name__)
bp.context_processor(lambda: {"may": may, "eye_readable": eye_readable})


@dataclass(frozen=True)
class SignAction:
    action: Action
    title: LazyString  # said in the reader's language when shown
    button: LazyString  # the same, naming the lot: `button % {"lot": lot_number}`
    meanings: tuple[str, ...]  # the first is preset


# The signing forms of the review page, by the name in their URL.
SIGN_FORMS = {
    "release": SignAction(
        Action.RELEASE,
        _l("Release"),
        _l("Release lot %(lot)s"),
        (Meaning.APPROVED_FOR_RELEASE.value,),
    ),
    "reject": SignAction(
        Action.REJECT, _l("Reject"), _l("Reject lot %(lot)s"), (Meaning.REJECTED.value,)
    ),
    "unhold": SignAction(
        Action.UNHOLD,
        _l("Lift the hold"),
        _l("Lift the hold lot %(lot)s"),
        (Meaning.HOLD_LIFTED.value,),
    ),
    "review": SignAction(
        Action.REVIEW,
        _l("Sign as reviewed"),
        _l("Sign as reviewed lot %(lot)s"),
        (Meaning.REVIEWED.value,),
    ),
}
ER_MEANINGS = tuple(m.value for m in MEANING_OF_ROLE.values())
# The meaning a hold or recall of the lot is signed with, by the form's name.
CONTAIN_MEANINGS = {
    ContainmentKind.HOLD.value: Meaning.PLACED_ON_HOLD.value,
    ContainmentKind.RECALL.value: Meaning.RECALLED.value,
}


def review_page(lot: Lot, form: FormState = NO_FORM) -> str:
    """Everything QA needs on one screen, every blocker named, and the forms the role may use."""
    session = db_session()
    rv = release.review(session, lot)
    lin = lineage.lot_back(session, actor(), lot.lot_number)
    state = LotState(lot.state)
    sign_forms = {
        name: f
        for name, f in SIGN_FORMS.items()
        if f.action == Action.REVIEW or state in RULES[f.action].sources
    }
    role = actor().role
    shown = set(sign_forms) if may(role, "release.decide") else set()
    if may(role, "release.decide") and state not in (LotState.REJECTED, LotState.RECALLED):
        shown |= {"hold", "recall"}
    if may(role, "exceptional.request") and state == LotState.QUARANTINE and not rv.releasable:
        shown.add("exceptional")
    requests = exceptional.requests_of(session, lot)
    return render_template(
        "release/review.html",
        rv=rv,
        ev=rv.evaluation,
        lin=lin,
        rows=list(zip(lin.run.passages, lin.figures, strict=True)),
        investigations=investigation.open_for_lot(session, lot),
        requests=requests,
        containments=containment.containments_of(session, lot),
        # Why an ON_HOLD lot is held, and what lifting the hold would be refused for now.
        held=decisions.latest_hold(session, lot),
        unhold_blockers=(
            release.blockers_to(session, lot, LotState(lot.held_from), rv.blockers)
            if lot.state == LotState.ON_HOLD and lot.held_from
            else []
        ),
        sign_forms=sign_forms,
        contain_meanings=CONTAIN_MEANINGS,
        shown=shown,
        form=form,
        # A refusal of a form the page no longer offers (the lot changed meanwhile) goes on top.
        orphan=form if form.name and form.name not in shown else NO_FORM,
        today=utcnow().date().isoformat(),
    )


@bp.get("/lots/<lot_number>/release")
@permission("manufacturing.read")
def review(lot_number: str) -> ResponseReturnValue:
    return review_page(lots.get_lot(db_session(), lot_number))


@bp.post("/lots/<lot_number>/sign/<name>")
@permission("release.decide")
def sign(lot_number: str, name: str) -> ResponseReturnValue:
    if name not in SIGN_FORMS:
        raise NotFound(
            said("No signing action %(name)s.", name=name), {"action": ", ".join(SIGN_FORMS)}
        )
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    what = SIGN_FORMS[name]

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        if what.action == Action.REVIEW:
            done = release.sign_review(session, actor(), lot, sign_in(data), lockout())
        else:
            done = release.decide(session, actor(), lot, what.action, sign_in(data), lockout())
        flash(
            _(
                "Signed: %(meaning)s. Lot %(lot)s is %(state)s.",
                meaning=word(done.meaning),
                lot=lot.lot_number,
                state=word(lot.state),
            )
        )
        return redirect(url_for(".review", lot_number=lot.lot_number) + "#signatures")

    return submit(name, SignIn(), act, lambda form: review_page(lot, form))


@bp.post("/lots/<lot_number>/exceptional")
@permission("exceptional.request")
def request_exceptional(lot_number: str) -> ResponseReturnValue:
    session = db_session()
    lot = lots.get_lot(session, lot_number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        er = exceptional.request_release(session, actor(), lot, **data)
        flash(
            _(
                "Exceptional release %(number)s requested; it needs QA and medical director.",
                number=er.number,
            )
        )
        return redirect(url_for(".show_exceptional", number=er.number))

    return submit("exceptional", ExceptionalIn(), act, lambda form: review_page(lot, form))


def _er_page(er: ExceptionalRelease, form: FormState = NO_FORM) -> str:
    session = db_session()
    signed = [
        s
        for s in signature.signatures_of(session, er.lot)
        if s.signature.exceptional_release_id == er.id
    ]
    notify = notify_state(form)
    return render_template(
        "release/exceptional.html",
        er=er,
        blockers=json.loads(er.blockers),
        acceptance=exceptional.acceptance_of(session, er),
        # What still stands between the approved release and its first allocation.
        terms=(
            exceptional.terms_of(session, er.lot)
            if er.status == ExceptionalStatus.APPROVED
            else None
        ),
        signatures=signed,
        notifications=notifications(session, er_id=er.id),
        form=form,
        notify=notify,
        meanings=ER_MEANINGS,
        preset=MEANING_OF_ROLE[g.actor.role].value if g.actor.role in MEANING_OF_ROLE else "",
        recipient_roles=exceptional.RECIPIENT_ROLES,
        zone=setting("SITE_TIME_ZONE"),
    )


@bp.get("/exceptional/<number>")
@permission("manufacturing.read")
def show_exceptional(number: str) -> ResponseReturnValue:
    return _er_page(exceptional.get_request(db_session(), number))


@bp.post("/exceptional/<number>/sign")
@permission("exceptional.sign")
def sign_exceptional(number: str) -> ResponseReturnValue:
    session = db_session()
    er = exceptional.get_request(session, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        exceptional.sign_release(session, actor(), er, sign_in(data), lockout())
        flash(
            _(
                "Signed: %(meaning)s. Lot %(lot)s is %(state)s.",
                meaning=word(data["meaning"]),
                lot=er.lot.lot_number,
                state=word(er.lot.state),
            )
        )
        return redirect(url_for(".show_exceptional", number=er.number))

    return submit("sign", SignIn(), act, lambda form: _er_page(er, form))


@bp.post("/exceptional/<number>/notify")
@permission("release.decide")
def notify_exceptional(number: str) -> ResponseReturnValue:
    session = db_session()
    er = exceptional.get_request(session, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        exceptional.record_notification(session, actor(), er=er, **data)
        flash(
            _("Notification of the %(recipient)s recorded.", recipient=word(data["recipient_role"]))
        )
        return redirect(url_for(".show_exceptional", number=er.number) + "#notifications")

    return submit("notify", NotifyIn(), act, lambda form: _er_page(er, form))


@bp.post("/exceptional/<number>/withdraw")
@permission("exceptional.request")
def withdraw_exceptional(number: str) -> ResponseReturnValue:
    session = db_session()
    er = exceptional.get_request(session, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        exceptional.withdraw(session, actor(), er, data["reason"])
        flash(_("%(number)s withdrawn.", number=er.number))
        return redirect(url_for(".show_exceptional", number=er.number))

    return submit("withdraw", ReasonIn(), act, lambda form: _er_page(er, form))


# ---- audit timeline -------------------------------------------------------------------------


def _signatures(lot: Lot) -> list[dict[str, Any]]:
    return [
        {
            "name": s.signature.signer_name,
            "meaning": s.signature.meaning,
            "at": local_time(s.signature.signed_at),  # the viewer's zone, named
            "void": s.void,
        }
        for s in signature.signatures_of(db_session(), lot)
    ]


def _timeline(lot_number: str) -> tuple[Lot, list[timelines.Entry], list[dict[str, Any]]]:
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    return lot, timelines.lot_timeline(session, lot), _signatures(lot)


def pdf_parts(total: int) -> list[int]:
    """The parts the timeline's PDF comes in; empty when it fits in one."""
    count = part_count(total, setting("MAX_TIMELINE_PDF_EVENTS"))
    return list(range(1, count + 1)) if count > 1 else []


@bp.get("/lots/<lot_number>/timeline")
@permission("manufacturing.read")
def timeline(lot_number: str) -> ResponseReturnValue:
    lot, entries, signed = _timeline(lot_number)
    return render_template(
        "release/timeline.html",
        lot=lot,
        entries=entries,
        signatures=signed,
        pdf_parts=pdf_parts(len(entries)),
    )


@bp.get("/lots/<lot_number>/timeline.csv")
@permission("manufacturing.read")
def timeline_csv(lot_number: str) -> ResponseReturnValue:
    lot, entries, _signed = _timeline(lot_number)
    return Response(
        timelines.to_csv(entries),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{lot.lot_number}-timeline.csv"'},
    )


@bp.get("/lots/<lot_number>/timeline.pdf")
@permission("manufacturing.read")
def timeline_pdf(lot_number: str) -> ResponseReturnValue:
    """The timeline as PDF: the whole when it fits in one (MAX_TIMELINE_PDF_EVENTS), else one
    part of it (?part=), refused before rendering when no part is named."""
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    number = parse(PartArgs(), {"part": request.args.get("part", "")})["part"]
    part = choose_part(
        timelines.timeline_size(session, lot), setting("MAX_TIMELINE_PDF_EVENTS"), number
    )
    # Rendered by the pages' Jinja: the PDF speaks the reader's language and zone, as the page.
    html = render_template(
        "documents/timeline.html",
        lot_number=lot.lot_number,
        state=lot.state,
        printed_at=local_time(utcnow()),
        entries=timelines.lot_timeline(session, lot, part),
        signatures=_signatures(lot),
        part=part,
    )
    name = f"{lot.lot_number}-timeline"
    name += f"-part{part.number}of{part.count}" if part.count > 1 else ""
    return Response(
        pdf_from_html(html),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )
