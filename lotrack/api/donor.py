"""/api/v1 donors (coded, never named), their screening, eligibility determination, clones."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from lotrack.api import schemas as out
from lotrack.api.common import READ, WRITE, Blueprint, permission
from lotrack.models import Clone, Donor, DonorScreening
from lotrack.request_scope import actor, db_session
from lotrack.schemas.manufacturing import CloneIn, DeterminationIn, DonorIn, ScreeningIn
from lotrack.schemas.paging import PageArgs
from lotrack.services import donor as service
from lotrack.services.common import Page

bp = Blueprint("api_donor", __name__, description="Donors, screening, eligibility and clones.")

CODE = "<string(maxlength=64):code>"


@bp.route("/donors")
class Donors(MethodView):
    @permission(READ)
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(out.DonorOut, "DonorPage"))
    def get(self, args: dict[str, Any]) -> Page[Donor]:
        """List donors by code"""
        return service.list_donors(db_session(), args["page"], args["per_page"])

    @permission(WRITE)
    @bp.arguments(DonorIn)
    @bp.response(201, out.DonorDetail)
    def post(self, data: dict[str, Any]) -> Donor:
        """Register a donor (a code and the consent date; never a name)"""
        donor = service.register_donor(db_session(), actor(), **data)
        return donor


@bp.route(f"/donors/{CODE}")
@permission(READ)
@bp.response(200, out.DonorDetail)
def get_donor(code: str) -> Donor:
    """A donor with screening results, eligibility determination and clones"""
    return service.get_donor(db_session(), code)


@bp.route(f"/donors/{CODE}/screening", methods=["POST"])
@permission(WRITE)
@bp.arguments(ScreeningIn)
@bp.response(201, out.ScreeningOut)
def record_screening(data: dict[str, Any], code: str) -> DonorScreening:
    """Record a screening test result (marker, method, result, date)"""
    session = db_session()
    row = service.record_screening(session, actor(), service.get_donor(session, code), **data)
    return row


@bp.route(f"/donors/{CODE}/determination", methods=["POST"])
@permission("donor.determine")
@bp.arguments(DeterminationIn)
@bp.response(200, out.DonorDetail)
def determine_eligibility(data: dict[str, Any], code: str) -> Donor:
    """Record the eligibility determination made by a named responsible person (QA)"""
    session = db_session()
    donor = service.determine_eligibility(
        session, actor(), service.get_donor(session, code), **data
    )
    return donor


@bp.route("/clones")
class Clones(MethodView):
    @permission(READ)
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, out.page_of(out.CloneOut, "ClonePage"))
    def get(self, args: dict[str, Any]) -> Page[Clone]:
        """List clones by code"""
        return service.list_clones(db_session(), args["page"], args["per_page"])

    @permission(WRITE)
    @bp.arguments(CloneIn)
    @bp.response(201, out.CloneOut)
    def post(self, data: dict[str, Any]) -> Clone:
        """Register a clone derived from a donor"""
        clone = service.register_clone(
            db_session(),
            actor(),
            code=data["code"],
            donor_code=data["donor"],
            derived_on=data["derived_on"],
        )
        return clone


@bp.route(f"/clones/{CODE}")
@permission(READ)
@bp.response(200, out.CloneOut)
def get_clone(code: str) -> Clone:
    """A clone and its donor"""
    return service.get_clone(db_session(), code)
