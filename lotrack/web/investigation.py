"""OOS investigations: the list (open or closed), one investigation with its lot, triggering
result and sibling lots, and QA's escalation to phase II and conclusion."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.permissions import may
from lotrack.domain.record_signatures import SubjectKind, meanings_of
from lotrack.domain.states import InvestigationStatus
from lotrack.domain.text import N_, said
from lotrack.i18n import word
from lotrack.models import Investigation
from lotrack.request_scope import actor, db_session, lockout, setting
from lotrack.schemas.quality import FindingsIn
from lotrack.schemas.record_signing import ConclusionSignedIn, split_sign_in
from lotrack.services import audit, record_signature
from lotrack.services import investigation as investigations
from lotrack.web.forms import NO_FORM, FormState, submit
from lotrack.web.guard import permission

bp = Blueprint("investigation", __name__)
bp.context_processor(lambda: {"may": may})
STATUSES = tuple(InvestigationStatus)


@bp.get("/investigations")
@permission("manufacturing.read")
def list_investigations() -> ResponseReturnValue:
    status = request.args.get("status", "").strip().lower() or None
    if status is not None and status not in STATUSES:
        raise ValidationFailed(
            said("Unknown investigation status %(status)s.", status=status),
            {"status": N_("open or closed")},
        )
    page = investigations.list_investigations(
        db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE"), status=status
    )
    return render_template(
        "investigation/list.html", page=page, status=status or "", statuses=STATUSES
    )


def _page(inv: Investigation, form: FormState = NO_FORM) -> str:
    session = db_session()
    reviewed = json.loads(inv.siblings_reviewed) if inv.siblings_reviewed else []
    return render_template(
        "investigation/show.html",
        inv=inv,
        siblings=investigations.sibling_lots(session, inv.lot),
        reviewed=reviewed,
        history=audit.history(session, "investigation", str(inv.id)),
        form=form,
        meanings=meanings_of(SubjectKind.INVESTIGATION),
        signatures=record_signature.signatures_of(session, inv),
    )


@bp.get("/investigations/<number>")
@permission("manufacturing.read")
def show_investigation(number: str) -> ResponseReturnValue:
    return _page(investigations.get_investigation(db_session(), number))


@bp.post("/investigations/<number>/escalate")
@permission("investigation.manage")
def escalate(number: str) -> ResponseReturnValue:
    inv = investigations.get_investigation(db_session(), number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        investigations.escalate(db_session(), actor(), inv, data["findings"])
        flash(_("%(number)s escalated to phase II.", number=inv.number))
        return redirect(url_for(".show_investigation", number=inv.number))

    return submit("escalate", FindingsIn(), act, lambda form: _page(inv, form))


@bp.post("/investigations/<number>/conclude")
@permission("investigation.manage")
def conclude(number: str) -> ResponseReturnValue:
    inv = investigations.get_investigation(db_session(), number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        sign, rest = split_sign_in(data)
        investigations.conclude(db_session(), actor(), inv, **rest, sign_in=sign, lockout=lockout())
        conclusion = word(data["conclusion"]).replace("_", " ")
        flash(_("%(number)s concluded: %(conclusion)s.", number=inv.number, conclusion=conclusion))
        return redirect(url_for(".show_investigation", number=inv.number))

    return submit("conclude", ConclusionSignedIn(), act, lambda form: _page(inv, form))
