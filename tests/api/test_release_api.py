"""QA decisions through /api/v1: a release under signature answers the lot's new state and the
signature; every way around the rules (a technician, signing for someone else, self-release,
blockers, a wrong meaning, a lot decided first, a wrong password, a locked account) is refused as
JSON with its reason and writes nothing but the failure count; the review, signatures and audit
timeline (JSON and CSV) read back what was signed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lotrack.models import Lot, Signature, User
from lotrack.services import accounts, api_tokens, result
from lotrack.services import lot as lots
from tests.api.conftest import PREFIX, Api, assert_problem, row_counts
from tests.conftest import PASSWORDS, user
from tests.release_setup import make_lot

MEANING = {
    "release": "approved for release",
    "reject": "rejected",
    "unhold": "hold lifted",
    "review": "reviewed",
    "hold": "placed on hold",
    "recall": "recalled",
}


def add_user(app: Flask, username: str, role: str = "qa") -> tuple[str, str]:
    """A second person of a role; returns (their API token, their password)."""
    password = f"{username}-long-password"
    with app.extensions["lotrack_db"].sessionmaker() as s:
        made = accounts.create_user(
            s,
            None,
            username=username,
            full_name=f"User {username}",
            role=role,
            password=password,
            must_change_password=False,
        )
        s.flush()
        token = api_tokens.create_token(s, None, made)
        s.commit()
    return token, password


def signing(username: str, action: str, **extra: Any) -> dict[str, Any]:
    body = {
        "username": username,
        "password": PASSWORDS.get(username, ""),
        "meaning": MEANING[action],
    }
    if action != "release" and action != "review":
        body["reason"] = "dossier reviewed"
    return {**body, **extra}


def lot_state(app: Flask, number: str) -> tuple[str, int]:
    """The lot's state and how many signatures it carries."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        lot = s.scalars(select(Lot).where(Lot.lot_number == number)).one()
        count = len(s.scalars(select(Signature.id).where(Signature.lot_id == lot.id)).all())
        return lot.state, count


def account(app: Flask, username: str) -> tuple[int, bool]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        u = s.scalars(select(User).where(User.username == username)).one()
        return u.failed_signings, u.signing_locked_until is not None


def test_qa_releases_a_releasable_lot_and_reads_back_the_signature(demo_app, qa, tech) -> None:
    number = make_lot(demo_app)
    review = qa.get(f"/lots/{number}/release").get_json()
    assert review["state"] == "QUARANTINE" and review["releasable"] is True
    assert review["blockers"] == [] and review["signatures"] == []
    assert review["spec_version"]["label"] == "cfMSC release v1"

    resp = qa.post(f"/lots/{number}/release", signing("qa", "release", reason="all met"))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["lot_number"] == number and body["state"] == "RELEASED"
    sig = body["signature"]
    assert sig["signer"] == "qa" and sig["signer_name"] == "Demo QA Reviewer"
    assert sig["meaning"] == "approved for release" and sig["action"] == "release"
    assert dt.datetime.fromisoformat(sig["signed_at"]).utcoffset() == dt.timedelta(0)
    assert re.fullmatch(r"[0-9a-f]{64}", sig["dossier_sha256"])
    assert "password" not in resp.get_data(as_text=True)
    assert lot_state(demo_app, number) == ("RELEASED", 1)
    assert tech.get(f"/lots/{number}").get_json()["state"] == "RELEASED"

    shown = tech.get(f"/lots/{number}/signatures").get_json()["items"]
    assert [(s["id"], s["void"]) for s in shown] == [(sig["id"], False)]
    entries = tech.get(f"/lots/{number}/timeline").get_json()["items"]
    released = [e for e in entries if e["action"] == "release"]
    assert len(released) == 1 and released[0]["actor"] == "qa"
    assert "QUARANTINE → RELEASED" in released[0]["changes"]
    assert dt.datetime.fromisoformat(released[0]["at"]).utcoffset() == dt.timedelta(0)

    resp = tech.get(f"/lots/{number}/timeline.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == ["seq", "at_utc", "actor", "action", "record", "changes", "reason"]
    assert [r[2] for r in rows[1:] if r[3] == "release"] == ["qa"]


def test_a_review_signature_turns_void_when_the_dossier_changes(demo_app, qa) -> None:
    resp = qa.post("/lots/CFM-2025-0004/review", signing("qa", "review"))
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["state"] == "QUARANTINE"
    assert [s["void"] for s in qa.get("/lots/CFM-2025-0004/signatures").get_json()["items"]] == [
        False
    ]
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        lot = lots.get_lot(s, "CFM-2025-0004")
        result.record_result(
            s,
            user(s, "tech"),
            lot,
            test="APPEARANCE",
            value="Conforms",
            performed_on=lot.harvested_on,
        )
        s.commit()
    review = qa.get("/lots/CFM-2025-0004/release").get_json()
    assert [s["void"] for s in review["signatures"]] == [True]


FRESH = "a fresh releasable lot"
REL, OOS = "CFM-2025-0001", "CFM-2025-0003"  # released by qa; failing VIAB with an open OOS
QA = signing("qa", "release")
# case: (token user, lot, action, body, status, field the refusal names)
# fmt: off
REFUSALS: dict[str, tuple[str, str, str, Any, int, str]] = {
    "technician token": ("tech", FRESH, "release", signing("tech", "release"), 403, ""),
    "medical director token": ("md", FRESH, "release", signing("md", "release"), 403, ""),
    "signing for someone else": ("qa", FRESH, "release", signing("tech2", "release"), 403,
                                 "username"),
    "blockers": ("qa", OOS, "release", QA, 409, "blocker 1"),
    "meaning of another action": ("qa", FRESH, "release", {**QA, "meaning": "rejected"}, 409,
                                  "meaning"),
    "meaning unknown": ("qa", FRESH, "release", {**QA, "meaning": "ok"}, 422, "meaning"),
    "decided first": ("qa", REL, "release", QA, 409, "state"),
    "reject a released lot": ("qa", REL, "reject", signing("qa", "reject"), 409, "state"),
    "unhold a lot not held": ("qa", FRESH, "unhold", signing("qa", "unhold"), 409, "state"),
    "reject without a reason": ("qa", FRESH, "reject", {**QA, "meaning": "rejected"}, 422,
                                "reason"),
    "no password": ("qa", FRESH, "release", {**QA, "password": ""}, 422, "password"),
    "unknown field": ("qa", FRESH, "release", {**QA, "pin": "1234"}, 422, "pin"),
    "unknown lot": ("qa", "CFM-1999-0001", "release", QA, 404, "lot"),
    "body not an object": ("qa", FRESH, "release", ["qa"], 422, "body"),
}
# fmt: on


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_way_around_the_rules_is_refused_with_its_reason_and_writes_nothing(
    demo_app, as_user, case
) -> None:
    who, number, action, body, status, field = REFUSALS[case]
    if number == FRESH:
        number = make_lot(demo_app)
    before = row_counts(demo_app)
    resp = as_user(who).post(f"/lots/{number}/{action}", body)
    problem = assert_problem(resp, status, field or None)
    assert row_counts(demo_app) == before
    assert PASSWORDS["qa"] not in resp.get_data(as_text=True)
    if field == "blocker 1":  # every blocker named, the failing viability among them
        assert "blocker 2" in problem["fields"], problem
        assert any("VIAB" in reason for reason in problem["fields"].values()), problem


def test_whoever_verified_a_result_cannot_release_the_lot(demo_app, qa) -> None:
    number = make_lot(demo_app, unverified="BSA")
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        bsa = next(r for r in result.results_of(s, lots.get_lot(s, number)) if r.analyte == "BSA")
        result.verify_result(s, user(s, "qa"), bsa)
        s.commit()
    before = row_counts(demo_app)
    resp = qa.post(f"/lots/{number}/release", signing("qa", "release"))
    problem = assert_problem(resp, 409, "username")
    assert "You verified results of this lot" in problem["message"]
    assert row_counts(demo_app) == before
    assert lot_state(demo_app, number) == ("QUARANTINE", 0)


def test_wrong_passwords_lock_signing_then_even_the_right_one_fails_but_the_token_reads(
    demo_app, qa
) -> None:
    number = make_lot(demo_app)
    for attempt in range(1, 5):
        before = row_counts(demo_app)
        resp = qa.post(f"/lots/{number}/release", signing("qa", "release", password="guess"))
        problem = assert_problem(resp, 403, "password")
        assert problem["error"] == "signature_refused"
        assert "nothing was signed" in problem["message"]
        assert account(demo_app, "qa") == (attempt, False)  # committed although refused
        after = row_counts(demo_app)
        assert after["signature"] == before["signature"]
        assert after["audit_event"] == before["audit_event"] + 2  # signing_failed, refused
    assert_problem(
        qa.post(f"/lots/{number}/release", signing("qa", "release", password="guess")), 403
    )
    assert account(demo_app, "qa")[1]
    # Right, too late: signing is locked (issue 16); the token still reads, it proves no password.
    resp = qa.post(f"/lots/{number}/release", signing("qa", "release"))
    problem = assert_problem(resp, 403, "password")
    assert "signing is locked" in problem["message"]
    assert lot_state(demo_app, number) == ("QUARANTINE", 0)
    assert qa.get(f"/lots/{number}").status_code == 200


def test_hold_and_unhold_return_the_lot_to_where_it_was(demo_app, qa, tech) -> None:
    resp = qa.post("/lots/CFM-2025-0001/hold", signing("qa", "hold"))
    assert resp.status_code == 200, resp.get_json()
    held = resp.get_json()
    assert held["state"] == "ON_HOLD" and held["held_from"] == "RELEASED"
    assert held["containment"].startswith("HLD-")
    assert held["signature"]["meaning"] == "placed on hold"
    din = tech.get("/lots/CFM-2025-0001").get_json()["units"][0]["din"]
    assert tech.get(f"/units/{din}").get_json()["lot_state"] == "ON_HOLD"

    before = row_counts(demo_app)
    no_reason = {**signing("qa", "unhold"), "reason": "  "}
    assert_problem(qa.post("/lots/CFM-2025-0001/unhold", no_reason), 422, "reason")
    assert_problem(qa.post("/lots/CFM-2025-0001/release", signing("qa", "release")), 409, "state")
    assert row_counts(demo_app) == before
    resp = qa.post("/lots/CFM-2025-0001/unhold", signing("qa", "unhold"))
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["state"] == "RELEASED" and resp.get_json()["held_from"] is None
    assert lot_state(demo_app, "CFM-2025-0001") == ("RELEASED", 3)


@pytest.mark.parametrize("who", ["tech", "nurse", "admin"])
def test_only_qa_may_hold_or_recall(demo_app, as_user, who) -> None:
    before = row_counts(demo_app)
    for path in ("/lots/CFM-2025-0001/hold", "/lots/CFM-2025-0001/recall", "/banks/MCB-001/recall"):
        assert_problem(as_user(who).post(path, signing(who, "recall")), 403)
    assert row_counts(demo_app) == before


def test_a_signer_types_their_username_in_any_case(demo_app, client) -> None:
    token, password = add_user(demo_app, "qa2")
    number = make_lot(demo_app)
    qa2 = Api(client, token)
    resp = qa2.post(
        f"/lots/{number}/release",
        {"username": "QA2", "password": password, "meaning": "approved for release"},
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["signature"]["signer"] == "qa2"


DECISION_PATHS = {
    "/lots/{lot_number}/release": {"get", "post"},
    "/lots/{lot_number}/reject": {"post"},
    "/lots/{lot_number}/hold": {"post"},
    "/lots/{lot_number}/recall": {"post"},
    "/lots/{lot_number}/unhold": {"post"},
    "/lots/{lot_number}/review": {"post"},
    "/lots/{lot_number}/signatures": {"get"},
    "/lots/{lot_number}/timeline": {"get"},
    "/lots/{lot_number}/timeline.csv": {"get"},
    "/lots/{lot_number}/exceptional-release": {"post"},
    "/exceptional-releases/{number}": {"get"},
    "/exceptional-releases/{number}/sign": {"post"},
    "/exceptional-releases/{number}/notifications": {"post"},
    "/exceptional-releases/{number}/withdraw": {"post"},
    "/exceptional-releases/{number}/accept": {"post"},
    "/patients/{wristband}/exceptional-releases": {"get"},
    "/lots/needs-decision": {"get"},
    "/banks/{code}/hold": {"post"},
    "/banks/{code}/recall": {"post"},
    "/containments": {"get"},
    "/containments/{number}": {"get"},
    "/deviations": {"get", "post"},
    "/deviations/{number}": {"get"},
    "/deviations/{number}/assess": {"post"},
    "/deviations/{number}/close": {"post"},
}


def test_the_openapi_document_describes_the_decisions(client) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, methods in DECISION_PATHS.items():
        assert set(doc["paths"][PREFIX + path]) >= methods, path
    release = doc["paths"][PREFIX + "/lots/{lot_number}/release"]["post"]
    body = release["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    sign_in = doc["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert set(sign_in["required"]) == {"username", "password", "meaning"}
    signature = doc["components"]["schemas"]["SignatureOut"]["properties"]
    assert {"id", "signer", "signer_name", "meaning", "signed_at", "dossier_sha256"} <= set(
        signature
    )
    csv_doc = doc["paths"][PREFIX + "/lots/{lot_number}/timeline.csv"]["get"]["responses"]["200"]
    assert "text/csv" in csv_doc["content"]
