"""Materials pages: the materials and their received lots, receiving a lot with the supplier's
certificate, a lot's record (certificate SHA-256, signed incoming inspection, the product lots it
reached, hold and recall), and striking a use recorded by mistake."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain.decisions import Meaning
from lotrack.domain.materials import MaterialCategory
from lotrack.domain.permissions import may
from lotrack.domain.record_signatures import SubjectKind, meaning_of, meanings_of
from lotrack.domain.states import ContainmentKind
from lotrack.models import MaterialLot, MaterialUse, Passage, ProductionRun
from lotrack.request_scope import actor, db_session, lockout, setting
from lotrack.schemas.materials import InspectionIn, LiftIn, MaterialIn, MaterialLotIn, StrikeIn
from lotrack.schemas.record_signing import split_sign_in
from lotrack.schemas.release import SignIn, sign_in
from lotrack.services import containment, material_uses, materials, record_signature
from lotrack.web.forms import NO_FORM, FormState, handle_form, submit
from lotrack.web.guard import permission
from lotrack.web.result import raw_file

bp = Blueprint("materials", __name__)
bp.context_processor(lambda: {"may": may})
READ = "manufacturing.read"
MEANINGS = {ContainmentKind.HOLD: Meaning.PLACED_ON_HOLD, ContainmentKind.RECALL: Meaning.RECALLED}


@bp.get("/materials")
@permission(READ)
def list_materials() -> ResponseReturnValue:
    """The materials, and their lots newest first (a fixed number of queries)."""
    session = db_session()
    page = materials.list_lots(session, request.args.get("page", 1, type=int), setting("PAGE_SIZE"))
    return render_template(
        "materials/list.html", materials=materials.list_materials(session), page=page
    )


@bp.route("/materials/new", methods=["GET", "POST"])
@permission("materials.write")
def new_material() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        made = materials.register_material(db_session(), actor(), **data)
        flash(_("Material %(code)s registered.", code=made.code))
        return redirect(url_for(".list_materials"))

    return handle_form(
        MaterialIn(), act, "materials/new.html", categories=[c.value for c in MaterialCategory]
    )


@bp.route("/material-lots/new", methods=["GET", "POST"])
@permission("materials.write")
def receive_lot() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        lot = materials.receive_lot(
            db_session(),
            actor(),
            material_code=data["material"],
            supplier_lot=data["supplier_lot"],
            received_on=data["received_on"],
            expires_on=data["expires_on"],
            certificate=raw_file("certificate"),
        )
        flash(_("Material lot %(number)s received; it waits in quarantine.", number=lot.number))
        return redirect(url_for(".show_lot", number=lot.number))

    return handle_form(
        MaterialLotIn(),
        act,
        "materials/receive.html",
        materials=materials.list_materials(db_session()),
    )


def _page(lot: MaterialLot, form: FormState = NO_FORM) -> str:
    session = db_session()
    return render_template(
        "materials/lot.html",
        lot=lot,
        signatures=record_signature.signatures_of(session, lot),
        reached=material_uses.lots_of_material(session, lot),
        meanings=MEANINGS,
        inspection_meanings=meanings_of(SubjectKind.MATERIAL_LOT)[:2],
        lift_meaning=meaning_of(SubjectKind.MATERIAL_LOT, "lift").value,
        form=form,
    )


@bp.get("/material-lots/<number>")
@permission(READ)
def show_lot(number: str) -> ResponseReturnValue:
    return _page(materials.get_lot(db_session(), number))


@bp.get("/material-lots/<number>/certificate")
@permission(READ)
def certificate(number: str) -> ResponseReturnValue:
    """The supplier's certificate as received, byte for byte."""
    kept = materials.get_lot(db_session(), number).certificate
    return Response(
        kept.data,
        mimetype=kept.content_type,
        headers={"Content-Disposition": f'attachment; filename="{kept.filename}"'},
    )


@bp.post("/material-lots/<number>/inspection")
@permission("materials.inspect")
def inspect(number: str) -> ResponseReturnValue:
    session = db_session()
    lot = materials.get_lot(session, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        signed, decided = split_sign_in(data)
        materials.inspect_lot(
            session, actor(), lot, decision=decided["decision"], sign_in=signed, lockout=lockout()
        )
        flash(_("Material lot %(number)s: inspection signed.", number=lot.number))
        return redirect(url_for(".show_lot", number=lot.number))

    return submit("inspection", InspectionIn(), act, lambda form: _page(lot, form))


@bp.post("/material-lots/<number>/lift-hold")
@permission("release.decide")
def lift_hold(number: str) -> ResponseReturnValue:
    session = db_session()
    lot = materials.get_lot(session, number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        signed, _decided = split_sign_in(data)
        materials.lift_hold(session, actor(), lot, sign_in=signed, lockout=lockout())
        flash(_("Material lot %(number)s: hold lifted.", number=lot.number))
        return redirect(url_for(".show_lot", number=lot.number))

    return submit("lift", LiftIn(), act, lambda form: _page(lot, form))


@bp.post("/material-lots/<number>/contain/<kind>")
@permission("release.decide")
def contain(number: str, kind: str) -> ResponseReturnValue:
    session = db_session()
    lot = materials.get_lot(session, number)
    kind = ContainmentKind.RECALL if kind == "recall" else ContainmentKind.HOLD

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        record = containment.contain(
            session, actor(), kind=kind, sign_in=sign_in(data), lockout=lockout(), material_lot=lot
        )
        session.flush()
        flash(_("%(number)s signed.", number=record.number))
        return redirect(url_for("trace.impact", number=record.number))

    return submit(kind, SignIn(), act, lambda form: _page(lot, form))


@bp.post("/material-uses/<int:use_id>/strike")
@permission("manufacturing.write")
def strike(use_id: int) -> ResponseReturnValue:
    session = db_session()
    use = material_uses.get_use(session, use_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        material_uses.strike_use(session, actor(), use, data["reason"])
        flash(_("The use of %(lot)s is struck.", lot=use.material_lot.number))
        return redirect(_where(use))

    # A refusal shows on the material lot's page, which names the use's run or result.
    return submit("strike", StrikeIn(), act, lambda form: _page(use.material_lot, form))


def _where(use: MaterialUse) -> str:
    """The run page a use is listed on (a result's use: the material lot's page)."""
    session = db_session()
    run_id = use.run_id
    if use.passage_id is not None:
        run_id = session.get(Passage, use.passage_id).run_id  # type: ignore[union-attr]
    if run_id is None:
        return url_for(".show_lot", number=use.material_lot.number)
    run = session.get(ProductionRun, run_id)
    return url_for("production.show_run", code=run.code) + "#materials"  # type: ignore[union-attr]
