"""Trends: a numeric test's results across lots, charted against its limits (SVG, server-side)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from lotrack.domain.specs import Verdict
from lotrack.request_scope import db_session
from lotrack.services import trend as service
from lotrack.web import trend_svg
from lotrack.web.guard import permission

bp = Blueprint("trend", __name__)
READ = "manufacturing.read"
MAX_CODE = 40  # the longest test code a result can carry


def point_title(t: service.Trend, p: service.TrendPoint) -> str:
    """The hover text of one point: lot, value, verdict (and anything that qualifies them)."""
    unit = f" {t.test.unit}" if t.test.unit and t.test.unit != "%" else t.test.unit
    analyte = f"{p.analyte} " if t.test.alternatives else ""
    text = f"{p.lot_number} (harvested {p.harvested_on}): {analyte}{p.value}{unit} — {p.verdict}"
    if p.censored:
        text += f", drawn at its bound {p.compared}"
    if not p.verified:
        text += ", not verified yet"
    if p.limits_differ:
        text += f"; judged by {p.spec_version} ({p.criterion})"
    return text


def chart(t: service.Trend) -> str:
    """The SVG markup of a trend (escaped throughout by trend_svg)."""
    points = [
        trend_svg.ChartPoint(
            x_label=f"{p.lot_number} · {p.harvested_on.isoformat()}",
            y=p.compared,
            verdict=p.verdict,
            title=point_title(t, p),
            censored=bool(p.censored),
        )
        for p in t.points
    ]
    lines = [trend_svg.ChartLine(line.value, line.kind, line.label) for line in t.lines]
    fails = sum(p.verdict == Verdict.FAIL for p in t.points)
    alerts = sum(p.verdict == Verdict.ALERT for p in t.points)
    return trend_svg.render(
        points,
        lines,
        title=f"{t.test.code} · {t.test.name} across lots",
        y_title=f"{t.test.name} ({t.test.unit})" if t.test.unit else t.test.name,
        description=(
            f"{len(points)} lots in harvest order, {fails} out of specification, {alerts} in"
            f" alert; limits of {t.spec_version}: {t.test.criterion()}."
        ),
    )


@bp.get("/trends")
@permission(READ)
def show_trends() -> ResponseReturnValue:
    """The picker; its GET form (?test=CODE) lands on the chart of that test."""
    chosen = request.args.get("test", "").strip()
    if chosen:
        return redirect(url_for(".show_trend", test_code=chosen[:MAX_CODE]))
    return render_template("trend/index.html", tests=service.numeric_tests(db_session()))


@bp.get("/trends/<test_code>")
@permission(READ)
def show_trend(test_code: str) -> ResponseReturnValue:
    found = service.trend(db_session(), test_code)
    # trend_svg escapes every text it writes (tested with markup in names and labels).
    svg = Markup(chart(found))  # noqa: S704
    return render_template("trend/show.html", trend=found, svg=svg)


@bp.get("/trends/<test_code>.svg")
@permission(READ)
def trend_image(test_code: str) -> ResponseReturnValue:
    """The chart alone, as an SVG file (for a report or a slide)."""
    found = service.trend(db_session(), test_code)
    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + chart(found)
    resp = Response(body, mimetype="image/svg+xml")
    resp.headers["Content-Disposition"] = f'inline; filename="trend-{found.test.code}.svg"'
    return resp
