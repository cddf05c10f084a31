"""HTML edge: one blueprint per concept."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g

# Menu of the manufacturing record: (endpoint, label). Shown to roles that may read it.
NAV = (
    ("donor.list_donors", "Donors"),
    ("cellbank.list_banks", "Cell banks"),
    ("production.list_runs", "Runs"),
    ("lot.list_lots", "Lots"),
    ("investigation.list_investigations", "Investigations"),
    ("deviation.list_deviations", "Deviations"),
    ("containment.list_containments", "Holds and recalls"),
    ("trend.show_trends", "Trends"),
    ("specs.list_specs", "Specifications"),
)


def _nav() -> dict[str, Any]:
    present = current_app.view_functions
    return {
        "nav_links": [(e, label) for e, label in NAV if e in present],
        "has_endpoint": lambda e: e in present,
    }


def local_time(moment: dt.datetime | None) -> str:
    """A stored UTC time shown in the viewer's zone (their site's, else the facility's), named."""
    if moment is None:
        return "—"
    viewer = g.get("actor")
    site = getattr(viewer, "site", None)
    zone = site.time_zone if site is not None else current_app.config["LOTRACK_SITE_TIME_ZONE"]
    local = moment.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {zone} (UTC{offset[:3]}:{offset[3:]})"


def init_app(app: Flask) -> None:
    from lotrack.web import (
        admin,
        audit,
        auth,
        bedside,
        cellbank,
        clinical,
        containment,
        deviation,
        documents,
        donor,
        home,
        investigation,
        lineage,
        lot,
        production,
        release,
        result,
        specs,
        trend,
    )

    app.context_processor(_nav)
    app.add_template_filter(json.loads, "fromjson")
    app.add_template_filter(local_time, "when")
    app.register_blueprint(home.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(admin.bp)
    for bp in (
        donor.bp,
        cellbank.bp,
        production.bp,
        lot.bp,
        lineage.bp,
        result.bp,
        investigation.bp,
        specs.bp,
        trend.bp,
        release.bp,
        deviation.bp,
        containment.bp,
        documents.bp,
        clinical.bp,
        bedside.bp,
    ):
        app.register_blueprint(bp)
