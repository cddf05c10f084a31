"""QC results: the result page with its raw data, correction chain and history; verify, invalidate
and correct. Also the pieces the lot, bank and run pages share to show and record results."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.permissions import may
from lotrack.domain.text import N_, said
from lotrack.i18n import word
from lotrack.models import AuditEvent, Passage, Result, SpecVersion
from lotrack.request_scope import actor, db_session
from lotrack.schemas import ReasonIn
from lotrack.schemas.quality import CorrectionIn, ReadingIn
from lotrack.services import audit, clock, result_reading, result_subject, specs
from lotrack.services import result as results
from lotrack.services.raw_data import RawFile
from lotrack.web.forms import NO_FORM, FormState, back_to, submit
from lotrack.web.guard import permission

bp = Blueprint("result", __name__)
bp.context_processor(lambda: {"may": may})


# Record ids are 64-bit; a larger number in a URL names no record (and must not reach SQLite,
# which raises OverflowError on it: a 500 for bad input).
MAX_ID = 2**63 - 1


def get_result(result_id: int) -> Result:
    if not 0 < result_id <= MAX_ID:
        raise NotFound(said("No result %(id)s.", id=result_id), {"result": N_("no such result")})
    return results.get_result(db_session(), result_id)


def raw_file(name: str = "raw_file") -> RawFile | None:
    """The optional uploaded raw-data file of a form."""
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        return None
    return RawFile(upload.filename, upload.read())


def spec_options(version: SpecVersion | None) -> list[tuple[str, str, str]]:
    """(value, label, unit) for the test select: each test, or each alternative of a panel."""
    if version is None:
        return []
    out = []
    for t in specs.content_of(version).tests:
        unit = t.unit or _("no unit")
        for code in t.analytes:
            label = t.name if code == t.code else f"{t.name}: {code}"
            out.append((code, f"{code} — {label} ({unit})", t.unit))
    return out


def replaced_by(rows: list[Result]) -> dict[int, Result]:
    """For each replaced result's id, the result that replaced it."""
    return {r.replaces_id: r for r in rows if r.replaces_id is not None}


def record(subject: result_subject.Subject, data: dict[str, Any]) -> Result:
    """Record one result on `subject` from a parsed ResultIn form and its optional raw file."""
    return results.record_result(db_session(), actor(), subject, raw_file=raw_file(), **data)


def record_and_announce(subject: result_subject.Subject, data: dict[str, Any]) -> Result:
    """Record the result and say so in the reader's language (the flash on the next page)."""
    r = record(subject, data)
    if isinstance(subject, Passage):
        sentence = _(
            "Result #%(id)s recorded for P%(number)s: %(analyte)s %(value)s is %(verdict)s.",
            id=r.id,
            number=subject.number,
            analyte=r.analyte,
            value=r.value,
            verdict=word(r.verdict),
        )
    else:
        sentence = _(
            "Result #%(id)s recorded: %(analyte)s %(value)s %(unit)s is %(verdict)s.",
            id=r.id,
            analyte=r.analyte,
            value=r.value,
            unit=r.unit,
            verdict=word(r.verdict),
        )
    flash(sentence)
    return r


def _subject_url(r: Result) -> str:
    if r.lot is not None:
        return url_for("lot.show_lot", lot_number=r.lot.lot_number)
    if r.bank is not None:
        return url_for("cellbank.show_bank", code=r.bank.code)
    assert r.passage is not None
    return url_for("production.show_run", code=r.passage.run.code) + f"#passage-{r.passage.number}"


def _subject(r: Result) -> result_subject.Subject:
    subject = r.lot or r.bank or r.passage
    assert subject is not None
    return subject


def _history(session: Session, r: Result) -> list[AuditEvent]:
    events = audit.history(session, "result", str(r.id))
    if r.attachment_id is not None:
        events += audit.history(session, "attachment", str(r.attachment_id))
    return sorted(events, key=lambda e: e.seq)


def _page(r: Result, form: FormState = NO_FORM) -> str:
    session = db_session()
    subject = _subject(r)
    rows = results.results_of(session, subject)
    later = replaced_by(rows)
    back, old = [], r.replaces
    while old is not None:
        back.append(old)
        old = old.replaces
    forward, new = [], later.get(r.id)
    while new is not None:
        forward.append(new)
        new = later.get(new.id)
    prefill = {"test": r.analyte, "unit": r.unit, "performed_on": str(r.performed_on)}
    today = clock.today(session)
    reading = {"read_on": str(today), "instrument": r.instrument, "reagent_lot": r.reagent_lot}
    return render_template(
        "result/show.html",
        result=r,
        subject=result_subject.subject_label(subject),
        subject_url=_subject_url(r),
        chain_back=back,
        chain_forward=forward,
        options=spec_options(r.spec_version),
        history=_history(session, r),
        form=form,
        correction=form if form.name == "correct" else FormState("correct", values=prefill),
        reading=form if form.name == "complete" else FormState("complete", values=reading),
        reading_values=_reading_values(r),
        today=today,
    )


def _reading_values(r: Result) -> tuple[str, ...]:
    """The readings a pending result's test accepts or rejects, offered beside the value."""
    test = specs.content_of(r.spec_version).test(r.analyte)
    return (*test.accepted, *test.rejected) if test is not None else ()


@bp.get("/results/<int:result_id>")
@permission("manufacturing.read")
def show_result(result_id: int) -> ResponseReturnValue:
    return _page(get_result(result_id))


@bp.get("/results/<int:result_id>/raw")
@permission("manufacturing.read")
def raw_data(result_id: int) -> ResponseReturnValue:
    """The raw-data file byte for byte, as a download (never rendered inline)."""
    found = get_result(result_id)
    att = found.attachment
    if att is None:
        raise NotFound(
            said("Result %(id)s has no raw-data file.", id=result_id), {"raw_file": N_("none")}
        )
    resp = send_file(
        io.BytesIO(att.data),
        mimetype=att.content_type,
        as_attachment=True,
        download_name=att.filename,
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.post("/results/<int:result_id>/verify")
@permission("results.verify")
def verify(result_id: int) -> ResponseReturnValue:
    r = get_result(result_id)

    def act(_data: dict[str, Any]) -> ResponseReturnValue:
        results.verify_result(db_session(), actor(), r)
        flash(_("Result #%(id)s (%(analyte)s) verified.", id=r.id, analyte=r.analyte))
        return redirect(back_to(_subject_url(r) + f"#result-{r.id}"))

    return submit("verify", None, act, lambda form: _page(r, form))


@bp.post("/results/<int:result_id>/invalidate")
@permission("results.verify")
def invalidate(result_id: int) -> ResponseReturnValue:
    r = get_result(result_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        results.invalidate_result(db_session(), actor(), r, data["reason"])
        flash(_("Result #%(id)s (%(analyte)s) invalidated.", id=r.id, analyte=r.analyte))
        return redirect(back_to(_subject_url(r) + f"#result-{r.id}"))

    return submit("invalidate", ReasonIn(), act, lambda form: _page(r, form))


@bp.post("/results/<int:result_id>/correct")
@permission("results.write")
def correct(result_id: int) -> ResponseReturnValue:
    r = get_result(result_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        new = results.correct_result(db_session(), actor(), r, raw_file=raw_file(), **data)
        flash(
            _(
                "Result #%(id)s corrected by result #%(new)s: %(analyte)s %(value)s is"
                " %(verdict)s.",
                id=r.id,
                new=new.id,
                analyte=new.analyte,
                value=new.value,
                verdict=word(new.verdict),
            )
        )
        return redirect(back_to(_subject_url(r) + f"#result-{new.id}"))

    return submit("correct", CorrectionIn(), act, lambda form: _page(r, form))


@bp.post("/results/<int:result_id>/complete")
@permission("results.write")
def complete(result_id: int) -> ResponseReturnValue:
    """The final reading of a pending (incubating) result, read on or after its due date."""
    r = get_result(result_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        new = result_reading.complete_pending(db_session(), actor(), r, raw_file=raw_file(), **data)
        flash(
            _(
                "Result #%(id)s recorded: %(analyte)s read on %(date)s is %(verdict)s; it"
                " completes pending result #%(pending)s.",
                id=new.id,
                analyte=new.analyte,
                date=data["read_on"],
                verdict=word(new.verdict),
                pending=r.id,
            )
        )
        return redirect(back_to(_subject_url(r) + f"#result-{new.id}"))

    return submit("complete", ReadingIn(), act, lambda form: _page(r, form))


def result_ids(chosen: list[str]) -> list[int]:
    """The result ids a form ticked, or a refusal naming the field."""
    try:
        ids = [int(c) for c in chosen]
    except ValueError:
        raise ValidationFailed(
            N_("The selection is not a list of results."), {"results": N_("result ids")}
        ) from None
    if any(not 0 < i <= MAX_ID for i in ids):
        raise ValidationFailed(N_("No such result."), {"results": N_("no such result")})
    return ids


def require_file(name: str = "file") -> bytes:
    """The bytes of a required upload, or a refusal naming the field."""
    upload = request.files.get(name)
    if upload is None or not upload.filename:
        raise ValidationFailed(N_("Choose a CSV file to import."), {name: N_("required")})
    return upload.read()
