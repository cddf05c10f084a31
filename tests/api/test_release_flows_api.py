"""End to end through /api/v1: an exceptional release signed by QA and the medical director, a
recall of every lot from a bank with each affected unit and where it is, and a deviation that
blocks release until QA closes it."""

from __future__ import annotations

import pytest

from lotrack.services import audit
from tests.api.conftest import assert_problem, row_counts
from tests.api.test_release_api import signing
from tests.conftest import PASSWORDS
from tests.record_signing import sign_form
from tests.release_setup import make_lot

REQUEST = {
    "physician": "Dr. A. Physician",
    "patient": "SZ-GIMI/SUBJ-001",  # the wristband of the demo's ready patient
    "request": "No alternative therapy; the patient's condition is deteriorating.",
    "requested_on": "2025-10-01",
    "risk_assessment": "Viability 78.9 % against ≥ 80 %: dose adjusted on viable cells.",
}


def er_sign(who: str, meaning: str) -> dict[str, str]:
    return {"username": who, "password": PASSWORDS[who], "meaning": meaning}


def test_exceptional_release_end_to_end(demo_app, as_user) -> None:
    qa, md, tech = as_user("qa"), as_user("md"), as_user("tech")
    assert_problem(md.post("/lots/CFM-2025-0003/exceptional-release", REQUEST), 403)
    assert_problem(
        qa.post("/lots/CFM-2025-0003/exceptional-release", {**REQUEST, "patient": ""}),
        422,
        "patient",
    )
    # The patient is a record, not free text: a subject code alone or an unknown wristband is
    # refused naming the field, and nothing is written.
    before = row_counts(demo_app)
    for text in ("SUBJ-001", "SZ-GIMI/SUBJ-999", "SZ-GIMI-007"):
        body = {**REQUEST, "patient": text}
        refused = assert_problem(qa.post("/lots/CFM-2025-0003/exceptional-release", body), 422)
        assert refused["fields"] == {"patient": "no patient with this wristband (SITE/SUBJECT)"}
    assert row_counts(demo_app) == before
    resp = qa.post("/lots/CFM-2025-0003/exceptional-release", REQUEST)
    assert resp.status_code == 201, resp.get_json()
    er = resp.get_json()
    assert er["status"] == "pending" and er["lot"] == "CFM-2025-0003"
    assert er["number"].startswith("ER-") and any("VIAB" in b for b in er["blockers"])
    assert er["patient"] == "SZ-GIMI/SUBJ-001"
    path = f"/exceptional-releases/{er['number']}"

    # Each signer picks their own meaning; the medical director's alone changes nothing yet.
    before = row_counts(demo_app)
    mine = er_sign("md", "exceptional release approved (QA)")
    assert_problem(md.post(f"{path}/sign", mine), 409, "meaning")
    assert row_counts(demo_app) == before
    resp = md.post(f"{path}/sign", er_sign("md", "exceptional release approved (medical director)"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "QUARANTINE" and resp.get_json()["status"] == "pending"
    assert resp.get_json()["signature"]["signer"] == "md"
    assert_problem(tech.post(f"{path}/sign", er_sign("tech", "reviewed")), 403)

    resp = qa.post(f"{path}/sign", er_sign("qa", "exceptional release approved (QA)"))
    assert resp.status_code == 200, resp.get_json()
    done = resp.get_json()
    assert done["state"] == "EXCEPTIONAL_RELEASE" and done["status"] == "approved"
    assert sorted(s["signer"] for s in done["signatures"]) == ["md", "qa"]
    assert not any(s["void"] for s in done["signatures"])
    assert tech.get("/lots/CFM-2025-0003").get_json()["state"] == "EXCEPTIONAL_RELEASE"
    assert qa.get("/lots/CFM-2025-0003/release").get_json()["exceptional_releases"] == [
        {"number": er["number"], "status": "approved"}
    ]

    told = {
        "recipient_role": "physician",
        "recipient": "Dr. A. Physician",
        "method": "phone",
        "notified_at": "2025-10-02T09:30:00+02:00",
    }
    assert_problem(
        qa.post(f"{path}/notifications", {**told, "notified_at": "2025-10-02T09:30:00"}),
        422,
        "notified_at",
    )
    assert_problem(
        qa.post(f"{path}/notifications", {**told, "recipient_role": "press"}), 422, "recipient_role"
    )
    resp = qa.post(f"{path}/notifications", told)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["notified_at"] == "2025-10-02T07:30:00+00:00"
    shown = tech.get(path).get_json()
    assert [n["recipient"] for n in shown["notifications"]] == ["Dr. A. Physician"]
    assert_problem(qa.post(f"{path}/withdraw", {"reason": "too late"}), 409, "number")


def test_a_pending_exceptional_release_can_be_withdrawn(demo_app, qa) -> None:
    resp = qa.post("/lots/CFM-2025-0002/exceptional-release", REQUEST)
    assert resp.status_code == 201, resp.get_json()
    path = f"/exceptional-releases/{resp.get_json()['number']}"
    assert_problem(qa.post(f"{path}/withdraw", {}), 422, "reason")
    resp = qa.post(f"{path}/withdraw", {"reason": "the patient was treated otherwise"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "withdrawn"
    assert_problem(
        qa.post(f"{path}/sign", er_sign("qa", "exceptional release approved (QA)")), 409, "number"
    )
    assert_problem(qa.get("/exceptional-releases/ER-1999-001"), 404, "number")


def test_a_releasable_lot_needs_no_exceptional_release(demo_app, qa) -> None:
    number = make_lot(demo_app)
    before = row_counts(demo_app)
    resp = qa.post(f"/lots/{number}/exceptional-release", REQUEST)
    assert "release it the ordinary way" in assert_problem(resp, 409, "lot")["message"]
    assert row_counts(demo_app) == before


def test_recall_of_a_bank_reaches_every_lot_and_lists_each_unit_and_where_it_is(
    demo_app, qa, tech
) -> None:
    before = row_counts(demo_app)
    assert_problem(qa.post("/banks/WCB-001-A/recall", signing("qa", "recall", reason="")), 422)
    assert_problem(qa.post("/banks/WCB-999/recall", signing("qa", "recall")), 404, "bank")
    assert row_counts(demo_app) == before

    resp = qa.post("/banks/WCB-001-A/recall", signing("qa", "recall", reason="donor look-back"))
    assert resp.status_code == 201, resp.get_json()
    record = resp.get_json()
    assert record["number"].startswith("RCL-") and record["kind"] == "recall"
    assert record["bank"] == "WCB-001-A" and record["reason"] == "donor look-back"
    moved = {r["lot"]: (r["from_state"], r["to_state"]) for r in record["lots"]}
    assert moved == {  # CFM-2025-0003 was made on the other working bank (WCB-001-B)
        "CFM-2025-0001": ("RELEASED", "RECALLED"),
        "CFM-2025-0002": ("QUARANTINE", "ON_HOLD"),  # never released: kept from release
    }
    units = record["units"]
    assert len(units) == 4 + 3 and {u["lot"] for u in units} == set(moved)
    assert sorted(u["state"] for u in units).count("received") == 1  # the demo patient's bag
    for unit in units:
        assert len(unit["din"]) == 13 and unit["check_character"]
        # Where to look: the storage position while it is stored; where it went once it left.
        if unit["state"] == "stored":
            assert unit["freezer"] and unit["rack"] and unit["box"] and "position" in unit
        else:
            assert unit["freezer"] is None and unit["site"] == "SZ-GIMI"
            assert unit["where"] == "received at SZ-GIMI"
        assert tech.get(f"/units/{unit['din']}").get_json()["lot_state"] == unit["lot_state"]
    assert {u["lot_state"] for u in units} == {"RECALLED", "ON_HOLD"}
    assert {(s["action"], s["meaning"]) for s in record["signatures"]} == {
        ("recall", "recalled"),
        ("hold", "placed on hold"),
    }
    assert len(record["signatures"]) == 2

    listed = tech.get("/containments").get_json()
    assert [c["number"] for c in listed["items"]] == [record["number"]]
    shown = tech.get(f"/containments/{record['number'].lower()}").get_json()
    assert shown["units"] == units and shown["lots"] == record["lots"]
    told = {**TOLD, "recipient_role": "site", "recipient": "SZ-GIMI pharmacy"}
    assert_problem(
        qa.post(
            f"/containments/{record['number']}/notifications",
            {**told, "notified_at": "2999-01-01T00:00:00Z"},
        ),
        422,
        "notified_at",
    )
    resp = qa.post(f"/containments/{record['number']}/notifications", told)
    assert resp.status_code == 201, resp.get_json()
    shown = tech.get(f"/containments/{record['number']}").get_json()
    assert [n["recipient"] for n in shown["notifications"]] == ["SZ-GIMI pharmacy"]
    assert_problem(qa.post("/banks/WCB-001-A/recall", signing("qa", "recall")), 409)
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert audit.verify(s).ok


def test_a_deviation_blocks_release_until_qa_closes_it(demo_app, as_user) -> None:
    qa, tech = as_user("qa"), as_user("tech")
    number = make_lot(demo_app)
    resp = tech.post("/deviations", {"lot": number.lower(), "description": "incubator door ajar"})
    assert resp.status_code == 201, resp.get_json()
    dev = resp.get_json()
    assert dev["status"] == "open" and dev["lot"] == number and dev["run"] is None
    review = qa.get(f"/lots/{number}/release").get_json()
    assert review["releasable"] is False
    assert [b["kind"] for b in review["blockers"]] == ["deviation"]
    assert [d["number"] for d in review["deviations"]] == [dev["number"]]
    refused = assert_problem(qa.post(f"/lots/{number}/release", signing("qa", "release")), 409)
    assert dev["number"] in refused["fields"]["blocker 1"]

    path = f"/deviations/{dev['number']}"
    closing = sign_form("qa", "closed")
    assert_problem(tech.post(f"{path}/close", {"closure": "fine", **closing}), 403)
    assert_problem(
        qa.post(f"{path}/close", {"closure": "fine", **closing}), 422, "impact_assessment"
    )
    resp = tech.post(f"{path}/assess", {"impact_assessment": "temperature stayed in range"})
    assert resp.status_code == 200, resp.get_json()
    resp = qa.post(f"{path}/close", {"closure": "door alarm serviced", **closing})
    assert resp.status_code == 200, resp.get_json()
    closed = resp.get_json()
    assert closed["status"] == "closed" and closed["closed_by"] == "qa" and closed["closed_at"]
    assert closed["signature"]["meaning"] == "closed" and closed["signature"]["signer"] == "qa"
    assert_problem(qa.post(f"{path}/close", {"closure": "again", **closing}), 409, "deviation")
    assert [d["number"] for d in tech.get("/deviations?status=closed").get_json()["items"]] == [
        dev["number"]
    ]

    resp = qa.post(f"/lots/{number}/release", signing("qa", "release"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "RELEASED"


def test_a_deviation_on_a_run_blocks_every_lot_of_the_run(demo_app, as_user) -> None:
    qa, tech = as_user("qa"), as_user("tech")
    number = make_lot(demo_app)
    resp = tech.post("/deviations", {"run": "RUN-2025-01", "description": "media lot expired"})
    assert resp.status_code == 201 and resp.get_json()["run"] == "RUN-2025-01"
    assert qa.get(f"/lots/{number}/release").get_json()["releasable"] is False
    assert [d["status"] for d in tech.get("/deviations?status=open").get_json()["items"]] == [
        "open"
    ]


BAD_DEVIATIONS = {
    "neither lot nor run": ({"description": "x"}, "lot"),
    "both lot and run": ({"lot": "CFM-2025-0002", "run": "RUN-2025-01", "description": "x"}, "run"),
    "unknown lot": ({"lot": "CFM-1999-0001", "description": "x"}, "lot"),
    "unknown run": ({"run": "RUN-1999-01", "description": "x"}, "run"),
    "no description": ({"lot": "CFM-2025-0002"}, "description"),
}


@pytest.mark.parametrize("case", list(BAD_DEVIATIONS))
def test_a_bad_deviation_is_refused_naming_the_field(demo_app, tech, case) -> None:
    body, field = BAD_DEVIATIONS[case]
    before = row_counts(demo_app)
    assert_problem(tech.post("/deviations", body), 422, field)
    assert row_counts(demo_app) == before


def test_deviation_reads(tech, as_user) -> None:
    assert_problem(tech.get("/deviations?status=pending"), 422, "status")
    assert_problem(tech.get("/deviations/DEV-1999-001"), 404, "deviation")
    assert_problem(as_user("nurse").get("/deviations"), 403)
    assert_problem(as_user(None).get("/lots/CFM-2025-0001/release"), 401)


RELEASE = signing("qa", "release")
TOLD = {
    "recipient_role": "sponsor",
    "recipient": "Sponsor safety desk",
    "method": "e-mail",
    "notified_at": "2025-10-02T09:30:00Z",
}
# (path, body, status, field)
# fmt: off
BAD_INPUT = {
    "request dated in the future": (
        "/lots/CFM-2025-0003/exceptional-release",
        {**REQUEST, "requested_on": "2999-01-01"},
        422,
        "requested_on",
    ),
    "request date not a date": (
        "/lots/CFM-2025-0003/exceptional-release",
        {**REQUEST, "requested_on": "soon"},
        422,
        "requested_on",
    ),
    "password with NUL": ("/lots/CFM-2025-0002/release", {**RELEASE, "password": "x\x00"}, 422,
                          "password"),
    "password a number": ("/lots/CFM-2025-0002/release", {**RELEASE, "password": 123}, 422,
                          "password"),
    "password too long": ("/lots/CFM-2025-0002/release", {**RELEASE, "password": "x" * 201}, 422,
                          "password"),
    "hold signed as a recall": ("/banks/WCB-001-A/hold", signing("qa", "recall"), 409, "meaning"),
    "recall signed as a hold": ("/lots/CFM-2025-0001/recall", signing("qa", "hold"), 409,
                                "meaning"),
    "unknown hold or recall": ("/containments/RCL-1999-001/notifications", TOLD, 404, "number"),
    "unknown request": ("/exceptional-releases/ER-1999-001/notifications", TOLD, 404, "number"),
    "unknown deviation": ("/deviations/DEV-1999-001/assess", {"impact_assessment": "x"}, 404,
                          "deviation"),
    "body null": ("/lots/CFM-2025-0002/reject", None, 422, "body"),
}
# fmt: on


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_to_decisions_is_refused_naming_the_field(demo_app, qa, case) -> None:
    path, body, status, field = BAD_INPUT[case]
    before = row_counts(demo_app)
    if body is None:
        resp = qa.post(path, data="null", content_type="application/json")
    else:
        resp = qa.post(path, body)
    assert_problem(resp, status, field)
    assert row_counts(demo_app) == before


def test_bad_reads_are_refused_naming_the_field(tech) -> None:
    assert_problem(tech.get("/containments?page=0"), 422, "page")
    assert_problem(tech.get("/containments/RCL-1999-001"), 404, "number")
    assert_problem(tech.get("/lots/CFM-1999-0001/timeline.csv"), 404, "lot")
    assert_problem(tech.get("/lots/CFM-1999-0001/signatures"), 404, "lot")
