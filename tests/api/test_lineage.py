"""Lineage through the API: the trees, and a number of queries that does not grow with them."""

from __future__ import annotations

from tests.conftest import counting


def queries(app, api, path: str) -> int:
    with counting(app) as seen:
        assert api.get(path).status_code == 200
    return len(seen)


def grow(tech, n_runs: int) -> None:
    """More runs, passages, lots and units under WCB-001-A."""
    for i in range(n_runs):
        code = f"RUN-X-{i}"
        r = tech.post(
            "/runs",
            {"code": code, "bank": "WCB-001-A", "vials": [3 + i], "started_on": "2025-11-03"},
        )
        assert r.status_code == 201, r.get_json()
        for day in (3, 10):
            r = tech.post(
                f"/runs/{code}/passages",
                {
                    "seeded_on": f"2025-11-{day:02d}",
                    "harvested_on": f"2025-11-{day + 5:02d}",
                    "cells_seeded": 1_000_000,
                    "cells_harvested": 6_000_000,
                    "viability_percent": "92",
                },
            )
            assert r.status_code == 201, r.get_json()
        lot = tech.post(
            "/lots", {"run": code, "harvested_on": "2025-11-20", "expires_on": "2026-11-20"}
        ).get_json()["lot_number"]
        r = tech.post(
            f"/lots/{lot}/units",
            {"container": "vial", "count": 5, "cells_per_unit": 10_000_000, "volume_ml": "2.5"},
        )
        assert r.status_code == 201, r.get_json()


def test_trace_queries_do_not_grow_with_the_tree(demo_app, tech) -> None:
    tech.get("/lots")  # the token's last-use stamp is written at most once a minute: done now
    forward = queries(demo_app, tech, "/trace/forward?bank=MCB-001")
    back = queries(demo_app, tech, "/trace/back?lot=CFM-2025-0001")
    grow(tech, 4)
    tree = tech.get("/trace/forward?bank=MCB-001").get_json()
    assert tree["unit_count"] == 14 + 4 * 5
    assert queries(demo_app, tech, "/trace/forward?bank=MCB-001") == forward
    lot = tree["wcbs"][0]["runs"][-1]["lots"][0]["lot_number"]
    assert queries(demo_app, tech, f"/trace/back?lot={lot}") == back


def test_a_wcb_traces_forward_to_its_own_runs_lots_and_units(tech) -> None:
    tree = tech.get("/trace/forward?bank=WCB-001-A").get_json()
    assert tree["bank"]["code"] == "WCB-001-A" and tree["bank"]["parent"] == "MCB-001"
    [wcb] = tree["wcbs"]
    assert [r["code"] for r in wcb["runs"]] == ["RUN-2025-01", "RUN-2025-02"]
    units = [u for r in wcb["runs"] for lot in r["lots"] for u in lot["units"]]
    assert len(units) == tree["unit_count"] == 4 + 3  # RUN-2025-02 has harvested no lot yet
    assert tree["lot_count"] == 2
    assert all(
        u["lot_state"] == lot["state"]
        for r in wcb["runs"]
        for lot in r["lots"]
        for u in lot["units"]
    )


def test_trace_back_shows_every_link_of_a_demo_lot(tech) -> None:
    tree = tech.get("/trace/back?lot=CFM-2025-0004").get_json()
    chain = [tree[k]["code"] for k in ("donor", "clone", "mcb", "wcb", "run")]
    assert chain == ["FD-0001", "CL-0001", "MCB-001", "WCB-001-B", "RUN-2025-03"]
    assert [p["number"] for p in tree["run"]["passages"]] == [6, 7, 8, 9, 10, 11]
    assert tree["run"]["vials"] == ["WCB-001-B-V001"]
    assert tree["lot"]["lot_number"] == "CFM-2025-0004" and len(tree["lot"]["units"]) == 2


def test_the_forward_tree_comes_a_page_of_runs_at_a_time_and_counts_everything(tech) -> None:
    whole = tech.get("/trace/forward?bank=MCB-001").get_json()
    runs = [r["code"] for w in whole["wcbs"] for r in w["runs"]]
    assert whole["run_count"] == len(runs) >= 3 and whole["pages"] == 1
    seen, units = [], 0
    for page in range(1, len(runs) + 1):
        part = tech.get(f"/trace/forward?bank=MCB-001&per_page=1&page={page}").get_json()
        assert (part["page"], part["per_page"], part["pages"]) == (page, 1, len(runs))
        # The counts are of the whole tree on every page, never of the page alone.
        assert (part["run_count"], part["lot_count"], part["unit_count"]) == (
            whole["run_count"], whole["lot_count"], whole["unit_count"],
        )  # fmt: skip
        [run] = [r for w in part["wcbs"] for r in w["runs"]]
        seen.append(run["code"])
        units += sum(len(lot["units"]) for lot in run["lots"])
    assert seen == runs and units == whole["unit_count"]
    bad = tech.get("/trace/forward?bank=MCB-001&per_page=0")
    assert bad.status_code == 422 and "per_page" in str(bad.get_json())
