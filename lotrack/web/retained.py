"""Retained-sample pages: the list with each sample's place and what is left, one sample with
its withdrawals and the withdrawal form, and the form that lays samples down for a lot or a bank
(their sections on the lot and bank pages are templates/retained/_section.html)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain.permissions import may
from lotrack.domain.retained import (
    RETENTION_SOURCE,
    QuantityUnit,
    SampleContainer,
    SampleType,
    WithdrawalReason,
    amount,
)
from lotrack.models import CellBank, Lot, RetainedSample
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas.retained import RetainedSampleIn, WithdrawalIn
from lotrack.services import retained
from lotrack.web.forms import NO_FORM, FormState, handle_form, submit
from lotrack.web.guard import permission

bp = Blueprint("retained", __name__)
bp.context_processor(lambda: {"may": may})
# The lot and bank pages show quantities too: the filter is the application's.
bp.add_app_template_filter(amount, "amount")
READ = "manufacturing.read"


def rows_of(samples: list[RetainedSample]) -> list[dict[str, Any]]:
    """Each sample with what is left of it."""
    return [{"sample": s, "remaining": retained.left(s)} for s in samples]


def section(lot: Lot | None = None, bank: CellBank | None = None) -> dict[str, Any]:
    """What templates/retained/_section.html shows on a lot's or a bank's page (2 queries)."""
    samples = retained.samples_of(db_session(), lot=lot, bank=bank)
    subject = {"lot": lot.lot_number} if lot is not None else {"bank": bank.code} if bank else {}
    return {"retained_rows": rows_of(samples), "retained_for": subject}


@bp.get("/retained-samples")
@permission(READ)
def list_samples() -> ResponseReturnValue:
    """A page of retained samples, newest first, optionally one lot's or bank's (a few queries)."""
    session = db_session()
    lot_number, bank_code = request.args.get("lot", ""), request.args.get("bank", "")
    lot = bank = None
    if lot_number or bank_code:
        lot, bank = retained.subject_of(session, lot_number, bank_code)
    page = retained.list_samples(
        session,
        request.args.get("page", 1, type=int),
        setting("PAGE_SIZE"),
        lot=lot,
        bank=bank,
    )
    return render_template(
        "retained/list.html",
        page=page,
        rows=rows_of(page.items),
        filters={k: v for k, v in (("lot", lot_number), ("bank", bank_code)) if v},
    )


@bp.route("/retained-samples/new", methods=["GET", "POST"])
@permission("retained.write")
def lay_down() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        sample = retained.record_sample(
            db_session(), actor(), data, setting("RETENTION_MONTHS_AFTER_EXPIRY")
        )
        flash(_("Retained sample %(number)s recorded.", number=sample.number))
        return redirect(url_for(".show_sample", number=sample.number))

    preset = {k: request.args[k] for k in ("lot", "bank") if request.args.get(k)}
    return handle_form(
        RetainedSampleIn(),
        act,
        "retained/new.html",
        preset=preset,
        types=[t.value for t in SampleType],
        containers=[c.value for c in SampleContainer],
        units=[u.value for u in QuantityUnit],
        months=setting("RETENTION_MONTHS_AFTER_EXPIRY"),
        source=RETENTION_SOURCE,
    )


def _page(sample: RetainedSample, form: FormState = NO_FORM) -> str:
    return render_template(
        "retained/show.html",
        sample=sample,
        remaining=retained.left(sample),
        reasons=[r.value for r in WithdrawalReason],
        source=RETENTION_SOURCE,
        form=form,
    )


@bp.get("/retained-samples/<number>")
@permission(READ)
def show_sample(number: str) -> ResponseReturnValue:
    return _page(retained.get_sample(db_session(), number))


@bp.post("/retained-samples/<number>/withdrawals")
@permission("retained.withdraw")
def withdraw(number: str) -> ResponseReturnValue:
    session = db_session()
    sample = retained.get_sample(session, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        retained.withdraw(session, actor(), sample, **data)
        flash(_("Withdrawal from %(number)s recorded.", number=sample.number))
        return redirect(url_for(".show_sample", number=sample.number))

    return submit("withdraw", WithdrawalIn(), act, lambda form: _page(sample, form))
