"""/api/v1 QC results of lots, cell banks and passages: recorded one by one or from an instrument
CSV, verified by a second person, invalidated or corrected with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import request
from flask.views import MethodView
from sqlalchemy.orm import Session

from lotrack.api import quality_schemas as qout
from lotrack.api.common import READ, Blueprint, permission
from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.text import N_, said
from lotrack.models import Lot, Passage
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas import ReasonIn, parse
from lotrack.schemas.quality import CorrectionIn, ImportDefaultsIn, ResultIn
from lotrack.services import cellbank as banks
from lotrack.services import instrument_file, result_import
from lotrack.services import lot as lots
from lotrack.services import production as runs
from lotrack.services import result as service

bp = Blueprint(
    "api_result",
    __name__,
    description="QC results as entered and judged; instrument imports; verification, corrections.",
)

WRITE = "results.write"
VERIFY = "results.verify"
LOT = "<string(maxlength=64):lot_number>"
CODE = "<string(maxlength=64):code>"
# Record ids and passage numbers are 32-bit integers; a larger number names nothing (404).
ID = "<int(min=1, max=2147483647):result_id>"
NUMBER = "<int(min=1, max=2147483647):number>"

_DEFAULT = {"type": "string", "description": "used where a row leaves the column empty"}
CSV_BODY = {
    "required": True,
    "description": "The instrument export: the multipart field `file` (a CSV in UTF-8, with or"
    " without BOM, or GB18030; or an .xlsx workbook, its first sheet), or the body as text/csv."
    " Columns: test (or marker), value (or percent), unit, performed_on (or date), instrument,"
    " method, reagent_lot, and lot when the import is not for one lot; Chinese headers (检测项目,"
    " 结果, 单位, 检测日期, …) are read as these. Defaults for empty columns may also be query"
    " arguments.",
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    **{
                        k: _DEFAULT for k in ("performed_on", "instrument", "method", "reagent_lot")
                    },
                },
            }
        },
        "text/csv": {"schema": {"type": "string"}},
    },
}


@contextmanager
def _analyte_is_test() -> Iterator[None]:
    """A panel's own code (CD14-CD11B) is refused as naming no analyte; the API's input for the
    analyte is `test`, so the refusal names that field."""
    try:
        yield
    except ValidationFailed as err:
        if "analyte" in err.fields:
            err.fields["test"] = err.fields.pop("analyte")
        raise


def _record(session: Session, subject: service.Subject, data: dict[str, Any]) -> qout.Row:
    """Record one result; the answer carries the investigation a failure opened."""
    with _analyte_is_test():
        recorded = service.record_result(session, actor(), subject, **data)
    row = qout.result_rows(session, [recorded])[0]
    return row


def _listed(session: Session, subject: service.Subject) -> list[qout.Row]:
    return qout.result_rows(session, service.results_of(session, subject))


def _passage(session: Session, code: str, number: int) -> Passage:
    run = runs.get_run(session, code)
    found = next((p for p in run.passages if p.number == number), None)
    if found is None:
        raise NotFound(
            said("Run %(run)s has no passage %(number)s.", run=run.code, number=number),
            {"passage": N_("no such passage")},
        )
    return found


# Lots -------------------------------------------------------------------------------------------


@bp.route(f"/lots/{LOT}/results")
class LotResults(MethodView):
    @permission(READ)
    @bp.response(200, qout.ResultOut(many=True))
    def get(self, lot_number: str) -> list[qout.Row]:
        """Every result of a lot, invalidated ones included, oldest first"""
        session = db_session()
        return _listed(session, lots.get_lot(session, lot_number))

    @permission(WRITE)
    @bp.arguments(ResultIn)
    @bp.response(201, qout.ResultOut)
    def post(self, data: dict[str, Any], lot_number: str) -> qout.Row:
        """Record a lot result as entered and judge it; a required test's failure opens an OOS"""
        session = db_session()
        return _record(session, lots.get_lot(session, lot_number), data)


# Instrument imports -----------------------------------------------------------------------------


def _upload(max_rows: int) -> instrument_file.Table:
    """The uploaded file `file` (CSV or .xlsx), or the body itself when sent as text/csv."""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data, name = upload.read(), upload.filename
    elif request.mimetype == "text/csv":
        data, name = request.get_data(), ""
    else:
        raise ValidationFailed(
            N_("Send the CSV or .xlsx as the multipart field 'file' or a CSV as a text/csv body."),
            {"file": N_("required: multipart field 'file' or a text/csv body")},
        )
    return instrument_file.read(data, name, max_rows=max_rows)


def _import(query: dict[str, str], lot: Lot | None) -> dict[str, Any]:
    """Every row or none; defaults come from form fields, else the query string."""
    session = db_session()
    form = parse(ImportDefaultsIn(), request.form.to_dict()) if request.form else {}
    defaults = {k: form.get(k) or v for k, v in query.items()}
    limit = setting("MAX_IMPORT_ROWS")
    done = result_import.import_results(
        session, actor(), _upload(limit), lot=lot, defaults=defaults, max_rows=limit
    )
    rows = qout.result_rows(session, done.results)
    return {"imported": len(rows), "format": done.format, "encoding": done.encoding,
            "results": rows}  # fmt: skip


@bp.route(f"/lots/{LOT}/results/import", methods=["POST"])
@permission(WRITE)
@bp.arguments(ImportDefaultsIn, location="query")
@bp.doc(requestBody=CSV_BODY)
@bp.response(201, qout.ImportOut)
def import_lot_results(query: dict[str, str], lot_number: str) -> dict[str, Any]:
    """Import an instrument CSV for one lot: every row is checked first; one bad row writes none"""
    return _import(query, lots.get_lot(db_session(), lot_number))


@bp.route("/results/import", methods=["POST"])
@permission(WRITE)
@bp.arguments(ImportDefaultsIn, location="query")
@bp.doc(requestBody=CSV_BODY)
@bp.response(201, qout.ImportOut)
def import_results(query: dict[str, str]) -> dict[str, Any]:
    """Import an instrument CSV whose `lot` column names each row's lot; one bad row writes none"""
    return _import(query, None)


# One result -------------------------------------------------------------------------------------


@bp.route(f"/results/{ID}")
@permission(READ)
@bp.response(200, qout.ResultOut)
def get_result(result_id: int) -> qout.Row:
    """A result with its verification, invalidation and correction links"""
    session = db_session()
    return qout.result_rows(session, [service.get_result(session, result_id)])[0]


@bp.route(f"/results/{ID}/verify", methods=["POST"])
@permission(VERIFY)
@bp.response(200, qout.ResultOut)
def verify(result_id: int) -> qout.Row:
    """Verify a final, valid result as the second person (never its analyst)"""
    session = db_session()
    verified = service.verify_result(session, actor(), service.get_result(session, result_id))
    row = qout.result_rows(session, [verified])[0]
    return row


@bp.route(f"/results/{ID}/invalidate", methods=["POST"])
@permission(VERIFY)
@bp.arguments(ReasonIn)
@bp.response(200, qout.ResultOut)
def invalidate(data: dict[str, Any], result_id: int) -> qout.Row:
    """Invalidate a result with a reason; it stays visible (a failure only through its OOS)"""
    session = db_session()
    found = service.invalidate_result(
        session, actor(), service.get_result(session, result_id), data["reason"]
    )
    row = qout.result_rows(session, [found])[0]
    return row


@bp.route(f"/results/{ID}/correct", methods=["POST"])
@permission(WRITE)
@bp.arguments(CorrectionIn)
@bp.response(201, qout.ResultOut)
def correct(data: dict[str, Any], result_id: int) -> qout.Row:
    """Invalidate a result with a reason and record its replacement, linked to it"""
    session = db_session()
    old = service.get_result(session, result_id)
    with _analyte_is_test():
        new = service.correct_result(session, actor(), old, **data)
    row = qout.result_rows(session, [new])[0]
    return row


# Cell banks and passages ------------------------------------------------------------------------


@bp.route(f"/banks/{CODE}/results")
class BankResults(MethodView):
    @permission(READ)
    @bp.response(200, qout.ResultOut(many=True))
    def get(self, code: str) -> list[qout.Row]:
        """Every qualification result of a cell bank, invalidated ones included"""
        session = db_session()
        return _listed(session, banks.get_bank(session, code))

    @permission(WRITE)
    @bp.arguments(ResultIn)
    @bp.response(201, qout.ResultOut)
    def post(self, data: dict[str, Any], code: str) -> qout.Row:
        """Record a bank result, judged against the bank's pinned MCB or WCB specification"""
        session = db_session()
        return _record(session, banks.get_bank(session, code), data)


@bp.route(f"/runs/{CODE}/passages/{NUMBER}/results")
class PassageResults(MethodView):
    @permission(READ)
    @bp.response(200, qout.ResultOut(many=True))
    def get(self, code: str, number: int) -> list[qout.Row]:
        """Every in-process result of one passage"""
        session = db_session()
        return _listed(session, _passage(session, code, number))

    @permission(WRITE)
    @bp.arguments(ResultIn)
    @bp.response(201, qout.ResultOut)
    def post(self, data: dict[str, Any], code: str, number: int) -> qout.Row:
        """Record an in-process result, judged against the run's pinned in-process specification"""
        session = db_session()
        return _record(session, _passage(session, code, number), data)
