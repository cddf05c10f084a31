"""/api/v1 sponsor export: the trial's records as SDTM-shaped CSV datasets with their metadata and
manifest, in one zip (services/sdtm.py), as the reports page's export gives them. A GET, as the
issue names it, that is nonetheless written to the audit trail: who exported what, and its hash."""

from __future__ import annotations

from flask import Response

from lotrack.api.common import Blueprint, permission
from lotrack.request_scope import actor, db_session
from lotrack.services import sdtm

bp = Blueprint(
    "api_sdtm",
    __name__,
    description="The sponsor export: SDTM-shaped datasets (DM, EX, AE, DS and supplemental"
    " qualifiers) as CSV, with define-like metadata and a manifest of SHA-256 hashes.",
)
ZIP = {
    200: {
        "description": "the zip: DM.csv, SUPPDM.csv, EX.csv, SUPPEX.csv, AE.csv, SUPPAE.csv,"
        " DS.csv, SUPPDS.csv (UTF-8 with byte-order mark), metadata.csv and manifest.json",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@bp.route("/exports/sdtm.zip")
@permission("export.sdtm")
@bp.doc(responses=ZIP)
def sdtm_zip() -> Response:
    """The trial's SDTM-shaped export (a site's investigator: the site's subjects only); each
    download is audited with the zip's SHA-256, also sent as the X-Content-SHA256 header"""
    made = sdtm.export(db_session(), actor())
    return Response(
        made.content,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{made.filename}"',
            "X-Content-SHA256": made.sha256,
        },
    )
