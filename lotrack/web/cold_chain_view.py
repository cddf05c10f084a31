"""What a shipment's page shows of its cold chain: the logger record, the trace's chart (server-side
SVG, web/cold_chain_svg.py), QA's decision and its signature. Shared by the shipment's page and
the cold-chain routes (web/cold_chain.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, request
from flask_babel import gettext as _
from markupsafe import Markup

from lotrack.domain import cold_chain as rule
from lotrack.domain.record_signatures import SubjectKind, meaning_of
from lotrack.i18n import word
from lotrack.models import ColdChainLog, Shipment
from lotrack.request_scope import db_session, setting
from lotrack.services import cold_chain, record_signature
from lotrack.services.raw_data import RawFile
from lotrack.web import cold_chain_svg


def chart(shipment: Shipment, log: ColdChainLog) -> Markup:
    """The trace of the shipment's logger with its limits and problems (escaped throughout)."""
    trace = cold_chain.trace_of(log)
    zone = shipment.site.time_zone
    bands = [
        cold_chain_svg.Band(
            dt.datetime.fromisoformat(p["start"]),
            dt.datetime.fromisoformat(p["end"]),
            word(p["kind"]),
        )
        for p in cold_chain.problems_of(log)
    ]
    limits = [Decimal(v) for v in (log.max_c, log.min_c) if v]
    words = cold_chain_svg.Words(
        title=_("Temperature in transit, shipment %(number)s", number=shipment.number),
        y_title=_("Temperature (°C)"),
        limit=_("limit %(value)s °C"),
        journey=_("from dispatch to receipt"),
        description=_(
            "%(count)s readings; the journey shaded; the limit dashed; problems in red.",
            count=len(trace.readings),
        ),
        zone=_("Time (%(zone)s)", zone=zone),
    )
    points = [(r.at, r.celsius) for r in trace.readings]
    tz = ZoneInfo(zone)
    svg = cold_chain_svg.render(
        points, limits, (log.window_start, log.window_end), bands, words, lambda t: t.astimezone(tz)
    )
    return Markup(svg)  # noqa: S704 (cold_chain_svg escapes every text it writes)


def context(shipment: Shipment) -> dict[str, Any]:
    """What the shipment's page shows of its cold chain: the record, its chart, its decision."""
    log = shipment.cold_chain_log
    if log is None:
        return {"cold_chain": None, "logger_formats": setting("COLD_CHAIN").mappings}
    decision = log.decision
    return {
        "cold_chain": log,
        "cold_chain_chart": chart(shipment, log),
        "cold_chain_problems": cold_chain.problems_of(log),
        "excursion_signatures": (
            record_signature.signatures_of(db_session(), decision) if decision else []
        ),
        "excursion_meanings": {
            o.value: meaning_of(SubjectKind.EXCURSION_DECISION, o.value).value
            for o in rule.ExcursionOutcome
        },
        "logger_formats": setting("COLD_CHAIN").mappings,
    }


def logger_file() -> RawFile | None:
    """The uploaded logger file of a form or an API request (multipart field `logger_file`)."""
    upload = request.files.get("logger_file")
    if upload is None or not upload.filename:
        return None
    return RawFile(upload.filename, upload.read())


def flash_judgement(shipment: Shipment, log: ColdChainLog) -> None:
    if log.excursion:
        flash(
            _(
                "The logger of %(number)s shows an excursion: its units are ON HOLD until QA"
                " decides.",
                number=shipment.number,
            ),
            "error",
        )
    else:
        flash(_("The logger of %(number)s stayed within range.", number=shipment.number))
