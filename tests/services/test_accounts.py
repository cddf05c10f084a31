"""Accounts: argon2id hashes, lockout and its expiry, the same answer for unknown users, password
rules, site binding of clinical users, and API tokens stored only as their SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from argon2 import Type
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import select

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.models import ApiToken, AuditEvent, User
from lotrack.services import accounts, api_tokens
from tests.conftest import PASSWORDS, PRODUCTION_HASHER, user

LIMITS = {"max_failures": 5, "lockout_minutes": 15}


def _login(session, username, password):
    outcome = accounts.authenticate(session, username, password, **LIMITS)
    session.commit()
    return outcome


def _events(session, u: User, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "user_account",
                AuditEvent.entity_id == str(u.id),
                AuditEvent.action == action,
            )
        )
    )


def _new(session, **kw) -> User:
    args = {
        "username": "newuser",
        "full_name": "New User",
        "role": "technician",
        "password": "twelve chars",
    }
    args.update(kw)
    return accounts.create_user(session, user(session, "admin"), **args)


def test_passwords_are_stored_as_argon2id_hashes(session):
    for name in PASSWORDS:
        stored = user(session, name).password_hash
        assert stored.startswith("$argon2id$")
        assert PASSWORDS[name] not in stored
    created = _new(session, password="correct horse battery")
    assert created.password_hash.startswith("$argon2id$")


def test_production_hashes_cost_rfc_9106s_low_memory_profile_and_logins_upgrade_cheaper_ones(
    session, monkeypatch
):
    """The suite hashes cheaply (conftest.py); the application's own hasher is checked here."""
    assert PRODUCTION_HASHER.type is Type.ID
    profile = RFC_9106_LOW_MEMORY
    assert (PRODUCTION_HASHER.time_cost, PRODUCTION_HASHER.memory_cost) == (3, 65536)
    assert (PRODUCTION_HASHER.time_cost, PRODUCTION_HASHER.memory_cost) == (
        profile.time_cost,
        profile.memory_cost,
    )
    assert PRODUCTION_HASHER.parallelism == profile.parallelism == 4
    cheap = user(session, "tech").password_hash
    assert "$m=8,t=1,p=1$" in cheap, "the demo template was seeded with the suite's hasher"
    monkeypatch.setattr(accounts, "_hasher", PRODUCTION_HASHER)
    assert accounts.hash_password("correct horse battery").startswith(
        "$argon2id$v=19$m=65536,t=3,p=4$"
    )
    assert _login(session, "tech", PASSWORDS["tech"]).user is not None
    upgraded = user(session, "tech").password_hash
    assert upgraded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PRODUCTION_HASHER.verify(upgraded, PASSWORDS["tech"])


def test_the_right_password_lets_the_user_in_and_is_audited(session):
    outcome = _login(session, "tech", PASSWORDS["tech"])
    assert outcome.user is not None and outcome.user.username == "tech"
    assert len(_events(session, outcome.user, "login")) == 1


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(session):
    tech = user(session, "tech")
    for attempt in range(1, 6):
        outcome = _login(session, "tech", f"wrong password {attempt}")
        assert outcome.user is None
    assert "locked" in outcome.message
    assert tech.locked_until is not None and tech.locked_until > utcnow()
    sixth = _login(session, "tech", PASSWORDS["tech"])
    assert sixth.user is None
    assert "locked" in sixth.message and "administrator" in sixth.message
    assert len(_events(session, tech, "login_failed")) == 5
    assert len(_events(session, tech, "login_refused_locked")) == 1
    assert not _events(session, tech, "login")


def test_the_lockout_expires(session, monkeypatch):
    for attempt in range(5):
        _login(session, "tech", f"wrong {attempt}")
    assert _login(session, "tech", PASSWORDS["tech"]).user is None
    later = utcnow() + dt.timedelta(minutes=16)
    monkeypatch.setattr(accounts, "utcnow", lambda: later)
    outcome = _login(session, "tech", PASSWORDS["tech"])
    assert outcome.user is not None
    assert outcome.user.locked_until is None and outcome.user.failed_logins == 0


def test_the_lockout_lasts_its_full_term(session, monkeypatch):
    for attempt in range(5):
        _login(session, "tech", f"wrong {attempt}")
    almost = utcnow() + dt.timedelta(minutes=14)
    monkeypatch.setattr(accounts, "utcnow", lambda: almost)
    assert _login(session, "tech", PASSWORDS["tech"]).user is None


def test_a_good_login_resets_the_failure_count(session):
    for attempt in range(4):
        _login(session, "tech", f"wrong {attempt}")
    assert _login(session, "tech", PASSWORDS["tech"]).user is not None
    for attempt in range(4):
        _login(session, "tech", f"wrong again {attempt}")
    assert _login(session, "tech", PASSWORDS["tech"]).user is not None


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(session):
    unknown = _login(session, "nobody", "whatever password")
    wrong = _login(session, "tech", "whatever password")
    assert unknown.user is None and wrong.user is None
    assert unknown.message == wrong.message == accounts.WRONG
    failed = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login_failed", AuditEvent.entity_id == "?")
    ).all()
    assert len(failed) == 1 and failed[0].actor == "system"


def test_a_clinical_user_is_bound_to_one_existing_site(session):
    with pytest.raises(ValidationFailed) as refused:
        _new(session, role="clinical")
    assert "site" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        _new(session, role="clinical", site_code="NO-SUCH")
    assert "site" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        _new(session, role="qa", site_code="SZ-GIMI")
    assert "site" in refused.value.fields
    nurse = _new(session, role="clinical", site_code="BJ-CIP")
    assert nurse.site is not None and nurse.site.code == "BJ-CIP"


def test_bad_accounts_are_refused_naming_the_field(session):
    cases = [
        ({"password": "eleven char"}, "password"),
        ({"password": "x" * 129}, "password"),
        ({"role": "superuser"}, "role"),
        ({"username": "bad name!"}, "username"),
        ({"username": ""}, "username"),
    ]
    for kwargs, name in cases:
        with pytest.raises(ValidationFailed) as refused:
            _new(session, **kwargs)
        assert name in refused.value.fields, kwargs
    with pytest.raises(Conflict) as refused:
        _new(session, username="TECH")
    assert "username" in refused.value.fields
    assert _new(session, password="x" * 12).username == "newuser"


def test_a_password_change_checks_the_current_one_and_revokes_sessions(session):
    qa = user(session, "qa")
    version = qa.session_version
    with pytest.raises(ValidationFailed) as refused:
        accounts.change_password(session, qa, "not it", "a new long passphrase", min_length=12)
    assert "current" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        accounts.change_password(session, qa, PASSWORDS["qa"], "short", min_length=12)
    assert "password" in refused.value.fields
    assert qa.session_version == version
    accounts.change_password(session, qa, PASSWORDS["qa"], "a new long passphrase", min_length=12)
    session.commit()
    assert qa.session_version == version + 1
    assert _login(session, "qa", PASSWORDS["qa"]).user is None
    assert _login(session, "qa", "a new long passphrase").user is not None
    assert _events(session, qa, "password_changed")


def test_api_tokens_are_stored_only_as_their_sha256(session):
    tech = user(session, "tech")
    token = api_tokens.create_token(session, user(session, "admin"), tech, "LIMS export")
    session.commit()
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == tech.id))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {row.token_hash, row.label}
    assert not [c for c in session.scalars(select(AuditEvent.changes)) if token in c]
    found = api_tokens.user_for_token(session, token)
    assert found is not None and found.username == "tech"
    assert row.last_used_at is not None


def test_unknown_revoked_and_disabled_tokens_are_refused(session):
    tech = user(session, "tech")
    token = api_tokens.create_token(session, None, tech)
    session.commit()
    assert api_tokens.user_for_token(session, token + "x") is None
    assert api_tokens.user_for_token(session, "") is None
    assert api_tokens.revoke_tokens(session, None, tech, "laptop lost") == 1
    session.commit()
    assert api_tokens.user_for_token(session, token) is None
    revoked = session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_type == "api_token", AuditEvent.action == "update"
        )
    ).all()
    assert [e.reason for e in revoked] == ["laptop lost"]
    second = api_tokens.create_token(session, None, tech)
    tech.active = False
    session.commit()
    assert api_tokens.user_for_token(session, second) is None


def test_the_audit_trails_system_actor_name_cannot_be_taken(session):
    with pytest.raises(ValidationFailed) as refused:
        _new(session, username="system")
    assert "username" in refused.value.fields


def test_a_username_longer_than_any_account_is_refused_and_logged_bounded(session):
    """Issue 16: a 1.5 MB username on the login form was stored whole in the permanent trail."""
    tried = "x" * 1_500_000
    outcome = _login(session, tried, "whatever password")
    assert outcome.user is None and outcome.message == accounts.WRONG
    failed = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login_failed", AuditEvent.entity_id == "?")
    ).one()
    assert len(failed.changes) < 300
    assert '"length"' in failed.changes and "1500000" in failed.changes


def test_a_locked_accounts_tokens_are_refused_a_signing_lock_leaves_them(session):
    """A login lockout stops every door, tokens included (issue 16); a signing lock only stops
    signing; disabling stops the token too."""
    tech = user(session, "tech")
    token = api_tokens.create_token(session, None, tech)
    tech.signing_locked_until = utcnow() + dt.timedelta(minutes=15)
    assert api_tokens.user_for_token(session, token) is tech
    tech.locked_until = utcnow() + dt.timedelta(minutes=15)
    assert api_tokens.user_for_token(session, token) is None
    tech.locked_until = utcnow() - dt.timedelta(seconds=1)
    assert api_tokens.user_for_token(session, token) is tech
    tech.active = False
    assert api_tokens.user_for_token(session, token) is None
