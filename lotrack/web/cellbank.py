"""Cell banks (MCB from a clone, WCB from an MCB), their vials and vial withdrawals."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lotrack.domain.permissions import may
from lotrack.domain.record_signatures import SubjectKind, meanings_of
from lotrack.domain.states import BankTier, Qualification
from lotrack.i18n import word
from lotrack.models import AuditEvent, CellBank, Vial
from lotrack.request_scope import actor, db_session, lockout, setting
from lotrack.schemas.manufacturing import BankIn, VialsIn, WithdrawIn
from lotrack.schemas.quality import ResultIn
from lotrack.schemas.record_signing import QualifySignedIn, split_sign_in
from lotrack.services import audit, evaluation, qualification, record_signature
from lotrack.services import cellbank as banks
from lotrack.web.forms import NO_FORM, FormState, handle_form, submit
from lotrack.web.guard import permission
from lotrack.web.result import record_and_announce, replaced_by, spec_options
from lotrack.web.retained import section as retained_section

bp = Blueprint("cellbank", __name__)
bp.context_processor(lambda: {"may": may})


def _vial_history(session: Session, vial: Vial) -> list[AuditEvent]:
    events = audit.history(session, "vial", str(vial.id))
    if vial.withdrawal is not None:
        events += audit.history(session, "vial_withdrawal", str(vial.withdrawal.id))
    return sorted(events, key=lambda e: e.seq)


@bp.get("/banks")
@permission("manufacturing.read")
def list_banks() -> ResponseReturnValue:
    page = banks.list_banks(
        db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE")
    )
    return render_template("cellbank/list.html", page=page)


def _page(bank: CellBank, form: FormState = NO_FORM) -> str:
    """The bank page with its qualification evaluation, results and (on a refusal) the reasons."""
    session = db_session()
    ev = evaluation.evaluate_bank(session, bank)
    return render_template(
        "cellbank/show.html",
        bank=bank,
        ev=ev,
        later=replaced_by(ev.results),
        options=spec_options(bank.spec_version),
        decisions=[Qualification.QUALIFIED.value, Qualification.NOT_QUALIFIED.value],
        meanings=meanings_of(SubjectKind.CELL_BANK),
        signatures=record_signature.signatures_of(session, bank),
        form=form,
        history=audit.history(session, "cell_bank", str(bank.id)),
        **retained_section(bank=bank),
    )


@bp.get("/banks/<code>")
@permission("manufacturing.read")
def show_bank(code: str) -> ResponseReturnValue:
    return _page(banks.get_bank(db_session(), code))


@bp.post("/banks/<code>/results")
@permission("results.write")
def record_result(code: str) -> ResponseReturnValue:
    bank = banks.get_bank(db_session(), code)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        r = record_and_announce(bank, data)
        return redirect(url_for(".show_bank", code=bank.code) + f"#result-{r.id}")

    return submit("record", ResultIn(), act, lambda form: _page(bank, form))


@bp.post("/banks/<code>/qualify")
@permission("bank.qualify")
def qualify(code: str) -> ResponseReturnValue:
    """QA's decision: qualified only when the evaluation has no blocker."""
    bank = banks.get_bank(db_session(), code)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        sign, rest = split_sign_in(data)
        qualification.qualify_bank(
            db_session(),
            actor(),
            bank,
            decision=rest["decision"],
            reason=data["reason"],
            sign_in=sign,
            lockout=lockout(),
        )
        decision = word(data["decision"]).replace("_", " ")
        flash(
            _(
                "%(tier)s %(code)s is %(decision)s.",
                tier=bank.tier,
                code=bank.code,
                decision=decision,
            )
        )
        return redirect(url_for(".show_bank", code=bank.code))

    return submit("qualify", QualifySignedIn(), act, lambda form: _page(bank, form))


@bp.route("/banks/new", methods=["GET", "POST"])
@permission("manufacturing.write")
def new_bank() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        data["parent_code"] = data.pop("parent")
        bank = banks.register_bank(db_session(), actor(), **data)
        return redirect(url_for(".show_bank", code=bank.code))

    prefill = {k: request.args.get(k, "") for k in ("tier", "parent")}
    return handle_form(
        BankIn(), act, "cellbank/new.html", prefill=prefill, tiers=[t.value for t in BankTier]
    )


@bp.route("/banks/<code>/vials/new", methods=["GET", "POST"])
@permission("manufacturing.write")
def add_vials(code: str) -> ResponseReturnValue:
    session = db_session()
    bank = banks.get_bank(session, code)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        banks.add_vials(session, actor(), bank, **data)
        return redirect(url_for(".show_bank", code=bank.code))

    return handle_form(VialsIn(), act, "cellbank/vials.html", bank=bank)


def _vial_page(code: str, number: int, write: bool) -> ResponseReturnValue:
    session = db_session()
    vial = banks.get_vial(session, code, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        banks.withdraw_vial(session, actor(), vial, purpose=data["purpose"])
        return redirect(url_for(".show_vial", code=code, number=number))

    context = {"vial": vial, "history": _vial_history(session, vial)}
    if not write:  # the read-only view of the same page
        return render_template("cellbank/vial.html", errors={}, message="", values={}, **context)
    return handle_form(WithdrawIn(), act, "cellbank/vial.html", **context)


@bp.get("/banks/<code>/vials/<int:number>")
@permission("manufacturing.read")
def show_vial(code: str, number: int) -> ResponseReturnValue:
    return _vial_page(code, number, write=False)


@bp.route("/banks/<code>/vials/<int:number>/withdraw", methods=["GET", "POST"])
@permission("manufacturing.write")
def withdraw_vial(code: str, number: int) -> ResponseReturnValue:
    return _vial_page(code, number, write=True)
