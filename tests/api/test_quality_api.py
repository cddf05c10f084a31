"""QC results through /api/v1: recorded as entered and judged exactly, refused with the field named
and nothing written, verified by a second person, corrected with both records kept; and the
evaluation of each demo lot with every blocker named."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.api.conftest import assert_problem, row_counts
from tests.record_signing import sign_form

RUN = "RUN-2025-01"
DAY = "2025-12-02"
CONTRACT = {
    "id",
    "test",
    "analyte",
    "value",
    "unit",
    "verdict",
    "rounded",
    "due_on",
    "note",
    "investigation",
    "invalidated_at",
    "invalidation_reason",
    "replaces",
    "verified_by",
    "verified_at",
    "analyst",
}


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@pytest.fixture
def fresh_lot(tech) -> str:
    """A new quarantined lot pinned to the release spec in effect, with no results yet."""
    r = tech.post("/lots", {"run": RUN, "harvested_on": "2025-12-01", "expires_on": "2026-12-01"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["lot_number"]


def result(api, lot: str, test: str) -> dict:
    """The latest valid result of a lot for one test (or analyte)."""
    rows = api.get(f"/lots/{lot}/results").get_json()
    return [r for r in rows if test in (r["test"], r["analyte"]) and not r["invalidated_at"]][-1]


def record(api, lot: str, test: str, value: str, unit: str = "%", day: str = DAY):
    return api.post(
        f"/lots/{lot}/results", {"test": test, "value": value, "unit": unit, "performed_on": day}
    )


def test_each_verdict_is_recorded_as_entered_and_judged_exactly(tech, fresh_lot) -> None:
    passing = record(tech, fresh_lot, "CD73", "99.14")
    assert passing.status_code == 201, passing.get_json()
    body = passing.get_json()
    assert set(body) >= CONTRACT
    assert (body["test"], body["value"], body["rounded"], body["verdict"]) == (
        "CD73",
        "99.14",
        "99.1",
        "pass",
    )
    assert body["investigation"] is None and body["analyst"] == "tech" and body["lot"] == fresh_lot
    assert body["verified_by"] is None and body["spec_version"]["label"] == "cfMSC release v1"

    # 94.95 rounds half up to the one decimal the spec states: 95.0 meets "≥ 95.0".
    at_limit = record(tech, fresh_lot, "CD105", "94.95").get_json()
    assert (at_limit["rounded"], at_limit["verdict"]) == ("95.0", "pass")

    alert = record(tech, fresh_lot, "VIAB", "82.0").get_json()
    assert alert["verdict"] == "alert" and "alert" in alert["note"]

    panel = record(tech, fresh_lot, "CD11b", "0.5").get_json()
    assert (panel["test"], panel["analyte"], panel["verdict"]) == ("CD14-CD11B", "CD11b", "pass")

    failing = record(tech, fresh_lot, "CD90", "90.0")
    assert failing.status_code == 201
    oos = failing.get_json()["investigation"]
    assert failing.get_json()["verdict"] == "fail" and oos.startswith("OOS-")
    opened = tech.get(f"/investigations/{oos}").get_json()
    assert opened["status"] == "open" and opened["failing_result"]["id"] == failing.get_json()["id"]

    pending = record(tech, fresh_lot, "STERILITY", "pending", unit="", day=str(today()))
    assert pending.status_code == 201
    assert pending.get_json()["verdict"] == "pending"
    assert pending.get_json()["due_on"] == str(today() + dt.timedelta(days=14))

    ev = tech.get(f"/lots/{fresh_lot}/evaluation").get_json()
    verdicts = {t["test"]: t["verdict"] for t in ev["tests"]}
    assert verdicts["CD73"] == "pass" and verdicts["VIAB"] == "alert"
    assert verdicts["CD90"] == "fail" and verdicts["STERILITY"] == "pending"
    assert verdicts["CD14-CD11B"] == "pass" and verdicts["POTENCY"] == "missing"
    assert ("investigation", oos) in {(b["kind"], b["subject"]) for b in ev["blockers"]}
    assert any("alert" in w for w in ev["warnings"])


BAD_RESULTS = {
    "unit that does not match": ({"test": "VIAB", "value": "93.0", "unit": "percent"}, "unit"),
    "unknown test": ({"test": "CD999", "value": "1.0", "unit": "%"}, "test"),
    "a panel without its analyte": ({"test": "CD14-CD11B", "value": "0.5", "unit": "%"}, "test"),
    "value sent as a number": ({"test": "CD73", "value": 99.1, "unit": "%"}, "value"),
    "not a number": ({"test": "CD73", "value": "ninety", "unit": "%"}, "value"),
    "no value": ({"test": "CD73", "unit": "%"}, "value"),
    "date not a date": (
        {"test": "CD73", "value": "99", "unit": "%", "day": "soon"},
        "performed_on",
    ),
    "date in the future": (
        {"test": "CD73", "value": "99", "unit": "%", "day": "2999-01-01"},
        "performed_on",
    ),
    "unknown qualitative value": ({"test": "MYCO", "value": "Maybe", "unit": ""}, "value"),
    "sterility read before its incubation ends": (
        {"test": "STERILITY", "value": "No growth", "unit": "", "day": "today"},
        "value",
    ),
    "unknown field": ({"test": "CD73", "value": "99", "unit": "%", "colour": "red"}, "colour"),
}


@pytest.mark.parametrize("case", list(BAD_RESULTS))
def test_a_result_that_cannot_be_judged_is_refused_naming_the_field(demo_app, tech, case) -> None:
    body, field = BAD_RESULTS[case]
    body = dict(body)
    day = body.pop("day", DAY)
    body["performed_on"] = str(today()) if day == "today" else day
    before = row_counts(demo_app)
    assert_problem(tech.post("/lots/CFM-2025-0004/results", body), 422, field)
    assert row_counts(demo_app) == before


def test_roles_that_may_not_record_learn_that_first_and_nothing_is_written(
    demo_app, as_user
) -> None:
    before = row_counts(demo_app)
    for name in ("qa", "nurse", "admin"):
        assert_problem(as_user(name).post("/lots/CFM-2025-0004/results", {"junk": 1}), 403)
    assert_problem(as_user(None).post("/lots/CFM-2025-0004/results", {}), 401)
    assert row_counts(demo_app) == before


def test_a_second_result_for_a_test_with_a_valid_one_is_a_conflict(demo_app, tech) -> None:
    before = row_counts(demo_app)
    assert_problem(record(tech, "CFM-2025-0002", "VIAB", "95.0"), 409, "test")
    # A retest of an open OOS, and any result on a released lot, are refused the same way.
    assert_problem(record(tech, "CFM-2025-0003", "VIAB", "95.0"), 409, "test")
    assert_problem(record(tech, "CFM-2025-0001", "POTENCY", "50.0"), 409, "lot")
    assert_problem(record(tech, "CFM-1999-0001", "VIAB", "95.0"), 404, "lot")
    assert row_counts(demo_app) == before


def test_the_analyst_cannot_verify_his_own_result_and_a_second_person_can(
    demo_app, tech, as_user
) -> None:
    cells = result(tech, "CFM-2025-0002", "CELLS")
    assert cells["analyst"] == "tech" and cells["verified_by"] is None
    before = row_counts(demo_app)
    assert_problem(tech.post(f"/results/{cells['id']}/verify"), 403, "verifier")
    assert_problem(as_user("nurse").post(f"/results/{cells['id']}/verify"), 403)
    assert row_counts(demo_app) == before

    done = as_user("tech2").post(f"/results/{cells['id']}/verify")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["verified_by"] == "tech2" and done.get_json()["verified_at"]
    assert_problem(as_user("qa").post(f"/results/{cells['id']}/verify"), 409, "result")
    kinds = {b["kind"] for b in tech.get("/lots/CFM-2025-0002/evaluation").get_json()["blockers"]}
    assert kinds == {"pending"}  # only sterility's reading is awaited now

    sterility = result(tech, "CFM-2025-0002", "STERILITY")
    assert_problem(as_user("tech2").post(f"/results/{sterility['id']}/verify"), 409, "result")


def test_a_failure_is_invalidated_only_through_its_investigation(demo_app, tech, qa) -> None:
    failing = result(tech, "CFM-2025-0003", "VIAB")
    assert failing["verdict"] == "fail" and failing["investigation"]
    before = row_counts(demo_app)
    assert_problem(
        qa.post(f"/results/{failing['id']}/invalidate", {"reason": "looks wrong"}), 409, "result"
    )
    assert_problem(qa.post(f"/results/{failing['id']}/invalidate", {}), 422, "reason")
    assert_problem(tech.post("/results/2147483647/invalidate", {"reason": "x"}), 404, "result")
    assert row_counts(demo_app) == before
    assert tech.get(f"/results/{failing['id']}").get_json()["invalidated_at"] is None

    passing = result(tech, "CFM-2025-0002", "MYCO")
    done = qa.post(f"/results/{passing['id']}/invalidate", {"reason": "sample mix-up"})
    assert done.status_code == 200
    body = done.get_json()
    assert (body["verdict"], body["judged"], body["invalidated_by"]) == ("invalid", "pass", "qa")
    assert body["invalidation_reason"] == "sample mix-up"


def test_a_correction_invalidates_the_old_result_and_links_both(demo_app, tech) -> None:
    old = result(tech, "CFM-2025-0002", "CD73")
    before = row_counts(demo_app)
    assert_problem(
        tech.post(f"/results/{old['id']}/correct", {"value": "98.9", "performed_on": DAY}),
        422,
        "reason",
    )
    assert row_counts(demo_app) == before
    new = tech.post(
        f"/results/{old['id']}/correct",
        {"value": "98.9", "unit": "%", "performed_on": DAY, "reason": "transcription error"},
    )
    assert new.status_code == 201, new.get_json()
    body = new.get_json()
    assert (body["test"], body["value"], body["replaces"]) == ("CD73", "98.9", old["id"])
    was = tech.get(f"/results/{old['id']}").get_json()
    assert was["replaced_by"] == body["id"] and was["verdict"] == "invalid"
    assert was["invalidation_reason"] == "transcription error" and was["value"] == old["value"]
    # The list keeps both; the evaluation judges the replacement.
    listed = [r["id"] for r in tech.get("/lots/CFM-2025-0002/results").get_json()]
    assert old["id"] in listed and body["id"] in listed
    ev = tech.get("/lots/CFM-2025-0002/evaluation").get_json()
    assert next(t for t in ev["tests"] if t["test"] == "CD73")["result"]["id"] == body["id"]


def test_the_list_shows_the_demo_correction_of_cd90_with_both_records(tech) -> None:
    rows = [r for r in tech.get("/lots/CFM-2025-0001/results").get_json() if r["test"] == "CD90"]
    assert [(r["value"], r["verdict"]) for r in rows] == [("99.4", "invalid"), ("99.2", "pass")]
    old, new = rows
    assert old["invalidation_reason"].startswith("transcription error")
    assert (old["replaced_by"], new["replaces"]) == (new["id"], old["id"])
    assert new["verified_by"] == "tech2" and new["analyst"] == "tech"


def test_each_demo_lot_evaluates_as_the_demo_data_says(tech) -> None:
    def ev(lot: str) -> dict:
        resp = tech.get(f"/lots/{lot}/evaluation")
        assert resp.status_code == 200
        return resp.get_json()

    first = ev("CFM-2025-0001")
    assert first["releasable"] is True and first["blockers"] == []
    assert first["spec_version"]["label"] == "cfMSC release v1"
    assert len(first["spec_version"]["content_hash"]) == 64 and first["newer_spec_version"] is None
    assert tech.get("/lots/CFM-2025-0001").get_json()["spec_version"] == first["spec_version"]
    for t in first["tests"]:
        assert t["verdict"] in ("pass", "alert") and t["result"]["test"] == t["test"], t
    assert next(t for t in first["tests"] if t["test"] == "BSA")["required"] is False
    assert next(t for t in first["tests"] if t["test"] == "CD90")["result"]["value"] == "99.2"

    def blockers(body: dict) -> set[tuple[str, str]]:
        assert body["releasable"] is False
        return {(b["kind"], b["subject"]) for b in body["blockers"]}

    assert blockers(ev("CFM-2025-0002")) == {("pending", "STERILITY"), ("unverified", "CELLS")}
    oos = tech.get("/investigations?status=open").get_json()["items"][0]["number"]
    third = ev("CFM-2025-0003")
    assert blockers(third) == {("failing", "VIAB"), ("unverified", "VIAB"), ("investigation", oos)}
    viab = next(t for t in third["tests"] if t["test"] == "VIAB")
    assert viab["result"]["value"] == "78.9" and viab["result"]["investigation"] == oos
    fourth = blockers(ev("CFM-2025-0004"))
    # 0003's open OOS reaches its sibling on WCB-001-B.
    assert {kind for kind, _ in fourth} == {"missing", "passage", "investigation"}
    assert ("investigation", oos) in fourth
    assert ("missing", "STERILITY") in fourth and ("missing", "VIAB") not in fourth
    assert_problem(tech.get("/lots/CFM-1999-0001/evaluation"), 404, "lot")


def test_banks_show_their_results_and_evaluation_and_qa_decides(tech, qa) -> None:
    listed = tech.get("/banks/MCB-001/results").get_json()
    assert listed and {r["bank"] for r in listed} == {"MCB-001"}
    ev = tech.get("/banks/WCB-001-A/evaluation").get_json()
    assert ev["releasable"] is True and ev["spec_version"]["label"] == "cfMSC WCB v1"
    assert (ev["bank"], ev["tier"], ev["qualification"]) == ("WCB-001-A", "WCB", "qualified")
    assert tech.get("/banks/MCB-001").get_json()["spec_version"]["label"] == "cfMSC MCB v1"
    viab = {"test": "VIAB", "value": "90.0", "unit": "%", "performed_on": DAY}
    assert_problem(tech.post("/banks/MCB-001/results", viab), 409, "test")

    decision = {
        "decision": "not_qualified",
        "reason": "mycoplasma found in a retained vial",
        **sign_form("qa", "not qualified"),
    }
    assert_problem(tech.post("/banks/MCB-001/qualify", decision), 403)
    assert_problem(qa.post("/banks/MCB-001/qualify", {"decision": "maybe", "reason": "x"}), 422)
    done = qa.post("/banks/MCB-001/qualify", decision)
    assert done.status_code == 200 and done.get_json()["qualification"] == "not_qualified"
    assert done.get_json()["signature"]["meaning"] == "not qualified"
    assert_problem(qa.post("/banks/MCB-001/qualify", decision), 409, "decision")
    # Every lot downstream is blocked by the bank now, the released one included.
    kinds = tech.get("/lots/CFM-2025-0001/evaluation").get_json()["blockers"]
    assert [(b["kind"], b["subject"]) for b in kinds] == [("bank", "MCB-001")]


def test_in_process_results_are_recorded_per_passage(tech) -> None:
    number = tech.get(f"/runs/{RUN}").get_json()["passages"][0]["number"]
    path = f"/runs/{RUN}/passages/{number}/results"
    body = {"test": "MORPHOLOGY", "value": "Conforms", "unit": "", "performed_on": "2025-08-10"}
    done = tech.post(path, body)
    assert done.status_code == 201, done.get_json()
    made = done.get_json()
    assert (made["run"], made["passage"], made["lot"], made["verdict"]) == (
        RUN,
        number,
        None,
        "pass",
    )
    assert made["spec_version"]["label"] == "cfMSC in-process v1"
    assert [r["id"] for r in tech.get(path).get_json()] == [made["id"]]
    assert_problem(tech.post(f"/runs/{RUN}/passages/99/results", body), 404, "passage")
    assert_problem(tech.post(path, {**body, "test": "CD73", "unit": "%"}), 422, "test")
