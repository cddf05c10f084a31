"""API tokens do what they were issued for, until they expire (issue 16): a read token reads and
is refused a write; a write token is refused an e-signature; an expired or revoked token opens
nothing; the account page lists a person's tokens and revokes their own, with a reason."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select

from lotrack.db import utcnow
from lotrack.models import ApiToken, AuditEvent
from lotrack.services import api_tokens
from tests.api.conftest import PREFIX, assert_problem, row_counts
from tests.conftest import PASSWORDS, csrf_token, login, user
from tests.release_setup import make_lot


def _token(app: Flask, username: str, *scopes: str, days: int = 90) -> str:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        token = api_tokens.create_token(s, None, user(s, username), scopes=scopes, days=days)
        s.commit()
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


RELEASE = {
    "username": "qa",
    "password": PASSWORDS["qa"],
    "meaning": "approved for release",
    "reason": "every criterion met",
}


def test_a_read_token_reads_and_is_refused_a_write_naming_its_scope(
    demo_app: Flask, client
) -> None:
    token = _token(demo_app, "tech", "read")
    assert client.get(f"{PREFIX}/lots", headers=_bearer(token)).status_code == 200
    before = row_counts(demo_app)
    body = {"run": "RUN-2025-01", "harvested_on": "2025-12-01", "expires_on": "2026-12-01"}
    refused = client.post(f"{PREFIX}/lots", json=body, headers=_bearer(token))
    problem = assert_problem(refused, 403, "token")
    assert "may not write" in problem["message"] and "read" in problem["message"]
    assert row_counts(demo_app) == before


def test_an_e_signature_through_the_api_needs_a_token_issued_for_signing(
    demo_app: Flask, client
) -> None:
    lot = make_lot(demo_app)
    unsigned = _token(demo_app, "qa", "read", "write")
    before = row_counts(demo_app)
    refused = client.post(f"{PREFIX}/lots/{lot}/release", json=RELEASE, headers=_bearer(unsigned))
    assert "may not sign" in assert_problem(refused, 403, "token")["message"]
    assert row_counts(demo_app) == before  # not even a failed signature is counted
    signing = _token(demo_app, "qa", "read", "write", "sign")
    done = client.post(f"{PREFIX}/lots/{lot}/release", json=RELEASE, headers=_bearer(signing))
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["state"] == "RELEASED"


def test_an_expired_token_opens_nothing(demo_app: Flask, client) -> None:
    token = _token(demo_app, "tech", "read")
    assert client.get(f"{PREFIX}/lots", headers=_bearer(token)).status_code == 200
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        row = s.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
        assert row is not None and row.expires_at is not None
        assert dt.timedelta(days=89) < row.expires_at - utcnow() <= dt.timedelta(days=90)
        row.expires_at = utcnow() - dt.timedelta(seconds=1)
        s.commit()
    assert_problem(client.get(f"{PREFIX}/lots", headers=_bearer(token)), 401)


@pytest.mark.parametrize(
    ("scopes", "days", "field"),
    [
        ((), 90, "scopes"),
        (("read", "admin"), 90, "scopes"),
        (("read",), 0, "days"),
        (("read",), 367, "days"),
    ],
)
def test_a_token_without_scope_or_beyond_a_year_is_not_issued(
    session, scopes: tuple[str, ...], days: int, field: str
) -> None:
    from lotrack.domain.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        api_tokens.create_token(session, None, user(session, "tech"), scopes=scopes, days=days)
    assert field in refused.value.fields
    assert session.scalars(select(ApiToken)).all() == []


def test_the_account_page_lists_ones_tokens_and_revokes_them_with_a_reason(
    demo_app: Flask, client
) -> None:
    token = _token(demo_app, "tech", "read")
    others = _token(demo_app, "qa", "read")
    assert login(client, "tech").status_code == 302
    page = client.get("/account/password").get_data(as_text=True)
    assert 'id="tokens"' in page and "live" in page
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        mine = s.scalars(select(ApiToken.id).where(ApiToken.user_id == user(s, "tech").id)).one()
        theirs = s.scalars(select(ApiToken.id).where(ApiToken.user_id == user(s, "qa").id)).one()
    form = {"csrf_token": csrf_token(client, "/account/password")}
    before = row_counts(demo_app)
    missing = client.post(f"/account/tokens/{mine}/revoke", data={**form, "reason": " "})
    assert missing.status_code == 422 and "reason" in missing.get_data(as_text=True)
    not_mine = client.post(f"/account/tokens/{theirs}/revoke", data={**form, "reason": "x"})
    assert not_mine.status_code == 404
    assert row_counts(demo_app) == before
    done = client.post(f"/account/tokens/{mine}/revoke", data={**form, "reason": "laptop lost"})
    assert done.status_code == 302 and done.headers["Location"].endswith("#tokens")
    assert_problem(client.get(f"{PREFIX}/lots", headers=_bearer(token)), 401)
    assert client.get(f"{PREFIX}/lots", headers=_bearer(others)).status_code == 200
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        revoked = s.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "api_token", AuditEvent.entity_id == str(mine)
            )
        ).all()
    assert revoked[-1].reason == "laptop lost" and "revoked_at" in revoked[-1].changes
