"""Shipment pages: the list, a new
shipment of units to a site (technician, QA), and the shipment page where the site receives it,
ticking the units that arrived, with condition and temperature record; whatever is missing or
extra is recorded as a discrepancy."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain.isbt128 import eye_readable
from lotrack.domain.permissions import may
from lotrack.models import Shipment
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas import clinical as io
from lotrack.services import audit, clinical_lists, cold_chain
from lotrack.services import shipment as shipments
from lotrack.web import cold_chain_view
from lotrack.web.cold_chain_view import flash_judgement, logger_file
from lotrack.web.forms import NO_FORM, FormState, form_values, submit
from lotrack.web.guard import permission

bp = Blueprint("shipment", __name__)
bp.context_processor(lambda: {"may": may, "eye_readable": eye_readable})
NUMBER = "<string(maxlength=32):number>"


@bp.get("/shipments")
@permission("shipment.read")
def list_shipments() -> ResponseReturnValue:
    page = shipments.list_shipments(
        db_session(), actor(), request.args.get("page", 1, type=int), setting("PAGE_SIZE")
    )
    return render_template("clinical/shipments.html", page=page)


@bp.route("/shipments/new", methods=["GET", "POST"])
@permission("shipment.send")
def new_shipment() -> ResponseReturnValue:
    session = db_session()

    def page(form: FormState) -> str:
        return render_template(
            "clinical/shipment_new.html",
            sites=clinical_lists.list_sites(session),
            ready=clinical_lists.units_to_ship(session, actor()),
            form=form,
            site=request.args.get("site", ""),
        )

    if request.method != "POST":
        return page(NO_FORM)
    values = form_values()  # ticked units and typed DINs make one list
    values["units"] = ",".join([*request.form.getlist("units"), values.pop("more", "")])

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        sent = shipments.ship(session, actor(), site_code=data["site"], dins=data["units"])
        flash(
            _(
                "%(number)s is on its way to %(site)s: its units are in transit.",
                number=sent.number,
                site=data["site"],
            )
        )
        return redirect(url_for("shipment.show_shipment", number=sent.number))

    return submit("ship", io.ShipmentIn(), act, page, values=values)


def shipment_page(shipment: Shipment, form: FormState = NO_FORM) -> str:
    """The shipment's page: its units, its receipt, its cold chain (web/cold_chain_view.py)."""
    return render_template(
        "clinical/shipment.html",
        shipment=shipment,
        form=form,
        history=audit.history(db_session(), "shipment", str(shipment.id)),
        **cold_chain_view.context(shipment),
    )


@bp.get(f"/shipments/{NUMBER}")
@permission("shipment.read")
def show_shipment(number: str) -> ResponseReturnValue:
    return shipment_page(shipments.get_shipment(db_session(), actor(), number))


@bp.post(f"/shipments/{NUMBER}/receive")
@permission("shipment.receive")
def receive(number: str) -> ResponseReturnValue:
    session = db_session()
    shipment = shipments.get_shipment(session, actor(), number)
    values = form_values()
    # Ticked units, and any DIN typed that was not on the shipment (recorded as extra).
    values["received"] = ",".join([*request.form.getlist("received"), values.pop("extra", "")])
    mapping = values.pop("mapping", "") or "generic"  # the logger file's format, if one is attached

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        shipments.receive(
            session,
            actor(),
            shipment,
            received_dins=data["received"],
            condition=data["condition"],
            temperature_record=data["temperature_record"],
        )
        # The logger file, when attached to the receipt, is judged in the same transaction: an
        # unreadable one refuses the receipt too, nothing written.
        upload = logger_file()
        if upload is not None:
            log = cold_chain.attach(
                session,
                actor(),
                shipment,
                file=upload,
                mapping=mapping,
                settings=setting("COLD_CHAIN"),
            )
            flash_judgement(shipment, log)
        flash(
            _(
                "%(number)s received with a discrepancy: %(discrepancy)s.",
                number=shipment.number,
                discrepancy=shipment.discrepancy,
            )
            if shipment.discrepancy
            else _("%(number)s received: every unit accounted for.", number=shipment.number)
        )
        return redirect(url_for("shipment.show_shipment", number=shipment.number))

    def page(form: FormState) -> str:
        return shipment_page(shipment, form)

    return submit("receive", io.ReceiveIn(), act, page, values=values)
