"""Lookback and what waits on a decision, through /api/v1: QA's "needs decision" queue (every lot
ON_HOLD with the hold record that put it there, paginated like every list), the lookback record in
the containment views and the review, a hold lifted only by a new signed decision on the dossier
as it stands; and the treating physician's signed acceptance of an exceptional release for their
patient, with what is still missing before the first allocation."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from lotrack.domain.decisions import Action
from lotrack.services import deviation, release
from lotrack.services import lot as lots
from lotrack.services.release import SignIn
from tests import clinical_setup as cs
from tests.api.conftest import Api, assert_problem, row_counts
from tests.api.test_release_api import signing
from tests.conftest import PASSWORDS, counting, login, user
from tests.release_setup import make_lot

DEMO_LOT = "CFM-2025-0001"  # released, from donor FD-0001
QUARANTINED = "CFM-2025-0002"
INELIGIBLE = {
    "determination": "ineligible",
    "responsible_person": "Demo Medical Director",
    "reason": "look-back: HBV NAT reactive on a retained sample",
}
ACCEPTED = "exceptional release accepted (treating physician)"
REQUEST = {
    "physician": "Dr. A. Physician",
    "patient": cs.READY,
    "request": "No alternative therapy; the patient's condition is deteriorating.",
    "requested_on": "2025-10-01",
    "risk_assessment": "Viability 78.9 % against ≥ 80 %: dose adjusted on viable cells.",
}
SPONSOR = {
    "recipient_role": "sponsor",
    "recipient": "Sponsor pharmacovigilance",
    "method": "e-mail",
    "notified_at": "2025-10-02T09:30:00Z",
}


def _held_twice(qa: Api) -> None:
    """QA holds the quarantined lot; then the donor's ineligibility holds the released one."""
    resp = qa.post(f"/lots/{QUARANTINED}/hold", signing("qa", "hold", reason="freezer alarm"))
    assert resp.status_code == 200, resp.get_json()
    resp = qa.post("/donors/FD-0001/determination", INELIGIBLE)
    assert resp.status_code == 200, resp.get_json()


def test_the_needs_decision_queue_lists_every_held_lot_with_its_hold_record(
    demo_app: Flask, qa: Api, tech: Api
) -> None:
    assert tech.get("/lots/needs-decision").get_json() == {
        "items": [], "page": 1, "per_page": 50, "total": 0, "pages": 1,
    }  # fmt: skip
    _held_twice(qa)
    queue = tech.get("/lots/needs-decision").get_json()
    assert (queue["total"], queue["pages"]) == (2, 1)
    held, looked_back = queue["items"]  # the longest-waiting first
    assert (held["lot_number"], held["state"], held["held_from"]) == (
        QUARANTINED, "ON_HOLD", "QUARANTINE",
    )  # fmt: skip
    hold = held["hold"]
    assert hold["number"].startswith("HLD-") and hold["kind"] == "hold"
    assert hold["reason"] == "freezer alarm" and hold["created_by"] == "qa"
    assert (hold["trigger_entity"], hold["trigger_id"], hold["trigger"]) == (None, None, None)
    assert (looked_back["lot_number"], looked_back["held_from"]) == (DEMO_LOT, "RELEASED")
    hold = looked_back["hold"]
    assert hold["number"].startswith("LBK-") and hold["kind"] == "lookback"
    assert hold["trigger_entity"] == "donor" and hold["trigger"] == "donor FD-0001"
    assert "Donor FD-0001 determined ineligible" in hold["reason"]
    assert "Donor FD-0001 is ineligible." in hold["reason"]  # the blockers it raised
    assert hold["created_by"] == "qa" and hold["created_at"].endswith("+00:00")

    first = tech.get("/lots/needs-decision?per_page=1").get_json()
    second = tech.get("/lots/needs-decision?per_page=1&page=2").get_json()
    assert (first["total"], first["pages"]) == (2, 2)
    assert [first["items"][0]["lot_number"], second["items"][0]["lot_number"]] == [
        QUARANTINED, DEMO_LOT,
    ]  # fmt: skip
    assert_problem(tech.get("/lots/needs-decision?page=0"), 422, "page")
    assert_problem(tech.get("/lots/needs-decision?per_page=501"), 422, "per_page")


@pytest.mark.parametrize("who", [None, "nurse"])
def test_the_queue_is_the_manufacturing_record(as_user, who: str | None) -> None:
    assert_problem(as_user(who).get("/lots/needs-decision"), 401 if who is None else 403)


def test_a_lookback_record_names_its_trigger_and_a_hold_lifts_only_on_a_new_decision(
    demo_app: Flask, qa: Api, tech: Api
) -> None:
    _held_twice(qa)
    number = tech.get("/lots/needs-decision").get_json()["items"][1]["hold"]["number"]
    record = tech.get(f"/containments/{number}").get_json()
    assert record["kind"] == "lookback" and record["lot"] == DEMO_LOT
    assert (record["trigger_entity"], record["trigger"]) == ("donor", "donor FD-0001")
    assert record["lots"] == [
        {"lot": DEMO_LOT, "from_state": "RELEASED", "to_state": "ON_HOLD", "state": "ON_HOLD"}
    ]
    assert record["signatures"] == []  # nobody signed it: a fact put it there
    listed = {c["number"]: c for c in tech.get("/containments").get_json()["items"]}
    assert listed[number]["kind"] == "lookback" and listed[number]["trigger_entity"] == "donor"
    review = tech.get(f"/lots/{DEMO_LOT}/release").get_json()
    assert review["hold"]["number"] == number
    assert {"number": number, "kind": "lookback"} in review["containments"]

    before = row_counts(demo_app)
    refused = assert_problem(qa.post(f"/lots/{DEMO_LOT}/unhold", signing("qa", "unhold")), 409)
    assert refused["fields"] == {"blocker 1": "Donor FD-0001 is ineligible."}
    assert row_counts(demo_app) == before

    eligible = {**INELIGIBLE, "determination": "eligible", "reason": "retest negative"}
    resp = qa.post("/donors/FD-0001/determination", eligible)
    assert resp.status_code == 200, resp.get_json()
    resp = qa.post(f"/lots/{DEMO_LOT}/unhold", signing("qa", "unhold"))
    assert resp.status_code == 200, resp.get_json()
    done = resp.get_json()
    assert done["state"] == "RELEASED" and done["signature"]["meaning"] == "hold lifted"
    assert [i["lot_number"] for i in tech.get("/lots/needs-decision").get_json()["items"]] == [
        QUARANTINED
    ]
    assert tech.get(f"/lots/{DEMO_LOT}/release").get_json()["hold"] is None


def _approved(qa: Api, md: Api) -> str:
    """An exceptional release of CFM-2025-0003 for SZ-GIMI/SUBJ-001, signed by QA and the MD."""
    resp = qa.post("/lots/CFM-2025-0003/exceptional-release", REQUEST)
    assert resp.status_code == 201, resp.get_json()
    number = resp.get_json()["number"]
    for who, meaning in (
        (qa, "exceptional release approved (QA)"),
        (md, "exceptional release approved (medical director)"),
    ):
        name = "qa" if who is qa else "md"
        body = {"username": name, "password": PASSWORDS[name], "meaning": meaning}
        resp = who.post(f"/exceptional-releases/{number}/sign", body)
        assert resp.status_code == 200, resp.get_json()
    return number


def accept(username: str, **extra: Any) -> dict[str, Any]:
    password = PASSWORDS.get(username, f"demo-{username}-password")
    return {"username": username, "password": password, "meaning": ACCEPTED, **extra}


def test_the_treating_physician_accepts_an_exceptional_release_under_signature(
    demo_app: Flask, as_user
) -> None:
    qa, md, nurse = as_user("qa"), as_user("md"), as_user("nurse")
    number = _approved(qa, md)
    path = f"/exceptional-releases/{number}"
    shown = qa.get(path).get_json()
    assert shown["status"] == "approved" and shown["patient"] == cs.READY
    assert (shown["acceptance"], shown["awaiting_acceptance"]) == (None, True)
    assert shown["before_allocation"] == [
        f"the treating physician has not accepted {number}",
        f"the sponsor's notification of {number} is not logged",
    ]
    mine = nurse.get(f"/patients/{cs.READY}/exceptional-releases").get_json()
    assert mine["patient"] == cs.READY
    assert [(e["number"], e["awaiting_acceptance"]) for e in mine["items"]] == [(number, True)]

    resp = nurse.post(f"{path}/accept", accept("nurse", reason="for my patient"))
    assert resp.status_code == 200, resp.get_json()
    done = resp.get_json()
    assert done["signature"]["signer"] == "nurse" and done["signature"]["meaning"] == ACCEPTED
    assert done["acceptance"]["signer"] == "nurse" and done["acceptance"]["signed_at"]
    assert done["awaiting_acceptance"] is False
    assert done["before_allocation"] == [f"the sponsor's notification of {number} is not logged"]
    assert_problem(nurse.post(f"{path}/accept", accept("nurse")), 409, "number")

    resp = qa.post(f"{path}/notifications", SPONSOR)
    assert resp.status_code == 201, resp.get_json()
    assert qa.get(path).get_json()["before_allocation"] == []
    mine = nurse.get(f"/patients/{cs.READY}/exceptional-releases").get_json()
    assert mine["items"][0]["acceptance"]["signer_name"] == "Demo Site Nurse"


def test_each_way_around_the_acceptance_is_refused_naming_the_field(
    demo_app: Flask, as_user
) -> None:
    qa, md, nurse = as_user("qa"), as_user("md"), as_user("nurse")
    number = _approved(qa, md)
    path = f"/exceptional-releases/{number}/accept"
    beijing = Api(nurse.client, cs.site_user(demo_app))
    before = row_counts(demo_app)
    for who, body, status, field in (
        (as_user("tech"), accept("tech"), 403, None),  # not clinical staff
        (qa, accept("qa"), 403, None),
        (md, accept("md"), 403, None),
        (nurse, accept("nurse", meaning="accepted"), 422, "meaning"),  # no such meaning
        (nurse, accept("nurse", meaning="exceptional release approved (QA)"), 409, "meaning"),
        (nurse, accept("nurse2"), 403, "username"),  # someone else's name
        (nurse, {"username": "nurse", "meaning": ACCEPTED}, 422, "password"),
        (beijing, accept("nurse-bj"), 403, "username"),  # not the patient's site
    ):
        assert_problem(who.post(path, body), status, field)
    assert_problem(nurse.post("/exceptional-releases/ER-1999-001/accept", accept("nurse")), 404)
    assert_problem(beijing.get(f"/patients/{cs.READY}/exceptional-releases"), 404, "patient")
    assert row_counts(demo_app) == before

    refused = assert_problem(nurse.post(path, accept("nurse", password="wrong-pass")), 403)
    assert refused["fields"] == {"password": "wrong password"}
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert user(s, "nurse").failed_signings == 1  # kept: it counts toward the signing lock
    assert qa.get(f"/exceptional-releases/{number}").get_json()["acceptance"] is None


def test_a_withdrawn_request_awaits_nobody(demo_app: Flask, as_user) -> None:
    qa, nurse = as_user("qa"), as_user("nurse")
    resp = qa.post(f"/lots/{QUARANTINED}/exceptional-release", REQUEST)
    assert resp.status_code == 201, resp.get_json()
    number = resp.get_json()["number"]
    assert qa.post(f"/exceptional-releases/{number}/withdraw", {"reason": "x"}).status_code == 200
    mine = nurse.get(f"/patients/{cs.READY}/exceptional-releases").get_json()
    assert [(e["status"], e["awaiting_acceptance"]) for e in mine["items"]] == [
        ("withdrawn", False)
    ]
    assert_problem(nurse.post(f"/exceptional-releases/{number}/accept", accept("nurse")), 409)


def test_the_new_operations_document_their_answers(client) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, method, statuses in (
        ("/api/v1/lots/needs-decision", "get", {"200", "401", "403", "422"}),
        (
            "/api/v1/exceptional-releases/{number}/accept",
            "post",
            {"200", "400", "401", "403", "404", "409", "413", "422"},
        ),
        (
            "/api/v1/patients/{wristband}/exceptional-releases",
            "get",
            {"200", "401", "403", "404"},
        ),
    ):
        # 414 (gunicorn's, before the app) is on every operation (test_schemathesis_live.py)
        documented = set(doc["paths"][path][method]["responses"]) - {"default", "414"}
        assert documented == statuses, path
    schemas = doc["components"]["schemas"]
    assert set(schemas["HeldLotOut"]["properties"]) == {"lot_number", "state", "held_from", "hold"}
    assert {"number", "kind", "reason", "trigger_entity", "trigger_id", "created_at",
            "created_by"} <= set(schemas["HoldOut"]["properties"])  # fmt: skip
    patient = schemas["ExceptionalIn"]["properties"]["patient"]["description"]
    assert "wristband" in patient and "existing patient record" in patient


def _statements(app: Flask, get: Any, path: str) -> int:
    get(path)  # warm-up: caches filled once, not counted
    with counting(app) as seen:
        assert get(path).status_code == 200
    return len(seen)


def _released_with_a_deviation(app: Flask) -> None:
    """A lot released, then a deviation opened against it: a lookback of kind "deviation"."""
    number = make_lot(app)
    with app.extensions["lotrack_db"].sessionmaker() as s:
        lot = lots.get_lot(s, number)
        sign = SignIn("qa", PASSWORDS["qa"], "approved for release")
        release.decide(s, user(s, "qa"), lot, Action.RELEASE, sign, cs.LOCKOUT)
        deviation.open_deviation(s, user(s, "tech"), lot=lot, description="label misprint")
        s.commit()


def _withdrawn_request(qa: Api) -> None:
    resp = qa.post("/lots/CFM-2025-0003/exceptional-release", REQUEST)
    assert resp.status_code == 201, resp.get_json()
    path = f"/exceptional-releases/{resp.get_json()['number']}/withdraw"
    assert qa.post(path, {"reason": "treated otherwise"}).status_code == 200


def test_the_queue_and_a_patients_requests_cost_the_same_statements_at_any_length(
    demo_app: Flask, as_user
) -> None:
    qa, nurse = as_user("qa"), as_user("nurse")
    web, bedside = demo_app.test_client(), demo_app.test_client()
    login(web, "qa")
    login(bedside, "nurse")
    paths = (
        (qa.get, "/lots/needs-decision"),
        (web.get, "/"),
        (web.get, "/containments"),
        (nurse.get, f"/patients/{cs.READY}/exceptional-releases"),
        (bedside.get, f"/patients/{cs.READY}"),
    )
    _released_with_a_deviation(demo_app)
    _withdrawn_request(qa)
    small = [_statements(demo_app, get, path) for get, path in paths]
    for _ in range(2):
        _released_with_a_deviation(demo_app)
        _withdrawn_request(qa)
    assert qa.get("/lots/needs-decision").get_json()["total"] == 3
    assert len(nurse.get(paths[3][1]).get_json()["items"]) == 3
    assert [_statements(demo_app, get, path) for get, path in paths] == small
