"""Instrument CSV imports (every row or none), specification versions and their approval, and OOS
investigations through /api/v1; and the OpenAPI document that describes them."""

from __future__ import annotations

import io
import json

from lotrack.services import specs
from tests.api.conftest import assert_problem, row_counts
from tests.record_signing import sign_form
from tests.services.test_spec_versions import STRICTER, spec_copy

LOT = "CFM-2025-0004"  # most results still missing
GOOD = "marker,percent\nCD73,99.1\nCD90,99.4\nCD45,0.4\nCD34,0.3\n"


def csv_upload(api, path: str, text: str, **form: str):
    data = {"file": (io.BytesIO(text.encode()), "export.csv"), **form}
    return api.post(path, data=data, content_type="multipart/form-data")


def results_of(api, lot: str) -> list[dict]:
    return api.get(f"/lots/{lot}/results").get_json()


def test_a_good_csv_records_every_row(tech) -> None:
    before = len(results_of(tech, LOT))
    resp = csv_upload(
        tech, f"/lots/{LOT}/results/import", GOOD, performed_on="2025-12-02", instrument="FACS-2"
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["imported"] == 4 and len(body["results"]) == 4
    assert [(r["test"], r["value"], r["unit"], r["verdict"]) for r in body["results"]] == [
        ("CD73", "99.1", "%", "pass"),
        ("CD90", "99.4", "%", "pass"),
        ("CD45", "0.4", "%", "pass"),
        ("CD34", "0.3", "%", "pass"),
    ]
    assert {(r["performed_on"], r["instrument"]) for r in body["results"]} == {
        ("2025-12-02", "FACS-2")
    }
    assert len(results_of(tech, LOT)) == before + 4


def test_a_csv_body_for_many_lots_takes_defaults_from_the_query(tech) -> None:
    text = (
        "lot,test,value,unit\nCFM-2025-0004,ENDOTOXIN,<0.25,EU/mL\ncfm-2025-0004,MYCO,Negative,\n"
    )
    resp = tech.post(
        "/results/import?performed_on=2025-12-03", data=text, content_type="text/csv; charset=utf-8"
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["imported"] == 2
    assert [(r["lot"], r["test"], r["rounded"]) for r in body["results"]] == [
        (LOT, "ENDOTOXIN", "<0.25"),
        (LOT, "MYCO", "Negative"),
    ]


def test_one_bad_row_among_many_writes_nothing_and_names_each_bad_line(demo_app, tech) -> None:
    rows = [f"{m},99.0" for m in ("CD73", "CD90")] + ["CD999,1.0"] + ["CD45,0.4"] * 1
    rows += ["CD34,lots", "HLA-DR,0.8"]
    text = "marker,percent\n" + "\n".join(rows) + "\n"
    before = row_counts(demo_app)
    count = len(results_of(tech, LOT))
    resp = csv_upload(tech, f"/lots/{LOT}/results/import", text, performed_on="2025-12-02")
    body = assert_problem(resp, 422)
    assert set(body["fields"]) == {"line 4", "line 6"}, body
    assert "test" in body["fields"]["line 4"] and "value" in body["fields"]["line 6"]
    assert row_counts(demo_app) == before and len(results_of(tech, LOT)) == count


def test_a_refused_import_names_what_is_wrong_and_writes_nothing(demo_app, tech, qa) -> None:
    path = f"/lots/{LOT}/results/import"
    before = row_counts(demo_app)
    assert_problem(qa.post(path, data=GOOD, content_type="text/csv"), 403)
    assert_problem(tech.post(path, {"text": GOOD}), 422, "file")
    assert_problem(tech.post(path, data=b"\xff\xfe", content_type="text/csv"), 422, "file")
    no_date = assert_problem(tech.post(path, data=GOOD, content_type="text/csv"), 422)
    assert set(no_date["fields"]) == {"line 2", "line 3", "line 4", "line 5"}
    assert_problem(tech.post(path, data="colour\nred\n", content_type="text/csv"), 422, "header")
    assert_problem(csv_upload(tech, path, GOOD, weather="fine"), 422, "weather")
    lot_less = "test,value,unit\nVIAB,95.0,%\n"
    assert_problem(
        tech.post("/results/import", data=lot_less, content_type="text/csv"), 422, "header"
    )
    assert_problem(tech.post("/lots/CFM-1999-0001/results/import", data=GOOD), 404, "lot")
    assert row_counts(demo_app) == before


def test_specifications_are_listed_with_status_and_tests_as_reviewed(tech) -> None:
    listed = tech.get("/specs").get_json()
    assert {(v["stage"], v["version"], v["status"]) for v in listed} == {
        ("release", 1, "in effect"),
        ("MCB", 1, "in effect"),
        ("WCB", 1, "in effect"),
        ("in-process", 1, "in effect"),
    }
    release = next(v for v in listed if v["stage"] == "release")
    assert release["approved_by"] == "qa" and len(release["content_hash"]) == 64
    detail = tech.get(f"/specs/{release['id']}").get_json()
    tests = {t["code"]: t for t in detail["tests"]}
    viab = tests["VIAB"]
    assert (viab["kind"], viab["unit"], viab["decimals"], viab["required"]) == (
        "numeric",
        "%",
        1,
        True,
    )
    assert viab["limits"] == {
        "lower": "80.0",
        "lower_inclusive": True,
        "upper": None,
        "upper_inclusive": None,
    }
    assert viab["alert"]["lower"] == "85.0" and viab["source"]
    assert tests["ENDOTOXIN"]["limits"]["upper"] == "0.50"
    assert tests["ENDOTOXIN"]["limits"]["upper_inclusive"] is False
    assert tests["CD14-CD11B"]["alternatives"] == ["CD14", "CD11b"]
    assert tests["STERILITY"]["incubation_days"] == 14 and tests["STERILITY"]["limits"] is None
    assert tests["STERILITY"]["accepted"] == ["No growth"]
    assert tests["BSA"]["required"] is False
    assert detail["limits"]["post_thaw_use_minutes"] == "60"
    assert_problem(tech.get("/specs/2147483647"), 404, "spec")


def test_qa_approves_a_new_draft_once_and_lots_keep_their_version(
    demo_app, session, tmp_path, tech, qa
) -> None:
    specs.load_specs(session, None, spec_copy(tmp_path, STRICTER))
    session.commit()
    draft = next(v for v in tech.get("/specs").get_json() if v["status"] == "draft")
    assert (draft["stage"], draft["version"]) == ("release", 2)
    path = f"/specs/{draft['id']}/approve"
    before = row_counts(demo_app)
    approving = sign_form("qa", "approved")
    assert_problem(tech.post(path, approving), 403)
    assert row_counts(demo_app) == before
    done = qa.post(path, approving)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "in effect" and done.get_json()["approved_by"] == "qa"
    assert done.get_json()["signatures"][0]["meaning"] == "approved"
    assert_problem(qa.post(path, approving), 409, "spec")
    statuses = {(v["stage"], v["version"]): v["status"] for v in tech.get("/specs").get_json()}
    assert statuses[("release", 1)] == "superseded"
    # A lot created before stays judged by v1; its evaluation points at v2.
    ev = tech.get("/lots/CFM-2025-0002/evaluation").get_json()
    assert ev["spec_version"]["label"] == "cfMSC release v1"
    assert ev["newer_spec_version"]["label"] == "cfMSC release v2"
    assert any("cfMSC release v2" in w for w in ev["warnings"])


def open_oos(api) -> str:
    return api.get("/investigations?status=open").get_json()["items"][0]["number"]


def test_investigations_are_listed_and_show_the_sibling_lots(tech) -> None:
    listed = tech.get("/investigations?status=open").get_json()
    assert listed["total"] == 1
    inv = listed["items"][0]
    assert (inv["lot"], inv["test"], inv["phase"], inv["status"]) == (
        "CFM-2025-0003",
        "VIAB",
        "I",
        "open",
    )
    assert tech.get("/investigations?status=closed").get_json()["total"] == 0
    assert_problem(tech.get("/investigations?status=lost"), 422, "status")
    detail = tech.get(f"/investigations/{inv['number']}").get_json()
    assert detail["failing_result"]["value"] == "78.9"
    assert detail["failing_result"]["investigation"] == inv["number"]
    siblings = {s["lot_number"] for s in detail["siblings"]}
    assert siblings and "CFM-2025-0003" not in siblings
    assert detail["siblings_reviewed"] == []
    assert_problem(tech.get("/investigations/OOS-1999-001"), 404, "investigation")


def test_escalation_and_conclusion_are_qa_decisions_with_reasons(demo_app, tech, qa) -> None:
    number = open_oos(tech)
    base = f"/investigations/{number}"
    before = row_counts(demo_app)
    assert_problem(tech.post(f"{base}/escalate", {"findings": "no lab error"}), 403)
    assert_problem(qa.post(f"{base}/escalate", {}), 422, "findings")
    assert_problem(qa.post(f"{base}/conclude", {"conclusion": "maybe", "findings": "x"}), 422)
    signer = sign_form("qa", "concluded")
    assert_problem(
        qa.post(f"{base}/conclude", {"conclusion": "invalidated", "findings": "pipette", **signer}),
        422,
        "assignable_cause",
    )
    assert row_counts(demo_app) == before

    up = qa.post(f"{base}/escalate", {"findings": "no laboratory error found"})
    assert up.status_code == 200 and up.get_json()["phase"] == "II"
    assert_problem(qa.post(f"{base}/escalate", {"findings": "again"}), 409, "phase")

    cause = "haemocytometer chamber cracked"
    done = qa.post(
        f"{base}/conclude",
        {
            "conclusion": "invalidated",
            "findings": "chamber replaced",
            "assignable_cause": cause,
            **signer,
        },
    )
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert (body["status"], body["conclusion"], body["closed_by"]) == (
        "closed",
        "invalidated",
        "qa",
    )
    assert body["assignable_cause"] == cause and "chamber replaced" in body["findings"]
    assert body["siblings_reviewed"] == [s["lot_number"] for s in body["siblings"]]
    assert body["failing_result"]["verdict"] == "invalid"
    assert_problem(qa.post(f"{base}/escalate", {"findings": "late"}), 409, "investigation")
    # The assignable cause permits a retest, which now counts.
    retest = {"test": "VIAB", "value": "92.0", "unit": "%", "performed_on": "2025-12-02"}
    assert tech.post("/lots/CFM-2025-0003/results", retest).status_code == 201
    kinds = {b["kind"] for b in tech.get("/lots/CFM-2025-0003/evaluation").get_json()["blockers"]}
    assert kinds == {"unverified"}


EXPECTED = {
    "/api/v1/lots/{lot_number}/results": {"get", "post"},
    "/api/v1/lots/{lot_number}/results/import": {"post"},
    "/api/v1/lots/{lot_number}/evaluation": {"get"},
    "/api/v1/results/import": {"post"},
    "/api/v1/results/{result_id}": {"get"},
    "/api/v1/results/{result_id}/verify": {"post"},
    "/api/v1/results/{result_id}/invalidate": {"post"},
    "/api/v1/results/{result_id}/correct": {"post"},
    "/api/v1/banks/{code}/results": {"get", "post"},
    "/api/v1/banks/{code}/evaluation": {"get"},
    "/api/v1/banks/{code}/qualify": {"post"},
    "/api/v1/runs/{code}/passages/{number}/results": {"post"},
    "/api/v1/specs": {"get"},
    "/api/v1/specs/{version_id}": {"get"},
    "/api/v1/specs/{version_id}/approve": {"post"},
    "/api/v1/investigations": {"get"},
    "/api/v1/investigations/{number}": {"get"},
    "/api/v1/investigations/{number}/escalate": {"post"},
    "/api/v1/investigations/{number}/conclude": {"post"},
}


def test_the_openapi_document_describes_the_quality_record(client) -> None:
    doc = json.loads(client.get("/api/v1/openapi.json").get_data(as_text=True))
    for path, methods in EXPECTED.items():
        assert path in doc["paths"], path
        assert methods <= set(doc["paths"][path]), path
    schemas = doc["components"]["schemas"]
    result = set(schemas["ResultOut"]["properties"])
    assert {"id", "test", "analyte", "value", "unit", "verdict", "investigation"} <= result
    evaluation = set(schemas["LotEvaluationOut"]["properties"])
    assert {"releasable", "blockers", "warnings", "spec_version", "tests"} <= evaluation
    assert schemas["IntervalOut"]["properties"]["lower"]["type"] == "string"  # exact, not a float
    body = doc["paths"]["/api/v1/lots/{lot_number}/results/import"]["post"]["requestBody"]
    assert {"multipart/form-data", "text/csv"} <= set(body["content"])
