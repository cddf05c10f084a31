"""Cold-chain pages: a shipment's temperature-logger file attached at receipt (also with the receipt
itself, services/cold_chain.py), its trace charted on the shipment's page (server-side SVG), the
file as kept, and QA's signed decision on an excursion."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain import cold_chain as rule
from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.isbt128 import eye_readable
from lotrack.domain.permissions import may
from lotrack.domain.text import N_
from lotrack.request_scope import actor, db_session, lockout, setting
from lotrack.schemas.cold_chain import ExcursionIn, LoggerIn
from lotrack.schemas.record_signing import split_sign_in
from lotrack.services import cold_chain
from lotrack.services import shipment as shipments
from lotrack.services.raw_data import RawFile
from lotrack.web.cold_chain_view import chart, flash_judgement, logger_file
from lotrack.web.forms import submit
from lotrack.web.guard import permission
from lotrack.web.shipment import NUMBER, shipment_page

bp = Blueprint("cold_chain", __name__)
# A refusal shows the shipment's page again: it reads what the shipment blueprint gives it.
bp.context_processor(lambda: {"may": may, "eye_readable": eye_readable})


def required_logger_file() -> RawFile:
    found = logger_file()
    if found is None:
        raise ValidationFailed(
            N_("Attach the data logger's CSV export."), {"logger_file": N_("required")}
        )
    return found


@bp.post(f"/shipments/{NUMBER}/logger")
@permission("shipment.receive")
def attach(number: str) -> ResponseReturnValue:
    """Attach the logger file to a shipment received without it."""
    session = db_session()
    shipment = shipments.get_shipment(session, actor(), number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        log = cold_chain.attach(
            session,
            actor(),
            shipment,
            file=required_logger_file(),
            mapping=data["mapping"],
            settings=setting("COLD_CHAIN"),
        )
        flash_judgement(shipment, log)
        return redirect(url_for("shipment.show_shipment", number=shipment.number) + "#cold-chain")

    return submit("logger", LoggerIn(), act, lambda form: shipment_page(shipment, form))


@bp.get(f"/shipments/{NUMBER}/logger.svg")
@permission("shipment.read")
def trace_image(number: str) -> ResponseReturnValue:
    """The trace's chart alone, as an SVG file."""
    shipment = shipments.get_shipment(db_session(), actor(), number)
    log = shipment.cold_chain_log
    if log is None:
        raise NotFound(N_("No logger file for this shipment."), {"logger_file": N_("none")})
    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + chart(shipment, log)
    resp = Response(body, mimetype="image/svg+xml")
    resp.headers["Content-Disposition"] = f'inline; filename="{shipment.number}-logger.svg"'
    return resp


@bp.get(f"/shipments/{NUMBER}/logger.csv")
@permission("shipment.read")
def logger_original(number: str) -> ResponseReturnValue:
    """The logger file as received, byte for byte."""
    shipment = shipments.get_shipment(db_session(), actor(), number)
    log = shipment.cold_chain_log
    if log is None:
        raise NotFound(N_("No logger file for this shipment."), {"logger_file": N_("none")})
    kept = log.attachment
    return Response(
        kept.data,
        mimetype=kept.content_type,
        headers={"Content-Disposition": f'attachment; filename="{kept.filename}"'},
    )


@bp.post(f"/shipments/{NUMBER}/excursion")
@permission("cold_chain.decide")
def decide(number: str) -> ResponseReturnValue:
    session = db_session()
    shipment = shipments.get_shipment(session, actor(), number)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        signed, decided = split_sign_in(data)
        cold_chain.decide(
            session,
            actor(),
            shipment,
            outcome=decided["outcome"],
            sign_in=signed,
            lockout=lockout(),
        )
        flash(
            _("%(number)s: its units are released for use.", number=shipment.number)
            if decided["outcome"] == rule.ExcursionOutcome.RELEASED
            else _("%(number)s: its units are rejected and destroyed.", number=shipment.number)
        )
        return redirect(url_for("shipment.show_shipment", number=shipment.number) + "#cold-chain")

    return submit("excursion", ExcursionIn(), act, lambda form: shipment_page(shipment, form))
