"""Many QA reviewers deciding on one lot at the same moment through /api/v1, each with their own
client and token: exactly one decision is signed and recorded, the lot's state is that decision,
and every other request is told (409) that someone else decided first. Runs on the configured
database (SQLite, or PostgreSQL with LOTRACK_TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from lotrack.models import AuditEvent, Containment, Lot, Signature
from lotrack.services import api_tokens, audit
from tests.api.conftest import assert_problem, at_once
from tests.api.test_release_api import add_user, signing
from tests.conftest import PASSWORDS, user
from tests.release_setup import make_lot

WARM_UP = "/lots/CFM-2025-0001"  # any authenticated GET: the token is used before the race

THREADS = 8


def reviewers(app: Flask, n: int) -> list[tuple[str, str, str]]:
    """n (username, password, token): qa and a second QA user in turn, each with its own token."""
    _token, qa2_password = add_user(app, "qa2")
    passwords = {"qa": PASSWORDS["qa"], "qa2": qa2_password}
    made = []
    with app.extensions["lotrack_db"].sessionmaker() as s:
        for i in range(n):
            name = ("qa", "qa2")[i % 2]
            made.append((name, passwords[name], api_tokens.create_token(s, None, user(s, name))))
        s.commit()
    return made


def recorded(app: Flask, number: str, actions: set[str]) -> tuple[Lot, list[Signature], list[Any]]:
    """The lot, its signatures of `actions`, and its state-change audit events of `actions`."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        lot = s.scalars(select(Lot).where(Lot.lot_number == number)).one()
        sigs = list(
            s.scalars(
                select(Signature).where(Signature.lot_id == lot.id, Signature.action.in_(actions))
            )
        )
        events = list(
            s.scalars(
                select(AuditEvent).where(
                    AuditEvent.entity_type == "lot",
                    AuditEvent.entity_id == str(lot.id),
                    AuditEvent.action.in_(actions),
                )
            )
        )
        assert audit.verify(s).ok
        return lot, sigs, events


def one_winner(responses: list[Any], check_loser: Callable[[dict[str, Any]], None]) -> dict:
    won = [r for r in responses if r.status_code == 200]
    assert len(won) == 1, [(r.status_code, r.get_json()) for r in responses]
    for r in responses:
        if r is not won[0]:
            check_loser(assert_problem(r, 409))
    return won[0].get_json()


def test_many_reviewers_releasing_and_rejecting_at_once_leave_exactly_one_decision(
    demo_app,
) -> None:
    number = make_lot(demo_app)
    people = reviewers(demo_app, THREADS)
    requests = []
    for i, (name, password, token) in enumerate(people):
        action = ("release", "reject")[i % 2]
        requests.append(
            (token, f"/lots/{number}/{action}", signing(name, action, password=password))
        )

    def loser(problem: dict[str, Any]) -> None:
        assert "state" in problem["fields"], problem  # "decided first", naming the lot's state

    winner = one_winner(at_once(demo_app, requests, WARM_UP), loser)
    lot, sigs, events = recorded(demo_app, number, {"release", "reject"})
    assert lot.state == winner["state"] in ("RELEASED", "REJECTED")
    assert [s.id for s in sigs] == [winner["signature"]["id"]]
    assert len(events) == 1 and events[0].actor == winner["signature"]["signer"]


def test_many_reviewers_recalling_one_lot_at_once_leave_exactly_one_recall(demo_app) -> None:
    people = reviewers(demo_app, 6)
    requests = [
        (token, "/lots/CFM-2025-0001/recall", signing(name, "recall", password=password))
        for name, password, token in people
    ]
    winner = one_winner(at_once(demo_app, requests, WARM_UP), lambda problem: None)
    assert winner["state"] == "RECALLED"
    lot, sigs, events = recorded(demo_app, "CFM-2025-0001", {"recall"})
    assert lot.state == "RECALLED" and len(sigs) == 1 and len(events) == 1
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert s.scalars(select(Containment.number)).all() == [winner["containment"]]
