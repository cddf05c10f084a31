"""/api/v1 drug-product lots, the units filled from them, units by DIN, and the lots ON_HOLD
waiting on QA's decision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.views import MethodView

from lotrack.api import decision_schemas as dio
from lotrack.api import schemas as out
from lotrack.api.common import READ, WRITE, Blueprint, permission
from lotrack.models import Lot, Unit
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas.manufacturing import FillIn, LotIn
from lotrack.schemas.paging import LotPageArgs, PageArgs
from lotrack.services import decisions
from lotrack.services import lot as service
from lotrack.services.common import Page
from lotrack.services.shipment import Whereabouts, whereabouts

bp = Blueprint("api_lot", __name__, description="Lots and the units filled from them.")

LOT = "<string(maxlength=64):lot_number>"


@bp.route("/lots")
class Lots(MethodView):
    @permission(READ)
    @bp.arguments(LotPageArgs, location="query")
    @bp.response(200, out.page_of(out.LotOut, "LotPage"))
    def get(self, args: dict[str, Any]) -> Page[Lot]:
        """List lots, newest first; ?state= filters"""
        return service.list_lots(
            db_session(), args["page"], args["per_page"], state=args.get("state")
        )

    @permission(WRITE)
    @bp.arguments(LotIn)
    @bp.response(201, out.LotDetail)
    def post(self, data: dict[str, Any]) -> Lot:
        """Register a lot harvested from a run; it starts in QUARANTINE"""
        lot = service.register_lot(
            db_session(),
            actor(),
            run_code=data["run"],
            harvested_on=data["harvested_on"],
            expires_on=data["expires_on"],
            lot_number=data["lot_number"],
        )
        return lot


@bp.route("/lots/needs-decision")
@permission(READ)
@bp.arguments(PageArgs, location="query")
@bp.response(200, out.page_of(dio.HeldLotOut, "HeldLotPage"))
def needs_decision(args: dict[str, Any]) -> Page[dict[str, Any]]:
    """QA's "needs decision" queue: every lot ON_HOLD, the longest-waiting first, with the hold
    record that put it there (a lookback names the fact that arose after release); QA lifts the
    hold by a new signed decision on the dossier as it stands, rejects or recalls"""
    found = decisions.needs_decision(db_session(), args["page"], args["per_page"])
    return Page([dio.held_lot(h) for h in found.items], found.page, found.per_page, found.total)


@bp.route(f"/lots/{LOT}")
@permission(READ)
@bp.response(200, out.LotDetail)
def get_lot(lot_number: str) -> Lot:
    """A lot with its state, run, dates and units"""
    return service.get_lot(db_session(), lot_number)


@bp.route(f"/lots/{LOT}/units", methods=["POST"])
@permission(WRITE)
@bp.arguments(FillIn)
@bp.response(201, out.UnitsCreated)
def fill_units(data: dict[str, Any], lot_number: str) -> dict[str, Any]:
    """Fill units from a quarantined lot; each gets a DIN and its MOD 37-2 check character"""
    session = db_session()
    lot = service.get_lot(session, lot_number)
    units = service.fill_units(session, actor(), lot, facility_id=setting("FACILITY_ID"), **data)
    return {"lot": lot.lot_number, "units": units}


@dataclass
class UnitView:
    """A unit and where it is now (out.UnitDetail); other attributes are the unit's."""

    unit: Unit
    place: Whereabouts

    @property
    def site(self) -> str | None:
        return self.place.site

    @property
    def shipment(self) -> str | None:
        return self.place.shipment

    @property
    def where(self) -> str:
        return self.place.text

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unit, name)


@bp.route("/units/<string(maxlength=64):din>")
@permission(READ)
@bp.response(200, out.UnitDetail)
def get_unit(din: str) -> UnitView:
    """A unit by DIN (13 characters; spaces and a trailing check character are accepted), its
    state and where it is"""
    session = db_session()
    unit = service.get_unit(session, din)
    return UnitView(unit, whereabouts(session, [unit])[unit.id])
