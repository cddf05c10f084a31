"""Production runs started from WCB vials, and their passages with population doublings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from lotrack.domain.errors import NotFound
from lotrack.domain.permissions import may
from lotrack.domain.text import N_, said
from lotrack.models import AuditEvent, ProductionRun
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas.manufacturing import PassageIn, RunIn
from lotrack.schemas.quality import ResultIn
from lotrack.services import audit, evaluation, material_uses
from lotrack.services import production as runs
from lotrack.web.forms import NO_FORM, FormState, handle_form, submit
from lotrack.web.guard import permission
from lotrack.web.result import record_and_announce, replaced_by, spec_options

bp = Blueprint("production", __name__)
bp.context_processor(lambda: {"may": may})


def _history(session: Session, run: ProductionRun) -> list[AuditEvent]:
    """The run's own events and those of its passages, in sequence order."""
    records = [("production_run", run.id)] + [("passage", p.id) for p in run.passages]
    events = [e for kind, ident in records for e in audit.history(session, kind, str(ident))]
    return sorted(events, key=lambda e: e.seq)


@bp.get("/runs")
@permission("manufacturing.read")
def list_runs() -> ResponseReturnValue:
    page = runs.list_runs(db_session(), request.args.get("page", 1, type=int), setting("PAGE_SIZE"))
    return render_template("production/list.html", page=page)


def _page(run: ProductionRun, form: FormState = NO_FORM) -> str:
    """The run page: passages with their figures and in-process results, and any refusal."""
    session = db_session()
    rows = list(zip(run.passages, runs.passage_figures(run), strict=True))
    in_process = evaluation.passage_results(session, run)
    return render_template(
        "production/show.html",
        run=run,
        rows=rows,
        in_process=in_process,
        later=replaced_by([r for rs in in_process.values() for r in rs]),
        options=spec_options(run.spec_version),
        form=form,
        history=_history(session, run),
        uses=material_uses.uses_of_run(session, run),
        passage_numbers={p.id: p.number for p in run.passages},
    )


@bp.get("/runs/<code>")
@permission("manufacturing.read")
def show_run(code: str) -> ResponseReturnValue:
    return _page(runs.get_run(db_session(), code))


@bp.post("/runs/<code>/passages/<int:number>/results")
@permission("results.write")
def record_result(code: str, number: int) -> ResponseReturnValue:
    """An in-process result of one passage, judged against the run's pinned in-process spec."""
    run = runs.get_run(db_session(), code)
    passage = next((p for p in run.passages if p.number == number), None)
    if passage is None:
        raise NotFound(
            said("Run %(run)s has no passage %(number)s.", run=run.code, number=number),
            {"passage": N_("no such passage")},
        )

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        record_and_announce(passage, data)
        return redirect(url_for(".show_run", code=run.code) + f"#passage-{number}")

    return submit(f"passage-{number}", ResultIn(), act, lambda form: _page(run, form))


@bp.route("/runs/new", methods=["GET", "POST"])
@permission("manufacturing.write")
def new_run() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        run = runs.start_run(
            db_session(),
            actor(),
            code=data["code"],
            bank_code=data["bank"],
            vial_numbers=data["vials"],
            started_on=data["started_on"],
            product=data["product"],
            material_lots=data["material_lots"],
        )
        return redirect(url_for(".show_run", code=run.code))

    prefill = {"bank": request.args.get("bank", "")}
    return handle_form(RunIn(), act, "production/new.html", prefill=prefill)


@bp.route("/runs/<code>/passages/new", methods=["GET", "POST"])
@permission("manufacturing.write")
def new_passage(code: str) -> ResponseReturnValue:
    session = db_session()
    run = runs.get_run(session, code)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        runs.record_passage(session, actor(), run, **data)
        return redirect(url_for(".show_run", code=run.code))

    last = run.passages[-1] if run.passages else None
    number = (last.number if last else run.bank.passage_at_banking) + 1
    return handle_form(PassageIn(), act, "production/passage.html", run=run, number=number)
