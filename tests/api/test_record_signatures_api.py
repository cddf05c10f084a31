"""Each QA decision on a record (bank qualification, specification approval, deviation closure,
investigation conclusion) is an e-signature: tried here without a password, with a wrong one,
with someone else's username, by a technician, with the wrong meaning, and twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lotrack.models import AuditEvent, Investigation, RecordSignature, SpecVersion, User
from lotrack.services import audit, deviation, lot, specs
from lotrack.services.api_tokens import create_token
from tests.api.conftest import Api, assert_problem, at_once, row_counts
from tests.api.test_release_concurrency import WARM_UP, one_winner, reviewers
from tests.conftest import user
from tests.record_signing import sign_form
from tests.services.test_spec_versions import STRICTER, spec_copy


@dataclass(frozen=True)
class Decision:
    """A decision's path, its own fields, its meaning, and what it reads as once taken."""

    path: str
    body: dict[str, Any]
    meaning: str
    done: Callable[[dict[str, Any]], bool]


def _draft(app: Flask, tmp_path: Any) -> Decision:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        specs.load_specs(s, None, spec_copy(tmp_path, STRICTER))
        s.commit()
        draft = s.scalar(select(SpecVersion.id).where(SpecVersion.approved_at.is_(None)))
    return Decision(
        f"/specs/{draft}/approve", {}, "approved", lambda body: body["status"] == "in effect"
    )


def _bank(_app: Flask, _tmp: Any) -> Decision:
    return Decision(
        "/banks/MCB-001/qualify",
        {"decision": "not_qualified", "reason": "mycoplasma in a retained vial"},
        "not qualified",
        lambda body: body["qualification"] == "not_qualified",
    )


def _deviation(app: Flask, _tmp: Any) -> Decision:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        dev = deviation.open_deviation(
            s, user(s, "tech"), description="door open", lot=lot.get_lot(s, "CFM-2025-0002")
        )
        deviation.assess(s, user(s, "tech"), dev, "no impact")
        s.commit()
        number = dev.number
    return Decision(
        f"/deviations/{number}/close",
        {"closure": "door alarm serviced"},
        "closed",
        lambda body: body["status"] == "closed",
    )


def _investigation(app: Flask, _tmp: Any) -> Decision:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        number = s.scalar(select(Investigation.number).where(Investigation.status == "open"))
    return Decision(
        f"/investigations/{number}/conclude",
        {"conclusion": "confirmed_oos", "findings": "no laboratory error"},
        "concluded",
        lambda body: body["status"] == "closed",
    )


DECISIONS = {
    "spec": _draft,
    "bank": _bank,
    "deviation": _deviation,
    "investigation": _investigation,
}


@pytest.fixture(params=sorted(DECISIONS))
def decision(request: pytest.FixtureRequest, demo_app: Flask, tmp_path: Any) -> Decision:
    return DECISIONS[request.param](demo_app, tmp_path)


def _failures(app: Flask, username: str) -> int:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return s.scalar(select(User.failed_signings).where(User.username == username)) or 0


def _signatures(app: Flask) -> list[RecordSignature]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return list(s.scalars(select(RecordSignature).order_by(RecordSignature.id)))


def test_a_decision_is_signed_by_its_decider_with_its_meaning(
    decision: Decision, demo_app: Flask, qa: Api
) -> None:
    before = len(_signatures(demo_app))
    done = qa.post(decision.path, {**decision.body, **sign_form("qa", decision.meaning)})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert decision.done(body)
    given = body["signature"]
    assert (given["signer"], given["signer_name"], given["meaning"]) == (
        "qa",
        "Demo QA Reviewer",
        decision.meaning,
    )
    assert given["signed_at"].endswith("+00:00") and len(given["content_sha256"]) == 64
    assert body["signatures"][-1]["id"] == given["id"] and not body["signatures"][-1]["void"]
    rows = _signatures(demo_app)
    assert len(rows) == before + 1 and rows[-1].meaning == decision.meaning
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        audited = s.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "record_signature",
                AuditEvent.entity_id == str(rows[-1].id),
            )
        ).one()
        assert audited.actor == "qa" and decision.meaning in audited.changes


def test_no_password_is_refused_by_field_and_nothing_is_written(
    decision: Decision, demo_app: Flask, qa: Api
) -> None:
    before = row_counts(demo_app)
    body = {**decision.body, **sign_form("qa", decision.meaning)}
    del body["password"]
    assert_problem(qa.post(decision.path, body), 422, "password")
    assert row_counts(demo_app) == before


def test_a_wrong_password_is_refused_nothing_is_signed_and_the_failure_counts(
    decision: Decision, demo_app: Flask, qa: Api
) -> None:
    before = row_counts(demo_app)
    wrong = {**decision.body, **sign_form("qa", decision.meaning, password="not-my-password")}
    refused = assert_problem(qa.post(decision.path, wrong), 403, "password")
    assert refused["error"] == "signature_refused"
    assert _failures(demo_app, "qa") == 1  # kept, although the signing was refused
    after = row_counts(demo_app)
    # Only the failure's audit events are written: no decision, no signature.
    grown = {k: v - before[k] for k, v in after.items() if v != before[k]}
    assert set(grown) == {"audit_event"}
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        last = s.scalars(
            select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(grown["audit_event"])
        ).all()
        assert {(e.actor, e.entity_type) for e in last} == {("qa", "user_account")}
        assert "signature_refused" in {e.action for e in last}


def test_someone_elses_username_is_refused(decision: Decision, demo_app: Flask, qa: Api) -> None:
    before = row_counts(demo_app)
    other = {**decision.body, **sign_form("md", decision.meaning)}
    refused = assert_problem(qa.post(decision.path, other), 403, "username")
    assert "qa" in refused["fields"]["username"]
    assert row_counts(demo_app) == before and _failures(demo_app, "md") == 0


def test_a_technician_may_not_decide(decision: Decision, demo_app: Flask, tech: Api) -> None:
    before = row_counts(demo_app)
    body = {**decision.body, **sign_form("tech", decision.meaning)}
    assert_problem(tech.post(decision.path, body), 403)
    assert row_counts(demo_app) == before


def test_the_meaning_must_be_the_decisions_own(
    decision: Decision, demo_app: Flask, qa: Api
) -> None:
    before = row_counts(demo_app)
    wrong = "closed" if decision.meaning != "closed" else "approved"
    assert_problem(
        qa.post(decision.path, {**decision.body, **sign_form("qa", wrong)}), 422, "meaning"
    )
    nonsense = {**decision.body, **sign_form("qa", "looks fine")}
    assert_problem(qa.post(decision.path, nonsense), 422, "meaning")
    assert row_counts(demo_app) == before


def test_a_decision_is_taken_and_signed_once(decision: Decision, demo_app: Flask, qa: Api) -> None:
    body = {**decision.body, **sign_form("qa", decision.meaning)}
    assert qa.post(decision.path, body).status_code == 200
    before = row_counts(demo_app)
    assert_problem(qa.post(decision.path, body), 409)
    assert row_counts(demo_app) == before


def test_a_token_without_the_sign_scope_cannot_sign(decision: Decision, demo_app: Flask, client):
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        token = create_token(s, None, user(s, "qa"), scopes=("read", "write"))
        s.commit()
    before = row_counts(demo_app)
    body = {**decision.body, **sign_form("qa", decision.meaning)}
    assert_problem(Api(client, token).post(decision.path, body), 403)
    assert row_counts(demo_app) == before


def test_reviewers_deciding_at_once_leave_one_signed_decision(
    decision: Decision, demo_app: Flask
) -> None:
    """Six QA reviewers take the same decision at the same moment: one decision and one
    signature are recorded; every other reviewer is told (409) that it was taken."""
    before = len(_signatures(demo_app))
    calls = []
    for name, password, token in reviewers(demo_app, 6):
        body = {**decision.body, **sign_form("qa", decision.meaning)}
        calls.append((token, decision.path, {**body, "username": name, "password": password}))
    responses = at_once(demo_app, calls, WARM_UP)

    def told_it_was_taken(problem: dict[str, Any]) -> None:
        assert problem["error"] == "conflict", problem

    won = one_winner(responses, told_it_was_taken)
    assert decision.done(won)
    assert len(_signatures(demo_app)) == before + 1
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert audit.verify(s).ok
