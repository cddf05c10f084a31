"""Trends through the API: the same data as the chart, exact numbers as strings, refusals as
problem bodies naming the field, and a query count that does not grow with the lots."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import assert_problem
from tests.conftest import counting
from tests.web.test_trends import grow, new_release_version, tighter_viability_and_a_new_test


def test_viability_across_the_demo_lots_as_exact_strings(tech) -> None:
    resp = tech.get("/trends/VIAB")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["spec_version"] == "cfMSC release v1" and body["test"]["code"] == "VIAB"
    assert body["test"]["criterion"] == "≥ 80.0%" and body["test"]["alert"] == "≥ 85.0%"
    assert [(x["kind"], x["side"], x["value"]) for x in body["lines"]] == [
        ("spec", "lower", "80.0"),
        ("alert", "lower", "85.0"),
    ]
    points = body["points"]
    assert [p["lot_number"] for p in points] == [f"CFM-2025-000{i}" for i in (1, 2, 3, 4)]
    assert [p["harvested_on"] for p in points] == sorted(p["harvested_on"] for p in points)
    assert [(p["value"], p["compared"], p["verdict"]) for p in points] == [
        ("93.4", "93.4", "pass"),
        ("93.4", "93.4", "pass"),
        ("78.9", "78.9", "fail"),
        ("93.4", "93.4", "pass"),
    ]
    for p in points:
        assert isinstance(p["value"], str) and isinstance(p["compared"], str)
        assert p["spec_version"] == "cfMSC release v1" and p["limits_differ"] is False
    assert points[2]["verified"] is False and points[0]["verified"] is True
    assert body["truncated"] is False and body["notes"] == []


def test_corrections_censored_values_and_panel_alternatives(tech) -> None:
    cd90 = tech.get("/trends/CD90").get_json()["points"]
    assert [p["value"] for p in cd90 if p["lot_number"] == "CFM-2025-0001"] == ["99.2"]
    endotoxin = tech.get("/trends/ENDOTOXIN").get_json()["points"]
    assert {(p["value"], p["compared"], p["censored"]) for p in endotoxin} == {
        ("<0.25", "0.25", "<")
    }
    panel = tech.get("/trends/CD14").get_json()  # an alternative names its panel
    assert panel["test"]["code"] == "CD14-CD11B" and panel["test"]["kind"] == "panel"
    assert {p["analyte"] for p in panel["points"]} == {"CD14"}


def test_limit_keeps_the_most_recent_lots(tech) -> None:
    body = tech.get("/trends/VIAB?limit=1").get_json()
    assert [p["lot_number"] for p in body["points"]] == ["CFM-2025-0004"]
    assert body["truncated"] is True and body["notes"] == [
        "Only the most recently harvested lot is shown."
    ]


@pytest.mark.parametrize("limit", ["0", "1001", "abc", "-5"])
def test_a_bad_limit_is_refused_naming_it(tech, limit) -> None:
    assert_problem(tech.get(f"/trends/VIAB?limit={limit}"), 422, "limit")


def test_unknown_and_qualitative_tests_are_refused_naming_the_test(tech) -> None:
    body = assert_problem(tech.get("/trends/NOPE"), 404, "test")
    assert "NOPE" in body["message"]
    body = assert_problem(tech.get("/trends/STERILITY"), 422, "test")
    assert "numeric" in body["message"]
    assert tech.get("/trends/" + "X" * 65).status_code == 404


def test_only_manufacturing_readers_may_read_trends(as_user) -> None:
    assert_problem(as_user(None).get("/trends/VIAB"), 401)
    assert_problem(as_user("nurse").get("/trends/VIAB"), 403)
    for name in ("tech", "qa", "admin"):
        assert as_user(name).get("/trends/VIAB").status_code == 200, name


def test_points_judged_by_an_older_version_are_flagged(demo_app, tech, tmp_path) -> None:
    new_release_version(demo_app, tmp_path, tighter_viability_and_a_new_test)
    body = tech.get("/trends/VIAB").get_json()
    assert body["spec_version"] == "cfMSC release v2"
    assert [x["value"] for x in body["lines"]] == ["82.0", "87.0"]
    assert all(
        p["limits_differ"] and p["spec_version"] == "cfMSC release v1" for p in body["points"]
    )
    assert [p["verdict"] for p in body["points"]] == ["pass", "pass", "fail", "pass"]
    [note] = body["notes"]
    assert "judged by cfMSC release v1" in note and "CFM-2025-0003" in note
    [lot] = grow(demo_app, ["81.5"])  # pinned v2: judged by the lines drawn
    last = tech.get("/trends/VIAB").get_json()["points"][-1]
    assert (last["lot_number"], last["verdict"], last["limits_differ"]) == (lot, "fail", False)


def test_the_query_count_does_not_grow_with_the_lots(demo_app, tech) -> None:
    tech.get("/trends/CD90")  # the token's last-use stamp is written at most once a minute: now

    def queries() -> int:
        with counting(demo_app) as seen:
            assert tech.get("/trends/VIAB").status_code == 200
        return len(seen)

    before = queries()
    grow(demo_app, [str(80 + i) for i in range(16)])
    assert len(tech.get("/trends/VIAB").get_json()["points"]) == 20
    assert queries() == before


def test_the_openapi_document_describes_the_trend(client) -> None:
    doc = json.loads(client.get("/api/v1/openapi.json").get_data(as_text=True))
    assert "get" in doc["paths"]["/api/v1/trends/{code}"]
    point = doc["components"]["schemas"]["TrendPointOut"]["properties"]
    assert point["compared"]["type"] == "string"
