"""Many QA reviewers deciding on one lot at the same moment, each in their own session and
transaction: exactly one decision is signed, recorded and audited, and every other reviewer is told
that someone else decided first (a Conflict, never an unexpected error). Each thread reads the lot
before the others commit, so the guarded UPDATE ... WHERE state = :expected is what decides.
Runs on SQLite (BEGIN IMMEDIATE serializes writers) and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.domain.decisions import Action
from lotrack.domain.errors import Conflict
from lotrack.models import AuditEvent, Containment, ContainmentLot, Lot, Signature, User
from lotrack.services import accounts, audit, containment, release
from lotrack.services import lot as lots
from tests.conftest import user
from tests.services.test_release import LOCKOUT, MEANING, new_lot

THREADS = 8
OK = "ok"


def reviewers(app: Flask, n: int) -> list[tuple[str, str]]:
    """n QA users, each (username, password)."""
    made = []
    with app.extensions["lotrack_db"].sessionmaker() as s:
        for i in range(n):
            name, password = f"qa-racer-{i}", f"racer-{i}-long-password"
            accounts.create_user(
                s,
                None,
                username=name,
                full_name=f"QA racer {i}",
                role="qa",
                password=password,
                must_change_password=False,
            )
            made.append((name, password))
        s.commit()
    return made


Act = Callable[[Session, User, Lot, str, str, int], Any]


def race(app: Flask, number: str, people: list[tuple[str, str]], act: Act) -> list[Any]:
    """Each person, in their own thread and session, reads the lot, waits for everyone, then acts
    and commits. Returns per thread OK, the DomainError it was refused with, or what else it met."""
    maker = app.extensions["lotrack_db"].sessionmaker
    barrier = threading.Barrier(len(people))
    outcomes: list[Any] = [None] * len(people)

    def run(i: int, name: str, password: str) -> None:
        try:
            with maker() as s:
                me, lot = user(s, name), lots.get_lot(s, number)
                s.commit()  # what each reviewer saw, with no lock held while the others read
                barrier.wait(timeout=60)
                try:
                    act(s, me, lot, name, password, i)
                    s.commit()
                    outcomes[i] = OK
                except Conflict as err:
                    s.rollback()
                    outcomes[i] = err
        except BaseException as err:  # reported by the assertions below
            outcomes[i] = err

    threads = [
        threading.Thread(target=run, args=(i, name, pw)) for i, (name, pw) in enumerate(people)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a reviewer never finished"
    return outcomes


def one_winner(outcomes: list[Any]) -> int:
    """The index of the single success; every other outcome is a Conflict naming the state."""
    won = [i for i, o in enumerate(outcomes) if o == OK]
    assert len(won) == 1, outcomes
    for o in outcomes:
        if o != OK:
            assert isinstance(o, Conflict), repr(o)
            assert set(o.fields) & {"state", "scope"}, o.fields
            assert (
                "Nothing was signed" in o.message
                or "Nothing to" in o.message
                or ("cannot be" in o.message)
            ), o.message
    return won[0]


def decisions(app: Flask, number: str, actions: set[str]) -> tuple[str, list[Signature], list]:
    """The lot's state, its signatures of `actions` and its audit events of `actions`."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        lot = lots.get_lot(s, number)
        sigs = s.scalars(
            select(Signature).where(Signature.lot_id == lot.id, Signature.action.in_(actions))
        ).all()
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "lot",
                AuditEvent.entity_id == str(lot.id),
                AuditEvent.action.in_(actions),
            )
        ).all()
        report = audit.verify(s)
        assert report.ok, report.message
        return lot.state, list(sigs), list(events)


def test_many_reviewers_releasing_and_rejecting_one_lot_leave_one_decision(demo_app):
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        number = new_lot(s).lot_number
        s.commit()
    people = reviewers(demo_app, THREADS)
    chosen = [Action.RELEASE if i % 2 == 0 else Action.REJECT for i in range(THREADS)]

    def act(s: Session, me: User, lot: Lot, name: str, password: str, i: int) -> None:
        sign_in = release.SignIn(name, password, MEANING[chosen[i]], "concurrent review")
        release.decide(s, me, lot, chosen[i], sign_in, LOCKOUT)

    winner = one_winner(race(demo_app, number, people, act))
    state, sigs, events = decisions(demo_app, number, {"release", "reject"})
    assert state == {Action.RELEASE: "RELEASED", Action.REJECT: "REJECTED"}[chosen[winner]]
    assert [(x.signer_username, x.action) for x in sigs] == [(people[winner][0], chosen[winner])]
    assert [(e.actor, e.action) for e in events] == [(people[winner][0], chosen[winner])]


@pytest.mark.parametrize("kind", ["recall", "hold"])
def test_many_reviewers_containing_one_lot_leave_one_record(demo_app, kind):
    people = reviewers(demo_app, THREADS)
    action = Action.RECALL if kind == "recall" else Action.HOLD

    def act(s: Session, me: User, lot: Lot, name: str, password: str, _i: int) -> None:
        sign_in = release.SignIn(name, password, MEANING[action], "concurrent complaint")
        containment.contain(s, me, kind=kind, lot=lot, sign_in=sign_in, lockout=LOCKOUT)

    winner = one_winner(race(demo_app, "CFM-2025-0001", people, act))
    state, sigs, events = decisions(demo_app, "CFM-2025-0001", {action.value})
    assert state == ("RECALLED" if kind == "recall" else "ON_HOLD")
    assert [x.signer_username for x in sigs] == [people[winner][0]]
    assert [e.actor for e in events] == [people[winner][0]]
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        (record,) = s.scalars(select(Containment)).all()
        assert record.created_by.username == people[winner][0]
        assert s.scalar(select(func.count()).select_from(ContainmentLot)) == 1
