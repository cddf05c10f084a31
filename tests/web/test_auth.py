"""Browser sessions: lockout, idle and absolute limits, server-side revocation, CSRF on every form,
no open redirect; and API bearer tokens."""

from __future__ import annotations

import re
from contextlib import contextmanager
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import func, select

import lotrack.security
from lotrack.models import ApiToken, AuditEvent, AuditHead, User
from lotrack.services import api_tokens
from tests.conftest import PASSWORDS, api_get_route, csrf_token, login

PAGE = "/account/password"  # any page that needs a login and renders for every role


@contextmanager
def db(app):
    """A short-lived session: never hold a transaction open while the client writes."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        yield s
        s.commit()


def _head(app) -> int:
    with db(app) as s:
        return s.get(AuditHead, 1).seq


def _logged_in(client) -> bool:
    return client.get(PAGE).status_code == 200


class FakeClock:
    """Stands in for the `time` module inside lotrack.security: now = real time + offset."""

    def __init__(self) -> None:
        import time

        self.real, self.offset = time.time, 0.0

    def time(self) -> float:
        return self.real() + self.offset


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(lotrack.security, "time", fake)
    return fake


def test_login_and_logout_through_the_forms(client):
    assert client.get(PAGE).status_code == 302
    assert login(client, "admin").status_code == 302
    assert _logged_in(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, PAGE)})
    assert not _logged_in(client)


def test_five_wrong_passwords_lock_the_account_and_the_sixth_right_one_is_refused(client, demo_app):
    # From an address the nurse has logged in from: elsewhere they only slow that address.
    assert login(demo_app.test_client(), "nurse").status_code == 302
    for attempt in range(5):
        resp = login(client, "nurse", f"wrong password {attempt}")
        assert resp.status_code == 401
    assert b"locked" in resp.data
    sixth = login(client, "nurse")
    assert sixth.status_code == 401
    assert b"locked after repeated failed logins" in sixth.data
    assert not _logged_in(client)
    with db(demo_app) as s:
        nurse = s.scalar(select(User).where(User.username == "nurse"))
        failed = s.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "login_failed", AuditEvent.entity_id == str(nurse.id)
            )
        ).all()
        assert len(failed) == 5 and {e.actor for e in failed} == {"nurse"}


def test_an_unknown_user_is_answered_exactly_like_a_wrong_password(client):
    unknown = login(client, "nobody-here", "some password")
    wrong = login(client, "nurse", "some password")
    assert unknown.status_code == wrong.status_code == 401
    message = re.compile(rb'<p class="error" role="alert">([^<]*)</p>')
    assert message.search(unknown.data).group(1) == message.search(wrong.data).group(1)


def test_an_idle_session_ends_after_the_idle_timeout(client, clock):
    login(client, "nurse")
    clock.offset = 29 * 60
    assert _logged_in(client)  # activity: the idle clock starts again
    clock.offset += 31 * 60
    resp = client.get(PAGE)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    page = client.get(resp.headers["Location"])
    assert b"session ended after a period of inactivity" in page.data
    clock.offset = 0
    assert not _logged_in(client)  # gone for good, not only while the clock is late


def test_an_active_session_ends_after_the_absolute_limit(client, clock):
    login(client, "nurse")
    for _ in range(35):  # a request every 20 minutes: never idle
        clock.offset += 20 * 60
        assert _logged_in(client), f"refused at {clock.offset / 3600:.1f} h"
    clock.offset += 25 * 60  # 12 h 05 min after login, only 25 min after the last request
    resp = client.get(PAGE)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_logout_revokes_the_session_on_the_server(client, demo_app):
    login(client, "nurse")
    stolen = client.get_cookie("session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, PAGE)})
    replay = demo_app.test_client()
    replay.set_cookie("session", stolen)
    resp = replay.get(PAGE)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_a_password_change_revokes_every_other_session(demo_app):
    mine, other = demo_app.test_client(), demo_app.test_client()
    login(mine, "nurse")
    login(other, "nurse")
    assert _logged_in(other)
    new = "a brand new passphrase"
    resp = mine.post(
        PAGE,
        data={
            "csrf_token": csrf_token(mine, PAGE),
            "current": PASSWORDS["nurse"],
            "new": new,
            "confirm": new,
        },
    )
    assert resp.status_code == 302
    assert not _logged_in(other)
    assert not _logged_in(mine)
    assert login(other, "nurse").status_code == 401
    assert login(other, "nurse", new).status_code == 302


def test_a_short_new_password_is_refused_and_nothing_changes(client, demo_app):
    login(client, "nurse")
    before = _head(demo_app)
    resp = client.post(
        PAGE,
        data={
            "csrf_token": csrf_token(client, PAGE),
            "current": PASSWORDS["nurse"],
            "new": "elevenchars",
            "confirm": "elevenchars",
        },
    )
    assert resp.status_code == 422
    assert _head(demo_app) == before
    assert _logged_in(client)


def test_a_short_new_password_is_refused_naming_the_field(client):
    login(client, "nurse")
    resp = client.post(
        PAGE,
        data={
            "csrf_token": csrf_token(client, PAGE),
            "current": PASSWORDS["nurse"],
            "new": "elevenchars",
            "confirm": "elevenchars",
        },
    )
    assert b'id="err-new"' in resp.data
    assert b"at least 12 characters" in resp.data


def _form_posts(app):
    """Every browser route that accepts POST (the API is exempt: it takes bearer tokens)."""
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or ()) or rule.rule.startswith("/api/"):
            continue
        values = {
            arg: (1 if type(rule._converters[arg]).__name__ == "IntegerConverter" else "x")
            for arg in rule.arguments
        }
        yield adapter.build(rule.endpoint, values, method="POST")


def test_every_form_refuses_a_post_without_its_csrf_token(demo_app):
    client = demo_app.test_client()
    login(client, "admin")
    paths = list(_form_posts(demo_app))
    assert {"/login", "/logout", PAGE, "/admin/users/new"} <= set(paths)
    with db(demo_app) as s:
        before = (s.get(AuditHead, 1).seq, s.scalar(select(func.count()).select_from(User)))
    for path in paths:
        resp = client.post(path, data={"username": "x", "reason": "r", "password": "y" * 20})
        assert resp.status_code == 400, path
        assert b"CSRF" in resp.data, path
    with db(demo_app) as s:
        after = (s.get(AuditHead, 1).seq, s.scalar(select(func.count()).select_from(User)))
    assert after == before
    assert _logged_in(client)  # the logout without a token did nothing either


def test_a_login_post_without_a_token_records_nothing(client, demo_app):
    before = _head(demo_app)
    resp = client.post("/login", data={"username": "nurse", "password": "wrong"})
    assert resp.status_code == 400
    assert _head(demo_app) == before


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "//evil.example/login", "https://evil.example/", "/\\evil.example"],
)
def test_login_never_redirects_to_another_host(client, target):
    page = client.get("/login", query_string={"next": target})
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    resp = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "nurse", "password": PASSWORDS["nurse"], "csrf_token": token},
    )
    assert resp.status_code == 302
    location = resp.headers["Location"].replace("\\", "/")  # as a browser reads it
    assert urlsplit(urljoin("http://localhost/login", location)).netloc == "localhost"
    assert "evil" not in urlsplit(urljoin("http://localhost/login", location)).netloc


def test_login_follows_a_same_site_next(client):
    page = client.get("/login", query_string={"next": PAGE})
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    resp = client.post(
        "/login",
        query_string={"next": PAGE},
        data={"username": "nurse", "password": PASSWORDS["nurse"], "csrf_token": token},
    )
    assert resp.headers["Location"] == PAGE


def test_an_api_token_authenticates_and_a_revoked_one_is_refused(demo_app):
    route = api_get_route(demo_app)
    assert route is not None, "the API has an argument-free GET route"
    with db(demo_app) as s:
        tech = s.scalar(select(User).where(User.username == "tech"))
        token = api_tokens.create_token(s, None, tech)
    client = demo_app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(route, headers=auth).status_code == 200
    assert client.get(route).status_code in (401, 403)
    assert client.get(route, headers={"Authorization": "Bearer lt_forged"}).status_code in (
        401,
        403,
    )
    with db(demo_app) as s:
        row = s.scalar(select(ApiToken).where(ApiToken.user_id == tech.id))
        row.revoked_at = row.created_at
    assert client.get(route, headers=auth).status_code in (401, 403)
