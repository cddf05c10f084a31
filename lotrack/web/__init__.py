"""HTML edge: one blueprint per concept."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, current_app, g
from flask_babel import lazy_gettext as _l

from lotrack.domain.permissions import may

# The menu: (endpoint, label, the permission that shows it; domain/permissions.py decides).
READ = "manufacturing.read"
NAV = (
    ("donor.list_donors", _l("Donors"), READ),
    ("cellbank.list_banks", _l("Cell banks"), READ),
    ("production.list_runs", _l("Runs"), READ),
    ("lot.list_lots", _l("Lots"), READ),
    ("investigation.list_investigations", _l("Investigations"), READ),
    ("deviation.list_deviations", _l("Deviations"), READ),
    ("containment.list_containments", _l("Holds and recalls"), READ),
    ("materials.list_materials", _l("Materials"), READ),
    ("equipment.list_instruments", _l("Instruments"), READ),
    ("retained.list_samples", _l("Retained samples"), READ),
    ("trend.show_trends", _l("Trends"), READ),
    ("specs.list_specs", _l("Specifications"), READ),
    ("clinical.list_patients", _l("Patients"), "clinical.read"),
    ("shipment.list_shipments", _l("Shipments"), "shipment.read"),
    ("clinical.allocations", _l("Allocate units"), "allocation.write"),
    ("bedside.scan_page", _l("Bedside"), "bedside.scan"),
    ("report.reports", _l("Reports"), "reports.read"),
    ("sdtm.export_page", _l("Sponsor export"), "export.sdtm"),
    ("trace.back", _l("Trace"), "clinical.read"),
    ("notify.list_notices", _l("Notifications"), "notify.own"),
)


def _nav() -> dict[str, Any]:
    present = current_app.view_functions
    role = getattr(g.get("actor"), "role", None)
    return {
        "nav_links": [(e, label) for e, label, action in NAV if e in present and may(role, action)],
        "has_endpoint": lambda e: e in present,
        # Every page (the home page's queue included) asks the one permission table what to show.
        "may": may,
    }


def init_app(app: Flask) -> None:
    from lotrack.web import (
        admin,
        adverse,
        audit,
        auth,
        bedside,
        cellbank,
        clinical,
        cold_chain,
        containment,
        deviation,
        documents,
        donor,
        equipment,
        home,
        investigation,
        lineage,
        lockout,
        lot,
        materials,
        notify,
        production,
        release,
        report,
        result,
        result_bulk,
        retained,
        sdtm,
        shipment,
        specs,
        trace,
        trend,
    )

    app.context_processor(_nav)
    app.add_template_filter(json.loads, "fromjson")
    app.register_blueprint(home.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(lockout.bp)
    for bp in (
        donor.bp,
        cellbank.bp,
        production.bp,
        lot.bp,
        lineage.bp,
        result.bp,
        result_bulk.bp,
        investigation.bp,
        specs.bp,
        trend.bp,
        release.bp,
        deviation.bp,
        containment.bp,
        materials.bp,
        equipment.bp,
        retained.bp,
        documents.bp,
        clinical.bp,
        adverse.bp,
        shipment.bp,
        cold_chain.bp,
        report.bp,
        sdtm.bp,
        bedside.bp,
        trace.bp,
        notify.bp,
    ):
        app.register_blueprint(bp)
