"""Shipment pages (routed on the "clinical" blueprint by web/clinical.py): the list, a new
shipment of units to a site (technician, QA), and the shipment page where the site receives it,
ticking the units that arrived, with condition and temperature record; whatever is missing or
extra is recorded as a discrepancy."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from lotrack import clinical_schemas as io
from lotrack.context import actor, commit, db_session, setting
from lotrack.domain.errors import DomainError
from lotrack.errors import status_of
from lotrack.models import Shipment
from lotrack.schemas import parse
from lotrack.services import audit, clinical_lists
from lotrack.services import shipment as shipments
from lotrack.web.forms import form_values
from lotrack.web.guard import permission
from lotrack.web.result import NO_FORM, FormState


@permission("shipment.read")
def list_shipments() -> ResponseReturnValue:
    page = shipments.list_shipments(
        db_session(), actor(), request.args.get("page", 1, type=int), setting("PAGE_SIZE")
    )
    return render_template("clinical/shipments.html", page=page)


@permission("shipment.send")
def new_shipment() -> ResponseReturnValue:
    session = db_session()
    form, status = NO_FORM, 200
    if request.method == "POST":
        values = form_values()  # ticked units and typed DINs make one list
        values["units"] = ",".join([*request.form.getlist("units"), values.pop("more", "")])
        try:
            data = parse(io.ShipmentIn(), values)
            sent = shipments.ship(session, actor(), site_code=data["site"], dins=data["units"])
            commit()
        except DomainError as err:
            session.rollback()
            form, status = FormState("ship", err.fields or {}, err.message, values), status_of(err)
        else:
            flash(f"{sent.number} is on its way to {data['site']}: its units are in transit.")
            return redirect(url_for("clinical.show_shipment", number=sent.number))
    page = render_template(
        "clinical/shipment_new.html",
        sites=clinical_lists.list_sites(session),
        ready=clinical_lists.units_to_ship(session, actor()),
        form=form,
        site=request.args.get("site", ""),
    )
    return page, status


def _page(shipment: Shipment, form: FormState = NO_FORM) -> str:
    return render_template(
        "clinical/shipment.html",
        shipment=shipment,
        form=form,
        history=audit.history(db_session(), "shipment", str(shipment.id)),
    )


@permission("shipment.read")
def show_shipment(number: str) -> ResponseReturnValue:
    return _page(shipments.get_shipment(db_session(), actor(), number))


@permission("shipment.receive")
def receive(number: str) -> ResponseReturnValue:
    session = db_session()
    shipment = shipments.get_shipment(session, actor(), number)
    values = form_values()
    # Ticked units, and any DIN typed that was not on the shipment (recorded as extra).
    values["received"] = ",".join([*request.form.getlist("received"), values.pop("extra", "")])
    try:
        data = parse(io.ReceiveIn(), values)
        shipments.receive(
            session,
            actor(),
            shipment,
            received_dins=data["received"],
            condition=data["condition"],
            temperature_record=data["temperature_record"],
        )
        commit()
    except DomainError as err:
        session.rollback()
        return _page(shipment, FormState("receive", err.fields or {}, err.message, values)), (
            status_of(err)
        )
    flash(
        f"{shipment.number} received with a discrepancy: {shipment.discrepancy}."
        if shipment.discrepancy
        else f"{shipment.number} received: every unit accounted for."
    )
    return redirect(url_for("clinical.show_shipment", number=shipment.number))
