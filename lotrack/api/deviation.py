"""/api/v1 deviations on a run or a lot: the list (open or closed), opening one, its impact
assessment and QA's closure. An open deviation blocks release of its lot, or of every lot of its
run."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from lotrack.api import release_schemas as io
from lotrack.api import schemas as out
from lotrack.api.common import READ, Blueprint, permission
from lotrack.api.quality_schemas import Row
from lotrack.api.record_signing import SignedDeviationOut, record_signed_in, signed_row
from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.text import N_
from lotrack.models import Deviation
from lotrack.request_scope import actor, db_session, lockout
from lotrack.schemas.paging import DeviationArgs
from lotrack.schemas.record_signing import CloseSignedIn
from lotrack.schemas.release import AssessIn, DeviationIn
from lotrack.services import deviation as service
from lotrack.services import lot as lots
from lotrack.services import production as runs
from lotrack.services.common import Page

bp = Blueprint(
    "api_deviation",
    __name__,
    description="Deviations on a run or a lot, their impact assessment and closure; an open"
    " deviation blocks release.",
)

NUMBER = "<string(maxlength=32):number>"


def _subject(data: dict[str, Any]) -> dict[str, Any]:
    """The lot or the run named in the body; an unknown one is bad input naming its field."""
    if data["lot"] and data["run"]:
        raise ValidationFailed(
            N_("A deviation concerns one run or one lot, not both."),
            {"run": N_("leave out when a lot is given")},
        )
    session = db_session()
    try:
        if data["lot"]:
            return {"lot": lots.get_lot(session, data["lot"])}
        if data["run"]:
            return {"run": runs.get_run(session, data["run"])}
    except NotFound as err:
        raise ValidationFailed(err.message, err.fields) from err
    raise ValidationFailed(
        N_("Name the lot or the run the deviation concerns."),
        {"lot": N_("a lot or a run is required")},
    )


@bp.route("/deviations")
class Deviations(MethodView):
    @permission(READ)
    @bp.arguments(DeviationArgs, location="query")
    @bp.response(200, out.page_of(io.DeviationOut, "DeviationPage"))
    def get(self, args: dict[str, Any]) -> Page[Deviation]:
        """List deviations, newest first; ?status=open or closed"""
        return service.list_deviations(
            db_session(), args["page"], args["per_page"], status=args.get("status")
        )

    @permission("deviation.write")
    @bp.arguments(DeviationIn)
    @bp.response(201, io.DeviationOut)
    def post(self, data: dict[str, Any]) -> Deviation:
        """Open a deviation on a lot or a run ({"lot"} or {"run"}, and a description)"""
        subject = _subject(data)
        dev = service.open_deviation(
            db_session(), actor(), description=data["description"], **subject
        )
        return dev


@bp.route(f"/deviations/{NUMBER}")
@permission(READ)
@bp.response(200, SignedDeviationOut)
def get_deviation(number: str) -> Row:
    """A deviation with its impact assessment, closure and the closure's signature"""
    session = db_session()
    return signed_row(session, service.get_deviation(session, number))


@bp.route(f"/deviations/{NUMBER}/assess", methods=["POST"])
@permission("deviation.write")
@bp.arguments(AssessIn)
@bp.response(200, io.DeviationOut)
def assess(data: dict[str, Any], number: str) -> Deviation:
    """Record the impact assessment of an open deviation"""
    session = db_session()
    dev = service.assess(
        session, actor(), service.get_deviation(session, number), data["impact_assessment"]
    )
    return dev


@bp.route(f"/deviations/{NUMBER}/close", methods=["POST"])
@permission("deviation.close")
@bp.arguments(CloseSignedIn)
@bp.response(200, SignedDeviationOut)
def close(data: dict[str, Any], number: str) -> Row:
    """Close an assessed deviation under QA's e-signature (username, password, meaning 'closed',
    an optional comment as `reason`); it no longer blocks release"""
    sign, rest = record_signed_in(data)
    session = db_session()
    dev = service.get_deviation(session, number)
    given = service.close(session, actor(), dev, rest["closure"], sign_in=sign, lockout=lockout())
    return signed_row(session, dev, given)
