"""The sponsor export page: what the SDTM-shaped datasets hold, and their download (the zip the
API's GET /api/v1/exports/sdtm.zip gives). Each download is audited; a site's investigator
exports the site's own subjects only."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from lotrack.domain import sdtm as spec
from lotrack.request_scope import actor, db_session
from lotrack.services import sdtm
from lotrack.web.guard import permission

bp = Blueprint("sdtm", __name__)


@bp.get("/reports/sdtm")
@permission("export.sdtm")
def export_page() -> ResponseReturnValue:
    return render_template(
        "sdtm/export.html",
        datasets=spec.DATASETS,
        qualifiers=spec.QUALIFIERS,
        version=spec.SPEC_VERSION,
        studyid=spec.STUDYID,
    )


@bp.get("/reports/sdtm.zip")
@permission("export.sdtm")
def download() -> ResponseReturnValue:
    made = sdtm.export(db_session(), actor())
    return Response(
        made.content,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{made.filename}"',
            "X-Content-SHA256": made.sha256,
        },
    )
