"""Trend pages: a numeric test across the demo lots, charted against its limits (server-rendered
SVG), the same data in a table, refusals for what cannot be charted, and a constant query count."""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from lotrack.models import Lot, Result, SpecVersion
from lotrack.services import lot as lots
from lotrack.services import production, result, specs
from tests.conftest import counting, login, user
from tests.record_signing import signs

NS = {"s": "http://www.w3.org/2000/svg"}


def grow(app: Flask, values: list[str], *, test: str = "VIAB", unit: str = "%") -> list[str]:
    """One more run, with a lot per value, each with that result for `test`; the lot numbers."""
    start = dt.date(2025, 12, 1)
    with app.extensions["lotrack_db"].sessionmaker() as s:
        tech = user(s, "tech")
        run = production.start_run(
            s, tech, code="RUN-T-01", bank_code="WCB-001-B", vial_numbers=[4], started_on=start
        )
        s.flush()
        production.record_passage(
            s,
            tech,
            run,
            seeded_on=start,
            harvested_on=start + dt.timedelta(days=6),
            cells_seeded=2_000_000,
            cells_harvested=12_000_000,
            viability_percent=Decimal("95"),
        )
        s.flush()
        made = []
        for i, value in enumerate(values):
            harvest = start + dt.timedelta(days=7 + i)
            lot = lots.register_lot(
                s,
                tech,
                run_code=run.code,
                harvested_on=harvest,
                expires_on=harvest + dt.timedelta(days=365),
            )
            s.flush()
            result.record_result(
                s, tech, lot, test=test, value=value, unit=unit, performed_on=harvest
            )
            made.append(lot.lot_number)
        s.commit()
    return made


def new_release_version(app: Flask, tmp_path: Path, edit: Callable[[str], str]) -> None:
    """Load an edited copy of the release specification as a new version; QA approves it."""
    text = (specs.SPECS_DIR / "cfmsc-release.toml").read_text(encoding="utf-8")
    edited = edit(text)
    assert edited != text
    folder = tmp_path / "specs-v2"
    folder.mkdir()
    (folder / "cfmsc-release.toml").write_text(edited, encoding="utf-8")
    with app.extensions["lotrack_db"].sessionmaker() as s:
        qa = user(s, "qa")
        [outcome] = specs.load_specs(s, qa, folder)
        assert outcome.created
        version = s.scalars(
            select(SpecVersion).where(
                SpecVersion.stage == "release", SpecVersion.version == outcome.version
            )
        ).one()
        specs.approve(s, qa, version, **signs("qa", "approved"))
        s.commit()


NEW_TEST = """
[[tests]]
code = "IL6"
name = "IL-6 <secreted> & \\"released\\""
method = "ELISA"
unit = "pg/mL"
kind = "numeric"
decimals = 0
upper = "500"
alert_upper = "400"
source = "programme limit (test data)"
"""


def tighter_viability_and_a_new_test(text: str) -> str:
    return (
        text.replace('lower = "80.0"\nalert_lower = "85.0"', 'lower = "82.0"\nalert_lower = "87.0"')
        + NEW_TEST
    )


def page(client, path: str) -> str:
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    return resp.get_data(as_text=True)


def chart_of(body: str) -> ET.Element:
    """The inline <svg> of a page, parsed as XML (it must be well-formed on its own)."""
    m = re.search(r"<svg\b.*?</svg>", body, re.S)
    assert m, "the page carries an inline SVG chart"
    return ET.fromstring(m.group(0))


def translate(g: ET.Element) -> tuple[float, float]:
    m = re.fullmatch(r"translate\(([-\d.]+) ([-\d.]+)\)", g.get("transform", ""))
    assert m, g.attrib
    return float(m.group(1)), float(m.group(2))


def plotted(root: ET.Element) -> list[tuple[str, str, float, str]]:
    """(lot number, verdict, y, value) per point, in drawing order."""
    out = []
    for g in root.findall("s:g[@data-verdict]", NS):
        title = g.find("s:title", NS).text
        out.append(
            (title.split(" ")[0], g.get("data-verdict"), translate(g)[1], g.get("data-value"))
        )
    return out


def line_y(root: ET.Element, kind: str) -> dict[str, float]:
    return {
        g.get("data-value"): float(g.find("s:line", NS).get("y1"))
        for g in root.findall(f"s:g[@data-kind='{kind}']", NS)
    }


def table_rows(body: str) -> list[str]:
    tbody = body.split("<h2>Results</h2>", 1)[1]
    return [
        html.unescape(re.sub(r"<[^>]+>|\s+", " ", r))
        for r in re.findall(r"<tr.*?</tr>", tbody, re.S)
    ]


def no_script_of_its_own(body: str) -> bool:
    """The chart is drawn on the server: the page loads only the scripts every page loads."""
    return re.findall(r"<script[^>]*>", body) == [
        '<script src="/static/js/busy.js" defer>',
        '<script src="/static/js/tables.js" defer>',
    ]


def test_the_picker_lists_the_numeric_tests_with_links_and_a_get_form(client) -> None:
    login(client, "qa")
    body = page(client, "/trends")
    for code in ("VIAB", "CELLS", "CD90", "CD14-CD11B", "ENDOTOXIN", "POTENCY"):
        assert f'href="/trends/{code}"' in body
    assert "/trends/STERILITY" not in body and "/trends/MYCO" not in body  # qualitative
    assert re.search(r'<form method="get"[^>]*>.*?<select name="test"', body, re.S)
    assert no_script_of_its_own(body)
    resp = client.get("/trends?test=CD90")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/trends/CD90")


def test_viability_across_the_demo_lots_marks_the_failure_below_the_limit(client) -> None:
    login(client, "tech")
    body = page(client, "/trends/VIAB")
    assert no_script_of_its_own(body)
    root = chart_of(body)
    points = plotted(root)
    assert [p[0] for p in points] == [f"CFM-2025-000{i}" for i in (1, 2, 3, 4)]  # harvest order
    spec, alert = line_y(root, "spec"), line_y(root, "alert")
    assert set(spec) == {"80.0"} and set(alert) == {"85.0"}
    assert alert["85.0"] < spec["80.0"]  # the alert line above the limit (SVG y grows down)
    for lot, verdict, y, value in points:
        if lot == "CFM-2025-0003":
            assert (verdict, value) == ("fail", "78.9")
            assert y > spec["80.0"]  # below the limit line
        else:
            assert (verdict, value) == ("pass", "93.4")
            assert y < alert["85.0"]  # above both lines
    # The axis is linear: 4.0 % between 80.0 and 85.0 take what 5 units take, 8.4 what 8.4 take.
    per_unit = (spec["80.0"] - alert["85.0"]) / 5
    fail_y = next(p[2] for p in points if p[1] == "fail")
    assert abs((fail_y - spec["80.0"]) - 1.1 * per_unit) < 0.2
    # Hover titles name the lot, the value and the verdict; the table below repeats the data.
    titles = [g.find("s:title", NS).text for g in root.findall("s:g[@data-verdict]", NS)]
    assert any("CFM-2025-0003" in t and "78.9" in t and "fail" in t for t in titles)
    rows = table_rows(body)
    failing = next(r for r in rows if "CFM-2025-0003" in r)
    assert "78.9" in failing and "FAIL" in failing
    assert body.count('class="flagged"') == 1


def test_an_invalidated_result_is_not_plotted_its_correction_is(demo_app, client) -> None:
    login(client, "qa")
    body = page(client, "/trends/CD90")
    first = next(p for p in plotted(chart_of(body)) if p[0] == "CFM-2025-0001")
    assert first[3] == "99.2"  # corrected from 99.4 (transcription error): only 99.2 is drawn
    row = next(r for r in table_rows(body) if "CFM-2025-0001" in r)
    assert "99.2" in row and "99.4" not in row
    assert [p[0] for p in plotted(chart_of(body))] == [f"CFM-2025-000{i}" for i in (1, 2, 3)]
    # Invalidated and not (yet) replaced: the lot has no valid CD90 result, so no point.
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        cd90 = s.scalars(
            select(Result)
            .join(Lot, Result.lot_id == Lot.id)
            .where(Lot.lot_number == "CFM-2025-0002", Result.test_code == "CD90")
        ).one()
        result.invalidate_result(s, user(s, "qa"), cd90, "sample mix-up at the cytometer")
        s.commit()
    body = page(client, "/trends/CD90")
    assert [p[0] for p in plotted(chart_of(body))] == ["CFM-2025-0001", "CFM-2025-0003"]
    assert not any("CFM-2025-0002" in r for r in table_rows(body))


def test_a_censored_value_is_drawn_at_its_bound(client) -> None:
    login(client, "qa")
    body = page(client, "/trends/ENDOTOXIN")
    points = plotted(chart_of(body))
    assert points and all(p[3] == "0.25" for p in points)
    assert "&lt;0.25" in body  # the value as entered, in the table


def test_the_svg_file_is_standalone_xml(client) -> None:
    login(client, "qa")
    resp = client.get("/trends/VIAB.svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    root = ET.fromstring(resp.get_data())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(plotted(root)) == 4


def test_points_judged_by_an_older_version_say_so_and_the_lines_are_the_new_ones(
    demo_app, client, tmp_path
) -> None:
    new_release_version(demo_app, tmp_path, tighter_viability_and_a_new_test)
    login(client, "qa")
    body = page(client, "/trends/VIAB")
    root = chart_of(body)
    assert set(line_y(root, "spec")) == {"82.0"} and set(line_y(root, "alert")) == {"87.0"}
    assert [p[1] for p in plotted(root)] == ["pass", "pass", "fail", "pass"]  # verdicts stand
    text = html.unescape(body)
    assert "cfMSC release v2 (in effect)" in text
    assert "judged by cfMSC release v1 (≥ 80.0% (alert ≥ 85.0%))" in text


def test_a_test_without_results_and_one_with_a_single_result_are_charted(
    demo_app, client, tmp_path
) -> None:
    new_release_version(demo_app, tmp_path, tighter_viability_and_a_new_test)
    login(client, "qa")
    body = page(client, "/trends/IL6")
    assert "nothing to chart" in body
    root = chart_of(body)  # the test's name, with <, & and quotes, is escaped in the SVG
    assert not plotted(root) and set(line_y(root, "spec")) == {"500"}
    assert 'IL-6 <secreted> & "released"' in root.find("s:title", NS).text
    assert "<secreted>" not in body
    [lot] = grow(demo_app, ["450"], test="IL6", unit="pg/mL")
    root = chart_of(page(client, "/trends/IL6"))
    [(number, verdict, y, _v)] = plotted(root)
    assert (number, verdict) == (lot, "alert")
    assert line_y(root, "alert")["400"] > y > line_y(root, "spec")["500"]


def test_unknown_and_qualitative_tests_are_refused_in_words(client) -> None:
    login(client, "qa")
    resp = client.get("/trends/NOPE")
    assert resp.status_code == 404 and "NOPE" in resp.get_data(as_text=True)
    resp = client.get("/trends/%3Cb%3Ex")
    assert resp.status_code == 404
    assert "&lt;b&gt;x" in resp.get_data(as_text=True) and "<b>x" not in resp.get_data(as_text=True)
    resp = client.get("/trends/STERILITY")
    assert resp.status_code == 422
    assert "numeric" in resp.get_data(as_text=True)
    assert client.get("/trends/STERILITY.svg").status_code == 422


@pytest.mark.parametrize("path", ["/trends", "/trends/VIAB", "/trends/VIAB.svg"])
def test_only_manufacturing_readers_see_trends(demo_app, path) -> None:
    assert demo_app.test_client().get(path).status_code == 302  # to the login page
    for name, status in (("nurse", 403), ("tech", 200), ("qa", 200), ("admin", 200)):
        client = demo_app.test_client()
        login(client, name)
        assert client.get(path).status_code == status, name


def test_the_query_count_does_not_grow_with_the_lots(demo_app, client) -> None:
    login(client, "qa")

    def queries(path: str) -> int:
        with counting(demo_app) as seen:
            assert client.get(path).status_code == 200
        return len(seen)

    before = {p: queries(p) for p in ("/trends/VIAB", "/trends/VIAB.svg")}
    made = grow(demo_app, [f"{85 + i % 10}.{i}" for i in range(18)])
    root = chart_of(page(client, "/trends/VIAB"))
    assert len(plotted(root)) == 4 + 18 and plotted(root)[-1][0] == made[-1]
    assert {p: queries(p) for p in before} == before
