"""Certificates, labels and the public verification page /v/<token> (no login)."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.documents.tokens import public_key_pem
from lotrack.documents.zpl import MEDIA_TYPE as ZPL_MEDIA_TYPE
from lotrack.domain.errors import DomainError
from lotrack.domain.isbt128 import eye_readable
from lotrack.domain.parts import choose_part, part_count
from lotrack.domain.permissions import may
from lotrack.domain.text import N_
from lotrack.errors import status_of, wants_json
from lotrack.i18n import spoken
from lotrack.models import Lot, Unit
from lotrack.request_scope import actor, db_session, printing, refused
from lotrack.schemas import parse
from lotrack.schemas.documents import PartArgs, ZplPrint
from lotrack.services import coa, token_verification, unit_labels
from lotrack.services import lot as lots
from lotrack.web.guard import permission

bp = Blueprint("documents", __name__)
bp.context_processor(lambda: {"may": may, "eye_readable": eye_readable})
STATUS_COLOURS = {
    "RELEASED": "go",
    "EXCEPTIONAL RELEASE": "warn",
    "QUARANTINE": "warn",
    "ON HOLD": "stop",
    "RECALLED": "stop",
    "REJECTED": "stop",
    "EXPIRED": "stop",
    "SUPERSEDED": "stop",
}
# Why the verifier finds a code not genuine (lotrack/documents/tokens.py says it in English, as
# the JSON answer keeps it): marked here for the catalog, so the page says it in the reader's
# language (`| say`). PREVIEW_REASON's text, spelled out for the extractor.
TOKEN_REASONS = (
    N_("not a lotrack token"),
    N_("a label preview (PREVIEW – NOT FOR LABELLING), never a printed label"),
    N_("altered: not the encoding this facility issues"),
    N_("too short to carry a signature"),
    N_("the signature does not match: altered or not issued here"),
    N_("unreadable payload"),
    N_("unknown kind of token"),
)


def _pdf(data: bytes, name: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


# Any text after /v/ gets a verdict (a long or slashed forgery is NOT GENUINE, not a 404);
# check_token rejects it before any work.
@bp.get("/v/<path:token>")
def verify(token: str) -> ResponseReturnValue:
    """Anyone who scans a label or a certificate sees whether it is genuine and its live status."""
    settings = printing()
    result = token_verification.verify_token(
        db_session(), settings.key, token, settings.product_name
    )
    if wants_json() or request.args.get("format") == "json":
        return jsonify(asdict(result))
    colour = STATUS_COLOURS.get(result.status, "stop") if result.genuine else "stop"
    return render_template("verify/show.html", v=result, colour=colour)


@bp.get("/v/public-key.pem")
def public_key() -> ResponseReturnValue:
    """The Ed25519 public key, for checking labels offline."""
    return Response(public_key_pem(printing().key), mimetype="application/x-pem-file")


@bp.get("/lots/<lot_number>/documents")
@permission("manufacturing.read")
def lot_documents(lot_number: str) -> ResponseReturnValue:
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    return render_template(
        "certificate/lot.html",
        lot=lot,
        certificates=coa.certificates_of(session, lot),
        prints=unit_labels.prints_of(session, lot),
        message=request.args.get("message", ""),
        label_parts=label_parts(lot),
    )


@bp.post("/lots/<lot_number>/coa")
@permission("release.decide")
def issue_coa(lot_number: str) -> ResponseReturnValue:
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    try:
        cert = coa.issue_certificate(
            session, actor(), lot, printing(), request.form.get("reason", "")
        )
    except DomainError as err:
        return _refused(lot, err)
    return redirect(
        url_for(
            "documents.lot_documents",
            lot_number=lot.lot_number,
            message=_(
                "%(number)s version %(version)s issued.",
                number=cert.document_number,
                version=cert.version,
            ),
        )
    )


def label_parts(lot: Lot) -> list[tuple[int, str, str]]:
    """(part, first DIN, last DIN) of each PDF the lot's labels print in; empty: one PDF."""
    units = list(lot.units)
    size = printing().max_labels
    if len(units) <= size:
        return []
    parts = (choose_part(len(units), size, n) for n in range(1, part_count(len(units), size) + 1))
    return [(p.number, units[p.start].din, units[p.stop - 1].din) for p in parts]


def _refused(lot: object, err: DomainError) -> ResponseReturnValue:
    refused(err)
    session = db_session()
    message, fields = spoken(err.message, err.fields)
    return (
        render_template(
            "certificate/lot.html",
            lot=lot,
            certificates=coa.certificates_of(session, lot),  # type: ignore[arg-type]
            prints=unit_labels.prints_of(session, lot),  # type: ignore[arg-type]
            error=message,
            errors=fields,
            message="",
            label_parts=label_parts(lot),  # type: ignore[arg-type]
        ),
        status_of(err),
    )


@bp.get("/lots/<lot_number>/coa.pdf")
@permission("manufacturing.read")
def coa_pdf(lot_number: str) -> ResponseReturnValue:
    session = db_session()
    version = request.args.get("version", type=int)
    cert = coa.get_certificate(session, lots.get_lot(session, lot_number), version)
    return _pdf(cert.pdf, f"{cert.document_number}-v{cert.version}.pdf")


def _label_sheet(
    lot: Lot, units: list[Unit], filename: str, *, preview: bool
) -> ResponseReturnValue:
    """The labels as a PDF: printed (logged; a reprint needs the form's reason) or previewed."""
    session = db_session()
    try:
        if preview:
            sheet = unit_labels.preview_labels(session, actor(), units, printing())
        else:
            reason = request.form.get("reason", "")
            sheet = unit_labels.print_labels(session, actor(), units, printing(), reason)
    except DomainError as err:
        return _refused(lot, err)
    return _pdf(sheet.pdf, filename)


def _lot_part(lot: Lot) -> tuple[list[Unit], str]:
    """The units of the part asked for (?part=; all when they fit in one document) and the file
    name's tail; refused (naming `part`) before rendering when the lot has more units than one
    document holds and no part is named."""
    units = list(lot.units)
    number = parse(PartArgs(), {"part": request.args.get("part", "")})["part"]
    part = choose_part(len(units), printing().max_labels, number)
    return part.of(units), f"-part{part.number}of{part.count}" if part.count > 1 else ""


def _lot_sheet(lot_number: str, *, preview: bool) -> ResponseReturnValue:
    """One part of the lot's labels as a PDF, printed or previewed."""
    lot = lots.get_lot(db_session(), lot_number)
    try:
        units, tail = _lot_part(lot)
    except DomainError as err:
        return _refused(lot, err)
    name = f"labels-{lot.lot_number}{tail}{'-PREVIEW' if preview else ''}.pdf"
    return _label_sheet(lot, units, name, preview=preview)


def _zpl_sheet(lot: Lot, units: list[Unit], stem: str) -> ResponseReturnValue:
    """The labels as ZPL II for a thermal printer at the form's dpi: always a print, logged as
    the PDF's are (a reprint needs the form's reason). There is no ZPL preview."""
    session = db_session()
    try:
        form = parse(
            ZplPrint(),
            {"dpi": request.form.get("dpi", ""), "reason": request.form.get("reason", "")},
        )
        sheet = unit_labels.print_zpl_labels(
            session, actor(), units, printing(), form["dpi"], form["reason"]
        )
    except DomainError as err:
        return _refused(lot, err)
    return Response(
        sheet.zpl,
        mimetype=ZPL_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{stem}-{sheet.dpi}dpi.zpl"'},
    )


@bp.get("/lots/<lot_number>/labels.pdf")
@permission("labels.print")
def preview_lot_labels(lot_number: str) -> ResponseReturnValue:
    """Every label of the lot (or of one part) as it would print, stamped PREVIEW – NOT FOR
    LABELLING (a read: nothing is logged; the QR codes carry no signed token)."""
    return _lot_sheet(lot_number, preview=True)


@bp.get("/units/<string(maxlength=64):din>/label.pdf")
@permission("labels.print")
def preview_unit_label(din: str) -> ResponseReturnValue:
    """One unit's label as it would print, stamped as a preview; nothing is logged."""
    unit = lots.get_unit(db_session(), din)
    return _label_sheet(unit.lot, [unit], f"label-{unit.din}-PREVIEW.pdf", preview=True)


@bp.post("/lots/<lot_number>/labels.pdf")
@permission("labels.print")
def lot_labels(lot_number: str) -> ResponseReturnValue:
    return _lot_sheet(lot_number, preview=False)


@bp.post("/units/<string(maxlength=64):din>/label.pdf")
@permission("labels.print")
def unit_label(din: str) -> ResponseReturnValue:
    unit = lots.get_unit(db_session(), din)
    return _label_sheet(unit.lot, [unit], f"label-{unit.din}.pdf", preview=False)


@bp.post("/lots/<lot_number>/labels.zpl")
@permission("labels.print")
def lot_labels_zpl(lot_number: str) -> ResponseReturnValue:
    """The lot's labels (or one part's) as ZPL II for a thermal printer, each print logged."""
    lot = lots.get_lot(db_session(), lot_number)
    try:
        units, tail = _lot_part(lot)
    except DomainError as err:
        return _refused(lot, err)
    return _zpl_sheet(lot, units, f"labels-{lot.lot_number}{tail}")


@bp.post("/units/<string(maxlength=64):din>/label.zpl")
@permission("labels.print")
def unit_label_zpl(din: str) -> ResponseReturnValue:
    unit = lots.get_unit(db_session(), din)
    return _zpl_sheet(unit.lot, [unit], f"label-{unit.din}")
