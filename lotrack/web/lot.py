"""Drug-product lots harvested from a run, and the units filled from them with their DINs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.isbt128 import eye_readable
from lotrack.domain.permissions import may
from lotrack.domain.states import Container, LotState
from lotrack.domain.text import said
from lotrack.i18n import translate
from lotrack.models import Lot
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas.manufacturing import FillIn, LotIn
from lotrack.schemas.quality import ImportDefaultsIn, ResultIn
from lotrack.services import (
    audit,
    evaluation,
    instrument_file,
    investigation,
    result_bulk,
    result_import,
)
from lotrack.services import lot as lots
from lotrack.services import result as results
from lotrack.services import shipment as shipments
from lotrack.services.result import OPEN_LOT_STATES
from lotrack.web.forms import NO_FORM, FormState, back_to, handle_form, submit
from lotrack.web.guard import permission
from lotrack.web.result import (
    record_and_announce,
    replaced_by,
    require_file,
    result_ids,
    spec_options,
)
from lotrack.web.retained import section as retained_section

bp = Blueprint("lot", __name__)
bp.context_processor(lambda: {"may": may, "eye_readable": eye_readable})
STATES = [s.value for s in LotState]


@bp.get("/lots")
@permission("manufacturing.read")
def list_lots() -> ResponseReturnValue:
    state = request.args.get("state", "").strip().upper() or None
    if state is not None and state not in STATES:
        raise ValidationFailed(
            said("Unknown lot state %(state)s.", state=state),
            {"state": said("one of %(states)s", states=", ".join(STATES))},
        )
    page = lots.list_lots(
        db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE"), state=state
    )
    return render_template("lot/list.html", page=page, state=state or "", states=STATES)


def _page(lot: Lot, form: FormState = NO_FORM) -> str:
    """The lot page: record, evaluation, results and, on a refusal, the form's reasons."""
    session = db_session()
    ev = evaluation.evaluate_lot(session, lot)
    me = actor()
    # What this user may verify in one confirmation: others' final, unverified, valid results.
    to_verify = (
        [r for r in ev.results if results.verify_refusal(me, r) is None]
        if may(me.role, "results.verify")
        else []
    )
    return render_template(
        "lot/show.html",
        lot=lot,
        ev=ev,
        later=replaced_by(ev.results),
        investigations=investigation.open_for_lot(session, lot),
        options=spec_options(lot.spec_version),
        results_open=lot.state in OPEN_LOT_STATES,
        form=form,
        history=audit.history(session, "lot", str(lot.id)),
        places=shipments.whereabouts(session, lot.units),
        to_verify=to_verify,
        **retained_section(lot=lot),
    )


@bp.get("/lots/<lot_number>")
@permission("manufacturing.read")
def show_lot(lot_number: str) -> ResponseReturnValue:
    return _page(lots.get_lot(db_session(), lot_number))


@bp.post("/lots/<lot_number>/results")
@permission("results.write")
def record_result(lot_number: str) -> ResponseReturnValue:
    lot = lots.get_lot(db_session(), lot_number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        r = record_and_announce(lot, data)
        return redirect(url_for(".show_lot", lot_number=lot.lot_number) + f"#result-{r.id}")

    return submit("record", ResultIn(), act, lambda form: _page(lot, form))


@bp.post("/lots/<lot_number>/results/verify")
@permission("results.verify")
def verify_results(lot_number: str) -> ResponseReturnValue:
    """The results ticked in the lot's table, verified in one confirmation: all or none."""
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    chosen = request.form.getlist("result")

    def act(_data: dict[str, Any]) -> ResponseReturnValue:
        done = result_bulk.verify_results(session, actor(), lot, result_ids(chosen))
        flash(
            _(
                "%(num)s results of lot %(lot)s verified: %(results)s.",
                num=len(done),
                lot=lot.lot_number,
                results=", ".join(f"#{r.id} {r.analyte}" for r in done),
            )
        )
        return redirect(back_to(url_for(".show_lot", lot_number=lot.lot_number)))

    values = {"results": ",".join(chosen)}
    return submit("verify-selected", None, act, lambda form: _page(lot, form), values=values)


@bp.post("/lots/<lot_number>/results/import")
@permission("results.write")
def import_results(lot_number: str) -> ResponseReturnValue:
    """An instrument export for this lot: every row or none."""
    session = db_session()
    lot = lots.get_lot(session, lot_number)

    def act(defaults: dict[str, Any]) -> ResponseReturnValue:
        limit = setting("MAX_IMPORT_ROWS")
        data = require_file("file")
        table = instrument_file.read(data, request.files["file"].filename or "", max_rows=limit)
        done = result_import.import_results(
            session, actor(), table, lot=lot, defaults=defaults, max_rows=limit
        )
        flash(
            _(
                "%(num)s results imported into lot %(lot)s (read as %(format)s).",
                num=len(done.results),
                lot=lot.lot_number,
                format=translate(done.described),
            )
        )
        return redirect(url_for(".show_lot", lot_number=lot.lot_number))

    return submit("import", ImportDefaultsIn(), act, lambda form: _page(lot, form))


@bp.route("/lots/new", methods=["GET", "POST"])
@permission("manufacturing.write")
def new_lot() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        lot = lots.register_lot(
            db_session(),
            actor(),
            run_code=data["run"],
            harvested_on=data["harvested_on"],
            expires_on=data["expires_on"],
            lot_number=data["lot_number"],
        )
        return redirect(url_for(".show_lot", lot_number=lot.lot_number))

    prefill = {"run": request.args.get("run", "")}
    return handle_form(LotIn(), act, "lot/new.html", prefill=prefill)


@bp.route("/lots/<lot_number>/fill", methods=["GET", "POST"])
@permission("manufacturing.write")
def fill_units(lot_number: str) -> ResponseReturnValue:
    session = db_session()
    lot = lots.get_lot(session, lot_number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        lots.fill_units(session, actor(), lot, facility_id=setting("FACILITY_ID"), **data)
        return redirect(url_for(".show_lot", lot_number=lot.lot_number))

    return handle_form(
        FillIn(), act, "lot/fill.html", lot=lot, containers=[c.value for c in Container]
    )


@bp.get("/units/<din>")
@permission("manufacturing.read")
def show_unit(din: str) -> ResponseReturnValue:
    session = db_session()
    unit = lots.get_unit(session, din)
    history = audit.history(session, "unit", str(unit.id))
    where = shipments.whereabouts(session, [unit])[unit.id]
    return render_template("lot/unit.html", unit=unit, where=where, history=history)
