"""Lockout per account and address (services/lockout.py through accounts.authenticate): no run of
failures from addresses the account does not know locks it, the wait is capped, a good login
ends its address's wait, an unknown username is slowed exactly alike; signing locks apart; an
administrator lifts each with a reason."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.lockout import LOGIN, SIGNING, Rules
from lotrack.models import AuditEvent, KnownAddress, LoginThrottle
from lotrack.services import accounts, lockout
from tests.conftest import PASSWORDS, user

HOME = "198.51.100.10"  # where qa logs in every day
ELSEWHERE = ("203.0.113.1", "203.0.113.2", "2001:db8::/64", "192.0.2.77")
LIMITS = {"max_failures": 5, "lockout_minutes": 15, "free_failures": 3}
CAP = dt.timedelta(minutes=15)
PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Clock:
    """utcnow of the services under test, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(accounts, "utcnow", fake)
    monkeypatch.setattr(lockout, "utcnow", fake)
    return fake


@pytest.fixture
def fast(monkeypatch) -> None:
    """argon2 costs a hash per attempt; these properties are about counting, not hashing."""
    monkeypatch.setattr(
        accounts, "_verify", lambda h, p: h != accounts._DUMMY_HASH and p in PASSWORDS.values()
    )


def _try(session, name: str, password: str, address: str | None):
    return accounts.authenticate(session, name, password, address=address, **LIMITS)


attacks = st.lists(
    st.tuples(
        st.sampled_from(("attack", "attack", "attack", "home")),
        st.integers(0, len(ELSEWHERE) - 1),
        st.integers(0, 40 * 60),  # seconds since the previous attempt
    ),
    min_size=1,
    max_size=30,
)


@PROPERTY
@given(steps=attacks)
def test_no_run_of_failures_from_unknown_addresses_locks_the_account(session, clock, fast, steps):
    start = clock.now
    try:
        assert _try(session, "qa", PASSWORDS["qa"], HOME).user is not None  # HOME is known
        for kind, which, gap in steps:
            clock.now += dt.timedelta(seconds=gap)
            if kind == "home":  # the real qa, at her desk, is never kept out
                assert _try(session, "qa", PASSWORDS["qa"], HOME).user is not None
                continue
            outcome = _try(session, "qa", "Summer2026!guess", ELSEWHERE[which])
            assert outcome.user is None
            if outcome.retry_at is not None:
                assert dt.timedelta(0) < outcome.retry_at - clock.now <= CAP
            qa = user(session, "qa")
            assert qa.locked_until is None and qa.failed_logins == 0
            wait = lockout.address_wait(session, "qa", ELSEWHERE[which])
            assert wait is None or wait - clock.now <= CAP
    finally:
        session.rollback()
        clock.now = start


@PROPERTY
@given(gaps=st.lists(st.integers(0, 20 * 60), min_size=1, max_size=20))
def test_an_unknown_username_is_slowed_exactly_like_a_real_one(session, clock, fast, gaps):
    start = clock.now
    try:
        for gap in gaps:
            clock.now += dt.timedelta(seconds=gap)
            real = _try(session, "qa", "wrong guess", "203.0.113.9")
            made_up = _try(session, "no-such-person", "wrong guess", "203.0.113.10")
            assert (real.message, real.retry_at) == (made_up.message, made_up.retry_at)
    finally:
        session.rollback()
        clock.now = start


@PROPERTY
@given(failures=st.integers(1, 12), gap=st.integers(0, 20 * 60))
def test_a_good_login_ends_its_address_wait_and_makes_it_known(session, clock, fast, failures, gap):
    start = clock.now
    try:
        for _ in range(failures):
            _try(session, "qa", "typo", "203.0.113.5")
        clock.now += dt.timedelta(seconds=gap)
        outcome = _try(session, "qa", PASSWORDS["qa"], "203.0.113.5")
        if outcome.retry_at is not None:  # still waiting: refused unheard, the count untouched
            assert outcome.user is None and outcome.retry_at > clock.now
            return
        assert outcome.user is not None
        assert lockout.address_wait(session, "qa", "203.0.113.5") is None
        assert lockout.is_known(session, outcome.user, "203.0.113.5")
        assert session.scalar(select(LoginThrottle).where(LoginThrottle.username == "qa")) is None
    finally:
        session.rollback()
        clock.now = start


def test_failures_from_a_known_address_still_lock_the_account(session, clock):
    assert _try(session, "tech", PASSWORDS["tech"], HOME).user is not None
    for attempt in range(5):
        outcome = _try(session, "tech", f"wrong {attempt}", HOME)
    assert "locked" in outcome.message and user(session, "tech").locked_until is not None
    refused = _try(session, "tech", PASSWORDS["tech"], "203.0.113.1")
    assert refused.user is None and "locked" in refused.message  # new logins stop everywhere


def test_a_waiting_address_is_refused_unheard_and_nothing_is_written(session, clock):
    for attempt in range(4):
        last = _try(session, "qa", f"guess {attempt}", "203.0.113.1")
    assert last.retry_at is None and "Try again after" in last.message  # the 4th starts a wait
    session.commit()
    seq = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    refused = _try(session, "qa", PASSWORDS["qa"], "203.0.113.1")
    assert refused.user is None and refused.retry_at == clock.now + dt.timedelta(minutes=1)
    session.flush()
    assert session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) == seq
    assert not session.new and not session.dirty
    clock.now += dt.timedelta(minutes=1)
    assert _try(session, "qa", PASSWORDS["qa"], "203.0.113.1").user is not None


def test_an_account_keeps_its_ten_latest_addresses(session, clock, fast):
    for n in range(12):
        clock.now += dt.timedelta(minutes=1)
        assert _try(session, "qa", PASSWORDS["qa"], f"192.0.2.{n}").user is not None
        session.flush()
    qa = user(session, "qa")
    kept = session.scalars(select(KnownAddress.address).where(KnownAddress.user_id == qa.id))
    assert set(kept) == {f"192.0.2.{n}" for n in range(2, 12)}


def test_signing_failures_lock_signing_only_and_an_admin_lifts_it(session, clock):
    qa, admin = user(session, "qa"), user(session, "admin")
    rules = Rules(max_failures=3, lock_minutes=15)
    for _ in range(3):
        lockout.signing_failed(session, qa, rules)
    assert lockout.signing_locked(qa) and qa.locked_until is None and qa.failed_logins == 0
    assert _try(session, "qa", PASSWORDS["qa"], None).user is qa  # logging in is not locked
    shown = lockout.current(session, rules)
    assert [(r.kind, r.username) for r in shown] == [(SIGNING, "qa")]
    with pytest.raises(ValidationFailed) as err:
        lockout.lift_account(session, admin, qa, SIGNING, "  ")
    assert err.value.fields == {"reason": "required"}
    lockout.lift_account(session, admin, qa, SIGNING, "identity checked by phone")
    assert not lockout.signing_locked(qa) and qa.failed_signings == 0
    with pytest.raises(Conflict):
        lockout.lift_account(session, admin, qa, SIGNING, "again")
    session.commit()
    ev = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "update").order_by(AuditEvent.seq.desc())
    ).first()
    assert (ev.actor, ev.reason) == ("admin", "identity checked by phone")
    assert json.loads(ev.changes)["signing_locked_until"][1] is None


def test_an_admin_sees_and_lifts_an_address_wait(session, clock):
    admin = user(session, "admin")
    for attempt in range(5):
        _try(session, "qa", f"guess {attempt}", "203.0.113.8")
        clock.now += dt.timedelta(minutes=1)  # each guess after the last wait has run out
    clock.now -= dt.timedelta(minutes=1)
    session.flush()
    rows = lockout.current(session, Rules(5, 15))
    assert [(r.kind, r.username, r.address, r.failures) for r in rows] == [
        (LOGIN, "qa", "203.0.113.8", 5)
    ]
    assert rows[0].until == clock.now + dt.timedelta(minutes=2)
    with pytest.raises(NotFound):
        lockout.lift_address(session, admin, 999_999, "no such row")
    lockout.lift_address(session, admin, rows[0].throttle_id, "qa on a new laptop, confirmed")
    assert lockout.address_wait(session, "qa", "203.0.113.8") is None
    assert lockout.current(session, Rules(5, 15)) == []
