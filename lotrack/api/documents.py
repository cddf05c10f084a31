"""/api/v1 certificates of analysis and unit labels (PDF), as on the lot documents page."""

from __future__ import annotations

from typing import Any

from flask import Response, request
from marshmallow import Schema, fields

from lotrack.api.common import READ, Blueprint, permission
from lotrack.context import actor, commit, db_session, printing
from lotrack.models import Certificate
from lotrack.schemas import InputSchema, _text
from lotrack.services import documents
from lotrack.services import lot as lots

bp = Blueprint(
    "certificates", __name__, description="Certificates of analysis and unit labels (PDF)."
)
LOT = "<string(maxlength=64):lot_number>"
PDF = {200: {"description": "the PDF", "content": {"application/pdf": {}}}}


class ReasonOptional(InputSchema):
    reason = _text(max=2000, required=False, load_default="")


class CertificateOut(Schema):
    document_number = fields.String()
    version = fields.Integer()
    pdf_sha256 = fields.String()
    issued_at = fields.DateTime()
    issued_by = fields.Function(lambda c: c.issued_by.username)
    reason = fields.String()
    superseded_at = fields.DateTime(allow_none=True)
    verify_url = fields.Function(lambda c: documents.snapshot_of(c).get("verify_url"))


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
    cert = documents.issue_certificate(
        session, actor(), lots.get_lot(session, lot_number), printing(), data["reason"]
    )
    commit()
    return cert


@bp.route(f"/lots/{LOT}/certificates")
@permission(READ)
@bp.response(200, CertificateOut(many=True))
def list_certificates(lot_number: str) -> list[Certificate]:
    """Every certificate version of a lot, oldest first"""
    session = db_session()
    return documents.certificates_of(session, lots.get_lot(session, lot_number))


@bp.route(f"/lots/{LOT}/coa.pdf")
@permission(READ)
@bp.doc(responses=PDF)
def coa_pdf(lot_number: str) -> Response:
    """The current certificate as PDF/A-3b (?version= for an earlier one)"""
    session = db_session()
    cert = documents.get_certificate(
        session, lots.get_lot(session, lot_number), request.args.get("version", type=int)
    )
    return _pdf(cert.pdf, f"{cert.document_number}-v{cert.version}.pdf")


@bp.route(f"/lots/{LOT}/labels.pdf", methods=["GET", "POST"])
@permission("labels.print")
@bp.doc(responses=PDF)
def lot_labels(lot_number: str) -> Response:
    """Print every unit label of a lot (logged; a reprint needs ?reason= or a form reason)"""
    session = db_session()
    lot = lots.get_lot(session, lot_number)
    reason = request.values.get("reason", "")
    sheet = documents.print_labels(session, actor(), list(lot.units), printing(), reason)
    commit()
    return _pdf(sheet.pdf, f"labels-{lot.lot_number}.pdf")


@bp.route("/units/<string(maxlength=64):din>/label.pdf", methods=["GET", "POST"])
@permission("labels.print")
@bp.doc(responses=PDF)
def unit_label(din: str) -> Response:
    """Print one unit's label (logged; a reprint needs a reason)"""
    session = db_session()
    unit = lots.get_unit(session, din)
    sheet = documents.print_labels(
        session, actor(), [unit], printing(), request.values.get("reason", "")
    )
    commit()
    return _pdf(sheet.pdf, f"label-{unit.din}.pdf")
