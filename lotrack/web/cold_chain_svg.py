"""A shipment's temperature trace as SVG markup, built from plain data: no Flask, no database, no
script (the CSP allows none). The trace over time, the journey from dispatch to receipt shaded,
the range's limits as lines, and each problem the judgement found as a band.

Pixel positions are floats: they only place marks on a screen. The judgement was made exactly
(Decimal) when the file was attached; the chart never judges anything. Every text that reaches
the markup is escaped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from lotrack.web.trend_svg import GRID, INK, MUTED, esc, y_range

WIDTH, HEIGHT = 800, 400
LEFT, RIGHT, TOP, BOTTOM = 72, 24, 64, 70
TRACE, LIMIT, BAND, WINDOW = "#1f4e8c", "#a1161b", "#f6d5d6", "#eef2f7"
MAX_POINTS = 2000  # drawn; a longer trace is thinned evenly (its extremes kept by the bands)


@dataclass(frozen=True)
class Band:
    start: dt.datetime
    end: dt.datetime
    label: str  # the problem, in the reader's language


@dataclass(frozen=True)
class Words:
    """The chart's words, in the reader's language (the caller translates them)."""

    title: str = "Temperature in transit"
    y_title: str = "°C"
    limit: str = "limit %(value)s °C"
    journey: str = "dispatch to receipt"
    description: str = ""
    zone: str = "UTC"


def _thin(points: Sequence[tuple[dt.datetime, Decimal]]) -> list[tuple[dt.datetime, Decimal]]:
    if len(points) <= MAX_POINTS:
        return list(points)
    step = len(points) / MAX_POINTS
    return [points[int(i * step)] for i in range(MAX_POINTS)] + [points[-1]]


def render(
    points: Sequence[tuple[dt.datetime, Decimal]],
    limits: Sequence[Decimal],
    window: tuple[dt.datetime, dt.datetime],
    bands: Sequence[Band],
    words: Words,
    to_local: object = None,
) -> str:
    """The chart of `points` (time, °C) in time order; `to_local` maps a UTC time to the zone
    the axis is labelled in (None: UTC)."""
    local = to_local if callable(to_local) else (lambda t: t)
    times = [t for t, _ in points] + list(window)
    t0, t1 = min(times), max(times)
    span = (t1 - t0).total_seconds() or 1.0
    values = [float(v) for _, v in points] + [float(v) for v in limits]
    lo, hi, step = y_range(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: dt.datetime) -> float:
        return LEFT + (t - t0).total_seconds() / span * plot_w

    def y(v: float) -> float:
        return TOP + (hi - v) / ((hi - lo) or 1.0) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-labelledby="cc-title cc-desc" class="chart cold-chain" font-family="sans-serif">',
        f'<title id="cc-title">{esc(words.title)}</title>',
        f'<desc id="cc-desc">{esc(words.description)}</desc>',
        f'<text x="{LEFT}" y="24" font-size="15" font-weight="bold" fill="{INK}">'
        f"{esc(words.title)}</text>",
    ]
    a, b = x(window[0]), x(window[1])
    out.append(
        f'<rect class="journey" x="{a:.1f}" y="{TOP}" width="{max(b - a, 1):.1f}"'
        f' height="{plot_h}" fill="{WINDOW}"><title>{esc(words.journey)}</title></rect>'
    )
    for band in bands:
        a, b = x(band.start), x(band.end)
        out.append(
            f'<rect class="problem" x="{a:.1f}" y="{TOP}" width="{max(b - a, 2):.1f}"'
            f' height="{plot_h}" fill="{BAND}"><title>{esc(band.label)}</title></rect>'
        )
    tick = lo
    while tick <= hi + step / 2:
        ty = y(tick)
        out.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" font-size="11" text-anchor="end"'
            f' fill="{MUTED}">{tick:g}</text>'
        )
        tick += step
    for value in limits:
        ly = y(float(value))
        label = words.limit.replace("%(value)s", str(value))
        out.append(
            f'<line class="limit" x1="{LEFT}" y1="{ly:.1f}" x2="{WIDTH - RIGHT}" y2="{ly:.1f}"'
            f' stroke="{LIMIT}" stroke-width="2" stroke-dasharray="7 5"/>'
            f'<text x="{WIDTH - RIGHT - 4}" y="{ly - 5:.1f}" font-size="11" text-anchor="end"'
            f' fill="{LIMIT}">{esc(label)}</text>'
        )
    drawn = " ".join(f"{x(t):.1f},{y(float(v)):.1f}" for t, v in _thin(points))
    out.append(
        f'<polyline class="trace" points="{drawn}" fill="none" stroke="{TRACE}"'
        f' stroke-width="1.5"/>'
    )
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        t = t0 + dt.timedelta(seconds=span * frac)
        out.append(
            f'<text x="{x(t):.1f}" y="{HEIGHT - BOTTOM + 18}" font-size="11" text-anchor="middle"'
            f' fill="{MUTED}">{esc(local(t).strftime("%m-%d %H:%M"))}</text>'
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 20}" font-size="12" text-anchor="middle"'
        f' fill="{INK}">{esc(words.zone)}</text>'
        f'<text x="16" y="{TOP + plot_h / 2:.1f}" font-size="12" fill="{INK}"'
        f' transform="rotate(-90 16 {TOP + plot_h / 2:.1f})" text-anchor="middle">'
        f"{esc(words.y_title)}</text>"
    )
    out.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none"'
        f' stroke="{MUTED}"/></svg>'
    )
    return "".join(out)
