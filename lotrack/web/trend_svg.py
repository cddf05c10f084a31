"""A trend chart as SVG markup, built from plain data: no Flask, no database, no script.

Pixel positions are floats: they only place marks on a screen. The verdicts were judged exactly
(Decimal) when the results were recorded; the chart never judges anything.
Every text that reaches the markup is escaped, in elements and in attributes alike.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from lotrack.domain.specs import Verdict

WIDTH, HEIGHT = 800, 470
LEFT, RIGHT, TOP, BOTTOM = 72, 100, 80, 120
COLOURS = {Verdict.PASS: "#1d6b35", Verdict.ALERT: "#a35c00", Verdict.FAIL: "#a1161b"}
LINE_COLOURS = {"spec": "#a1161b", "alert": "#a35c00"}
DASH = "7 5"
INK, MUTED, GRID = "#1b1f24", "#5a6370", "#d4d9e0"
LABEL_PITCH = 14  # px between two x-axis labels before they collide (rotated text)


@dataclass(frozen=True)
class ChartPoint:
    x_label: str  # e.g. the lot number and its harvest date
    y: Decimal
    verdict: str  # pass, alert or fail
    title: str  # the hover text: lot, value, verdict
    censored: bool = False  # a bound such as "<0.25", drawn at the bound as an open marker


@dataclass(frozen=True)
class ChartLine:
    y: Decimal
    kind: str  # "spec" (solid) or "alert" (dashed)
    label: str


@dataclass(frozen=True)
class Legend:
    """The legend's words, in the reader's language (the caller translates them)."""

    passed: str = "pass"
    alert: str = "alert"
    failed: str = "fail (out of specification)"
    censored: str = "open: censored value, drawn at its bound"
    spec_limit: str = "specification limit"
    alert_limit: str = "alert limit"


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least `raw`."""
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power  # pragma: no cover (the loop ends at 10)


def y_range(values: Sequence[float], ticks: int = 5) -> tuple[float, float, float]:
    """(low, high, step): every value inside, a margin around them, ends on round ticks."""
    if not values:
        return 0.0, 1.0, 0.2
    lo, hi = min(values), max(values)
    span = hi - lo
    if span == 0:
        span = abs(hi) * 0.1 or 1.0
        lo, hi = lo - span / 2, hi + span / 2
    lo, hi = lo - span * 0.08, hi + span * 0.08
    if lo < 0 <= min(values):  # a percentage or a count does not go below zero
        lo = 0.0
    step = _nice_step((hi - lo) / ticks)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def _fmt(v: float) -> str:
    return f"{v:.1f}"


def _marker(verdict: str, censored: bool) -> str:
    colour = COLOURS.get(verdict, MUTED)
    fill = "#ffffff" if censored else colour
    paint = f'fill="{fill}" stroke="{colour}" stroke-width="2"'
    if verdict == Verdict.FAIL:
        return f'<rect x="-5" y="-5" width="10" height="10" {paint}/>'
    if verdict == Verdict.ALERT:
        return f'<path d="M0,-6.5 L6.5,0 L0,6.5 L-6.5,0 Z" {paint}/>'
    return f'<circle r="5" {paint}/>'


def _width(text: str) -> float:
    """About how wide `text` is at the legend's font size: a Chinese character is twice a
    Latin one."""
    return sum(11.0 if unicodedata.east_asian_width(c) in "WF" else 5.5 for c in text)


def _legend(words: Legend) -> list[str]:
    items = [
        (_marker(Verdict.PASS, False), words.passed),
        (_marker(Verdict.ALERT, False), words.alert),
        (_marker(Verdict.FAIL, False), words.failed),
        (_marker(Verdict.PASS, True), words.censored),
    ]
    out = ['<g class="legend" font-size="11">']
    x = LEFT
    for marker, text in items:
        out.append(f'<g transform="translate({x + 6} 42)">{marker}</g>')
        out.append(f'<text x="{x + 16}" y="46" fill="{INK}">{esc(text)}</text>')
        x += 30 + _width(text)
    x = LEFT
    for kind, text in (("spec", words.spec_limit), ("alert", words.alert_limit)):
        dash = f' stroke-dasharray="{DASH}"' if kind == "alert" else ""
        out.append(
            f'<line x1="{x}" y1="58" x2="{x + 26}" y2="58" stroke="{LINE_COLOURS[kind]}"'
            f' stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{x + 32}" y="62" fill="{INK}">{esc(text)}</text>')
        x += 150
    out.append("</g>")
    return out


def _spread(wanted: list[float], gap: float = 12.0) -> list[float]:
    """Label positions near `wanted` (sorted ascending) and at least `gap` apart."""
    out: list[float] = []
    for w in wanted:
        out.append(max(w, out[-1] + gap) if out else w)
    return out


def render(
    points: Sequence[ChartPoint],
    lines: Sequence[ChartLine],
    *,
    title: str,
    y_title: str,
    description: str = "",
    empty_text: str = "No results to plot yet.",
    legend: Legend = Legend(),
) -> str:
    """The chart: points in the given (time) order, connected; limit lines; axes; a legend."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    lo, hi, step = y_range([float(p.y) for p in points] + [float(line.y) for line in lines])

    def y_px(v: Decimal | float) -> float:
        return TOP + plot_h * (hi - float(v)) / (hi - lo)

    def x_px(i: int) -> float:
        return LEFT + plot_w * (i + 0.5) / max(len(points), 1)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%"'
        f' role="img" aria-labelledby="trend-title trend-desc" class="trend-chart"'
        f' font-family="system-ui, sans-serif" font-size="11">',
        f'<title id="trend-title">{esc(title)}</title>',
        f'<desc id="trend-desc">{esc(description or title)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="20" font-size="15" font-weight="700" fill="{INK}">'
        f"{esc(title)}</text>",
        *_legend(legend),
    ]
    # The y axis: grid lines on round ticks, labelled.
    decimals = max(0, -math.floor(math.log10(step)))
    out.append('<g class="y-axis">')
    for i in range(round((hi - lo) / step) + 1):
        v = lo + i * step
        y = _fmt(y_px(v))
        out.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{LEFT + plot_w}" y2="{y}" stroke="{GRID}"'
            ' stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{_fmt(y_px(v) + 4)}" text-anchor="end" fill="{MUTED}">'
            f"{v:.{decimals}f}</text>"
        )
    mid = _fmt(TOP + plot_h / 2)
    out.append(
        f'<text x="16" y="{mid}" transform="rotate(-90 16 {mid})" text-anchor="middle"'
        f' fill="{INK}">{esc(y_title)}</text>'
    )
    out.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="{INK}"/>'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"'
        f' stroke="{INK}"/></g>'
    )
    # Limit lines across the plot, labelled in the right margin.
    ordered = sorted(lines, key=lambda line: y_px(line.y))
    label_ys = _spread([y_px(line.y) + 4 for line in ordered])
    for line, label_y in zip(ordered, label_ys, strict=True):
        y = _fmt(y_px(line.y))
        colour = LINE_COLOURS.get(line.kind, MUTED)
        dash = f' stroke-dasharray="{DASH}"' if line.kind == "alert" else ""
        out.append(
            f'<g class="limit {esc(line.kind)}" data-kind="{esc(line.kind)}"'
            f' data-value="{esc(line.y)}"><title>{esc(line.label)}</title>'
            f'<line x1="{LEFT}" y1="{y}" x2="{LEFT + plot_w}" y2="{y}" stroke="{colour}"'
            f' stroke-width="2"{dash}/>'
            f'<text x="{LEFT + plot_w + 6}" y="{_fmt(label_y)}" fill="{colour}">'
            f"{esc(line.label)}</text></g>"
        )
    if not points:
        out.append(
            f'<text x="{LEFT + plot_w / 2}" y="{_fmt(TOP + plot_h / 2)}" text-anchor="middle"'
            f' font-size="14" fill="{MUTED}">{esc(empty_text)}</text>'
        )
    # The x axis: a label per lot, thinned out when they would collide.
    every = max(1, math.ceil(len(points) * LABEL_PITCH / plot_w))
    base = TOP + plot_h + 12
    out.append('<g class="x-axis">')
    for i, p in enumerate(points):
        if i % every and i != len(points) - 1:
            continue
        x = _fmt(x_px(i))
        out.append(
            f'<text x="{x}" y="{base}" transform="rotate(-45 {x} {base})" text-anchor="end"'
            f' font-size="10" fill="{INK}">{esc(p.x_label)}</text>'
        )
    out.append("</g>")
    # The results, in order, connected; each point carries its hover title.
    if len(points) > 1:
        path = " ".join(f"{_fmt(x_px(i))},{_fmt(y_px(p.y))}" for i, p in enumerate(points))
        out.append(
            f'<polyline class="series" points="{path}" fill="none" stroke="{MUTED}"'
            ' stroke-width="1.5"/>'
        )
    for i, p in enumerate(points):
        out.append(
            f'<g class="point {esc(p.verdict)}" data-verdict="{esc(p.verdict)}"'
            f' data-value="{esc(p.y)}" transform="translate({_fmt(x_px(i))} {_fmt(y_px(p.y))})">'
            f"<title>{esc(p.title)}</title>{_marker(p.verdict, p.censored)}</g>"
        )
    out.append("</svg>")
    return "\n".join(out)
