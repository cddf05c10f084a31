"""/api/v1 bulk work: a lot's results verified in one request (all or none, never one's own), a
batch of entries (all or none, refusals keyed by test and field), a pending sterility's final
reading dated on or after its due date, and the import template."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, row_counts
from tests.api.test_quality_api import DAY, RUN, result


@pytest.fixture
def new_lot(tech) -> str:
    """A new quarantined lot pinned to the release spec in effect, with no results yet."""
    r = tech.post("/lots", {"run": RUN, "harvested_on": "2025-12-01", "expires_on": "2026-12-01"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["lot_number"]


BATCH = [
    {"test": "VIAB", "value": "93.4", "unit": "%"},
    {"test": "CD105", "value": "98.7", "unit": "%"},
    {"test": "CD14", "value": "0.6", "unit": "%"},
]


def test_a_batch_is_recorded_whole_and_verified_in_one_request(demo_app, tech, as_user, new_lot):
    lot = new_lot
    before = row_counts(demo_app)
    bad = [*BATCH, {"test": "CD90", "value": "lots", "unit": "%"}]
    body = assert_problem(
        tech.post(f"/lots/{lot}/results/batch", {"rows": bad, "performed_on": DAY}),
        422,
        "CD90.value",
    )
    assert "nothing was recorded" in body["message"]
    assert row_counts(demo_app) == before

    done = tech.post(f"/lots/{lot}/results/batch", {"rows": BATCH, "performed_on": DAY})
    assert done.status_code == 201, done.get_json()
    ids = [r["id"] for r in done.get_json()]
    assert [r["verdict"] for r in done.get_json()] == ["pass", "pass", "pass"]

    assert_problem(tech.post(f"/lots/{lot}/results/verify", {"results": ids}), 403)
    assert_problem(as_user("nurse").post(f"/lots/{lot}/results/verify", {"results": ids}), 403)
    assert_problem(as_user("tech2").post(f"/lots/{lot}/results/verify", {}), 422, "results")
    verified = as_user("tech2").post(f"/lots/{lot}/results/verify", {"results": ids})
    assert verified.status_code == 200, verified.get_json()
    assert {r["verified_by"] for r in verified.get_json()} == {"tech2"}
    again = as_user("qa").post(f"/lots/{lot}/results/verify", {"results": ids})
    assert_problem(again, 422, f"result {ids[0]}")


def test_the_demo_sterility_reading_is_taken_on_or_after_its_due_date(tech):
    pending = result(tech, "CFM-2025-0002", "STERILITY")
    assert pending["verdict"] == "pending" and pending["due_on"]
    early = tech.post(
        f"/results/{pending['id']}/complete", {"value": "No growth", "read_on": "2025-01-01"}
    )
    assert_problem(early, 422, "read_on")
    done = tech.post(
        f"/results/{pending['id']}/complete", {"value": "No growth", "read_on": pending["due_on"]}
    )
    assert done.status_code == 201, done.get_json()
    assert (done.get_json()["verdict"], done.get_json()["replaces"]) == ("pass", pending["id"])


def test_the_import_template_of_a_spec(tech):
    versions = tech.get("/specs").get_json()
    release = next(v for v in versions if v["stage"] == "release")
    got = tech.get(f"/specs/{release['id']}/import-template.csv")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    header = got.get_data(as_text=True).lstrip("\ufeff").splitlines()[0]
    assert header.startswith("lot,test,test_name,criterion,value,unit,performed_on")
    assert tech.get("/specs/2147483647/import-template.csv").status_code == 404
