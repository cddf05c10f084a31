"""/api/v1 certificates of analysis and unit labels (PDF; ZPL II for thermal printers), as on the
lot documents page."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import Schema, fields

from lotrack.api.common import READ, Blueprint, permission
from lotrack.documents.zpl import MEDIA_TYPE as ZPL_MEDIA_TYPE
from lotrack.domain.parts import choose_part
from lotrack.models import Certificate, Lot, Unit
from lotrack.request_scope import actor, db_session, printing
from lotrack.schemas.documents import PartArgs, ReasonOptional, ZplPrint
from lotrack.services import coa, unit_labels
from lotrack.services import lot as lots

bp = Blueprint(
    "api_documents",
    __name__,
    description="Certificates of analysis and unit labels (PDF, and ZPL for thermal printers).",
)
LOT = "<string(maxlength=64):lot_number>"
PDF = {200: {"description": "the PDF", "content": {"application/pdf": {}}}}


class CertificateOut(Schema):
    document_number = fields.String()
    version = fields.Integer()
    pdf_sha256 = fields.String()
    issued_at = fields.DateTime()
    issued_by = fields.Function(lambda c: c.issued_by.username)
    reason = fields.String()
    superseded_at = fields.DateTime(allow_none=True)
    verify_url = fields.Function(lambda c: coa.snapshot_of(c).get("verify_url"))


def _pdf(data: bytes, name: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@bp.route(f"/lots/{LOT}/coa", methods=["POST"])
@permission("release.decide")
@bp.arguments(ReasonOptional)
@bp.response(201, CertificateOut)
def issue_coa(data: dict[str, Any], lot_number: str) -> Certificate:
    """Issue the lot's certificate of analysis (a re-issue needs a reason, supersedes the last)"""
    session = db_session()
    cert = coa.issue_certificate(
        session, actor(), lots.get_lot(session, lot_number), printing(), data["reason"]
    )
    return cert


@bp.route(f"/lots/{LOT}/certificates")
@permission(READ)
@bp.response(200, CertificateOut(many=True))
def list_certificates(lot_number: str) -> list[Certificate]:
    """Every certificate version of a lot, oldest first"""
    session = db_session()
    return coa.certificates_of(session, lots.get_lot(session, lot_number))


@bp.route(f"/lots/{LOT}/coa.pdf")
@permission(READ)
@bp.doc(responses=PDF)
def coa_pdf(lot_number: str) -> Response:
    """The current certificate as PDF/A-3b (?version= for an earlier one)"""
    session = db_session()
    cert = coa.get_certificate(
        session, lots.get_lot(session, lot_number), request.args.get("version", type=int)
    )
    return _pdf(cert.pdf, f"{cert.document_number}-v{cert.version}.pdf")


PREVIEW_PDF = {
    200: {
        "description": "the labels stamped PREVIEW – NOT FOR LABELLING, without a signed QR code",
        "content": {"application/pdf": {}},
    }
}
PRINTED_PDF = {
    200: {"description": "the printed labels, each one logged", "content": {"application/pdf": {}}}
}


def _part(lot: Lot, number: int | None) -> tuple[list[Unit], str]:
    """The units of the part asked for (all, when they fit in one PDF) and the file name's tail;
    422 naming `part` and the limit before anything renders."""
    units = list(lot.units)
    part = choose_part(len(units), printing().max_labels, number)
    return part.of(units), f"-part{part.number}of{part.count}" if part.count > 1 else ""


@bp.route(f"/lots/{LOT}/labels.pdf", endpoint="lot_labels")
class LotLabels(MethodView):
    @permission("labels.print")
    @bp.arguments(PartArgs, location="query")
    @bp.doc(responses=PREVIEW_PDF)
    @bp.alt_response(422, response="UNPROCESSABLE_ENTITY")  # no unit, or a part to name
    def get(self, args: dict[str, Any], lot_number: str) -> Response:
        """Preview a lot's labels; nothing is logged

        Every unit label as it would print, each stamped "PREVIEW – NOT FOR LABELLING", its QR
        code without a signed token (/v/ answers that it is a label preview) and its bar code
        without the DIN. A read: no print, audit event or number is recorded. Print with POST.
        A lot with more units than one PDF holds (MAX_LABELS_PER_PDF) is previewed in parts.
        """
        session = db_session()
        lot = lots.get_lot(session, lot_number)
        units, tail = _part(lot, args["part"])
        sheet = unit_labels.preview_labels(session, actor(), units, printing())
        return _pdf(sheet.pdf, f"labels-{lot.lot_number}{tail}-PREVIEW.pdf")

    @permission("labels.print")
    @bp.arguments(ReasonOptional)
    @bp.arguments(PartArgs, location="query")
    @bp.doc(responses=PRINTED_PDF)
    def post(self, data: dict[str, Any], args: dict[str, Any], lot_number: str) -> Response:
        """Print a lot's labels, each print logged

        Every unit label with its signed QR code; each print is recorded in the lot's print log
        and the audit trail. A reprint needs a `reason` (422 naming it otherwise; nothing logged).
        A lot with more units than one PDF holds (MAX_LABELS_PER_PDF) prints in parts: `?part=1`.
        """
        session = db_session()
        lot = lots.get_lot(session, lot_number)
        units, tail = _part(lot, args["part"])
        sheet = unit_labels.print_labels(session, actor(), units, printing(), data["reason"])
        return _pdf(sheet.pdf, f"labels-{lot.lot_number}{tail}.pdf")


@bp.route("/units/<string(maxlength=64):din>/label.pdf", endpoint="unit_label")
class UnitLabel(MethodView):
    @permission("labels.print")
    @bp.doc(responses=PREVIEW_PDF)
    def get(self, din: str) -> Response:
        """Preview a unit's label; nothing is logged

        The label as it would print, stamped "PREVIEW – NOT FOR LABELLING", its QR code without a
        signed token and its bar code without the DIN. A read: nothing is recorded. Print with POST.
        """
        session = db_session()
        unit = lots.get_unit(session, din)
        sheet = unit_labels.preview_labels(session, actor(), [unit], printing())
        return _pdf(sheet.pdf, f"label-{unit.din}-PREVIEW.pdf")

    @permission("labels.print")
    @bp.arguments(ReasonOptional)
    @bp.doc(responses=PRINTED_PDF)
    def post(self, data: dict[str, Any], din: str) -> Response:
        """Print a unit's label, logged

        The label with its signed QR code, recorded in the print log and the audit trail. A
        reprint needs a `reason` (422 naming it otherwise; nothing logged).
        """
        session = db_session()
        unit = lots.get_unit(session, din)
        sheet = unit_labels.print_labels(session, actor(), [unit], printing(), data["reason"])
        return _pdf(sheet.pdf, f"label-{unit.din}.pdf")


PRINTED_ZPL = {
    200: {
        "description": "the printed labels as ZPL II, one ^XA…^XZ format per unit, each logged;"
        " an attachment named labels-<lot>[-partNofM]-<dpi>dpi.zpl (label-<din>-<dpi>dpi.zpl)."
        " No registered media type exists for ZPL; application/zpl, not text/plain, so that it is"
        " handed to a printer, never shown or transcoded (it is UTF-8, as its ^CI28 says)",
        "content": {ZPL_MEDIA_TYPE: {"schema": {"type": "string"}}},
    }
}


def _zpl(text: str, name: str) -> Response:
    return Response(
        text,
        mimetype=ZPL_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route(f"/lots/{LOT}/labels.zpl", endpoint="lot_labels_zpl")
class LotLabelsZpl(MethodView):
    @permission("labels.print")
    @bp.arguments(ZplPrint)
    @bp.arguments(PartArgs, location="query")
    @bp.doc(responses=PRINTED_ZPL)
    def post(self, data: dict[str, Any], args: dict[str, Any], lot_number: str) -> Response:
        """Print a lot's labels as ZPL II for a thermal printer, each print logged

        The labels the PDF prints, laid out in dots for a printer at `dpi` (203 or 300; 422
        naming `dpi` otherwise), on the configured stock, text in LOTRACK_ZPL_FONT. Each print is
        recorded in the print log (output zpl, its dpi) and the audit trail; a reprint, after a
        PDF or a ZPL print, needs a `reason`. There is no ZPL preview: preview the PDF.
        """
        session = db_session()
        lot = lots.get_lot(session, lot_number)
        units, tail = _part(lot, args["part"])
        sheet = unit_labels.print_zpl_labels(
            session, actor(), units, printing(), data["dpi"], data["reason"]
        )
        return _zpl(sheet.zpl, f"labels-{lot.lot_number}{tail}-{sheet.dpi}dpi.zpl")


@bp.route("/units/<string(maxlength=64):din>/label.zpl", endpoint="unit_label_zpl")
class UnitLabelZpl(MethodView):
    @permission("labels.print")
    @bp.arguments(ZplPrint)
    @bp.doc(responses=PRINTED_ZPL)
    def post(self, data: dict[str, Any], din: str) -> Response:
        """Print a unit's label as ZPL II for a thermal printer, logged

        As the lot's: `dpi` 203 or 300, logged with its output and dpi, a reprint needs a
        `reason`.
        """
        session = db_session()
        unit = lots.get_unit(session, din)
        sheet = unit_labels.print_zpl_labels(
            session, actor(), [unit], printing(), data["dpi"], data["reason"]
        )
        return _zpl(sheet.zpl, f"label-{unit.din}-{sheet.dpi}dpi.zpl")
