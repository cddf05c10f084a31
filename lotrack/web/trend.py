"""Trends: a numeric test's results across lots, charted against its limits (SVG, server-side)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from lotrack.domain.specs import Verdict
from lotrack.i18n import translate, word
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
    text = _(
        "%(lot)s (harvested %(date)s): %(value)s — %(verdict)s",
        lot=p.lot_number,
        date=p.harvested_on,
        value=f"{analyte}{p.value}{unit}",
        verdict=word(p.verdict),
    )
    if p.censored:
        text += _(", drawn at its bound %(bound)s", bound=p.compared)
    if not p.verified:
        text += _(", not verified yet")
    if p.limits_differ:
        text += _(
            "; judged by %(version)s (%(criterion)s)",
            version=p.spec_version,
            criterion=translate(p.criterion),
        )
    return text


def line_label(line: service.LimitLine) -> str:
    """A limit line's label ("spec ≥ 80.0", "alert ≥ 85.0") in the reader's language."""
    bound = line.label.removeprefix(f"{line.kind} ")
    if line.kind == "spec":
        return _("spec %(bound)s", bound=bound)
    if line.kind == "alert":
        return _("alert %(bound)s", bound=bound)
    return line.label


def legend() -> trend_svg.Legend:
    return trend_svg.Legend(
        passed=word("pass"),
        alert=word("alert"),
        failed=_("fail (out of specification)"),
        censored=_("open: censored value, drawn at its bound"),
        spec_limit=_("specification limit"),
        alert_limit=_("alert limit"),
    )


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
    lines = [trend_svg.ChartLine(line.value, line.kind, line_label(line)) for line in t.lines]
    fails = sum(p.verdict == Verdict.FAIL for p in t.points)
    alerts = sum(p.verdict == Verdict.ALERT for p in t.points)
    return trend_svg.render(
        points,
        lines,
        title=_("%(code)s · %(name)s across lots", code=t.test.code, name=t.test.name),
        y_title=f"{t.test.name} ({t.test.unit})" if t.test.unit else t.test.name,
        description=_(
            "%(num)s lots in harvest order, %(fails)s out of specification, %(alerts)s in alert;"
            " limits of %(version)s: %(criterion)s.",
            num=len(points),
            fails=fails,
            alerts=alerts,
            version=t.spec_version,
            criterion=translate(t.test.criterion()),
        ),
        empty_text=_("No results to plot yet."),
        legend=legend(),
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
