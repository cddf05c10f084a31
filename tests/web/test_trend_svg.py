"""The trend chart builder on its own: plain data in, well-formed SVG out, every text escaped,
limits and points where the numbers put them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from lotrack.web.trend_svg import ChartLine, ChartPoint, render, y_range

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def translate(g: ET.Element) -> tuple[float, float]:
    m = re.fullmatch(r"translate\(([-\d.]+) ([-\d.]+)\)", g.get("transform", ""))
    assert m, g.attrib
    return float(m.group(1)), float(m.group(2))


def limit_y(root: ET.Element, kind: str) -> list[float]:
    groups = root.findall(f"s:g[@data-kind='{kind}']", NS)
    return [float(g.find("s:line", NS).get("y1")) for g in groups]


def marker(root: ET.Element, verdict: str) -> ET.Element:
    """The shape of the first point with that verdict (after its <title>)."""
    return list(root.find(f"s:g[@data-verdict='{verdict}']", NS))[1]


def points(root: ET.Element) -> list[ET.Element]:
    return root.findall("s:g[@data-verdict]", NS)


LINES = [
    ChartLine(Decimal("80.0"), "spec", "spec ≥ 80.0"),
    ChartLine(Decimal("85.0"), "alert", "a"),
]


def test_text_is_escaped_in_elements_and_attributes() -> None:
    nasty = "<script>alert(1)</script> & \"quoted\" 'single'"
    svg = render(
        [ChartPoint(nasty, Decimal("90"), "pass", nasty)],
        [ChartLine(Decimal("80"), "spec", nasty)],
        title=nasty,
        y_title=nasty,
        description=nasty,
    )
    root = parse(svg)  # well-formed XML: nothing broke out of its element or attribute
    assert "<script" not in svg
    assert root.find("s:script", NS) is None and not root.findall(".//s:script", NS)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts.count(nasty) >= 4  # title, y title, limit label, x label: shown as written
    [point] = points(root)
    assert point.find("s:title", NS).text == nasty


def test_points_sit_above_or_below_the_limit_lines_by_their_values() -> None:
    data = [("L1", "93.4", "pass"), ("L2", "84.0", "alert"), ("L3", "78.9", "fail")]
    svg = render(
        [ChartPoint(n, Decimal(v), verdict, n) for n, v, verdict in data],
        LINES,
        title="VIAB",
        y_title="%",
    )
    root = parse(svg)
    [spec], [alert] = limit_y(root, "spec"), limit_y(root, "alert")
    ys = {g.get("data-verdict"): translate(g)[1] for g in points(root)}
    assert ys["pass"] < alert < ys["alert"] < spec < ys["fail"]  # SVG y grows downwards
    # Linear: 5 units between the lines take the same pixels per unit as 8.4 above the alert.
    assert abs((spec - alert) / 5 - (alert - ys["pass"]) / 8.4) < 0.05
    xs = [translate(g)[0] for g in points(root)]
    assert xs == sorted(xs)  # in the order given (time order)
    [series] = root.findall("s:polyline", NS)
    assert len(series.get("points").split()) == 3
    # Spec limits solid, alert limits dashed; failures drawn in red, alerts in amber.
    line = {k: root.find(f"s:g[@data-kind='{k}']/s:line", NS) for k in ("spec", "alert")}
    assert line["spec"].get("stroke-dasharray") is None and line["alert"].get("stroke-dasharray")
    assert marker(root, "fail").get("fill") == "#a1161b"
    assert marker(root, "alert").get("fill") == "#a35c00"
    assert root.find("s:g[@class='legend']", NS) is not None


def test_no_points_draws_the_limits_and_says_so() -> None:
    root = parse(render([], LINES, title="VIAB", y_title="%", empty_text="Nothing yet."))
    assert not points(root) and root.find("s:polyline", NS) is None
    assert len(limit_y(root, "spec")) == 1 and len(limit_y(root, "alert")) == 1
    assert "Nothing yet." in [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_one_point_without_limits_is_centred_and_not_connected() -> None:
    root = parse(render([ChartPoint("L1", Decimal("5"), "pass", "L1")], [], title="t", y_title="u"))
    [only] = points(root)
    x, y = translate(only)
    width = float(root.get("viewBox").split()[2])
    assert 0.3 * width < x < 0.7 * width and y > 0
    assert root.find("s:polyline", NS) is None


def test_a_censored_value_is_an_open_marker() -> None:
    root = parse(
        render(
            [ChartPoint("L1", Decimal("0.25"), "pass", "<0.25", censored=True)],
            [ChartLine(Decimal("0.50"), "spec", "< 0.50")],
            title="t",
            y_title="u",
        )
    )
    shape = marker(root, "pass")
    assert shape.get("fill") == "#ffffff" and shape.get("stroke") != "#ffffff"


def test_many_lots_thin_out_the_axis_labels_but_keep_every_point() -> None:
    many = [ChartPoint(f"LOT-{i:03d}", Decimal(90 + i % 5), "pass", str(i)) for i in range(200)]
    root = parse(render(many, LINES, title="t", y_title="u"))
    assert len(points(root)) == 200
    labels = root.findall("s:g[@class='x-axis']/s:text", NS)
    assert 10 < len(labels) < 100 and labels[-1].text == "LOT-199"


@given(st.lists(st.decimals(min_value=-1000, max_value=1000, places=2), min_size=1, max_size=30))
def test_the_y_range_holds_every_value_and_ends_on_its_ticks(values: list[Decimal]) -> None:
    floats = [float(v) for v in values]
    lo, hi, step = y_range(floats)
    assert lo < hi and lo <= min(floats) and max(floats) <= hi
    assert abs((hi - lo) / step - round((hi - lo) / step)) < 1e-6
    if min(floats) >= 0:
        assert lo >= 0
