"""Accounts under two people: an administrator never sets or sees a password (enrolment codes),
a password someone else chose is changed before anything else, and a signing or admin role takes
a second administrator's approval. Each test tries to get round one of these."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

import pytest
from sqlalchemy import func, select, update

from lotrack.models import AuditEvent, AuditHead, Enrolment, RoleGrant, User
from lotrack.services import accounts, api_tokens
from tests.conftest import api_get_route, csrf_token, login

NEW = "/admin/users/new"
PASSPHRASE = "a long enough passphrase"


def _db(app):
    return app.extensions["lotrack_db"].sessionmaker()


def _user(app, username: str) -> User:
    with _db(app) as s:
        return s.scalar(select(User).where(User.username == username))


def _head(app) -> int:
    with _db(app) as s:
        return s.get(AuditHead, 1).seq


def _events(app, action: str) -> list[AuditEvent]:
    with _db(app) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _make(app, username: str, role: str, *, must_change: bool = False) -> None:
    """An account made outside the admin pages (as the seed or the command line makes one)."""
    with _db(app) as s:
        accounts.create_user(
            s, None, username=username, full_name=username, role=role, password=PASSPHRASE,
            must_change_password=must_change,
        )  # fmt: skip
        s.commit()


def _post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def _create(client, **form):
    data = {"username": "lab.tech2", "full_name": "Second Technician", "role": "technician"}
    return _post(client, NEW, **{**data, **form})


def _code(resp) -> str:
    found = re.search(rb'<code id="enrolment-code">([^<]+)</code>', resp.data)
    assert found, resp.data[:2000]
    return found.group(1).decode()


def _enrol(app, code: str, password: str = PASSPHRASE, confirm: str | None = None):
    client = app.test_client()
    token = csrf_token(client, "/enrol")
    data = {"csrf_token": token, "code": code, "new": password, "confirm": confirm or password}
    return client.post("/enrol", data=data)


def _admin(app):
    client = app.test_client()
    login(client, "admin")
    return client


# --- enrolment --------------------------------------------------------------------------------


def test_the_code_is_shown_once_and_kept_only_as_its_hash(demo_app):
    client = _admin(demo_app)
    code = _code(_create(client))
    with _db(demo_app) as s:
        # The demo's own invitation (services/seed_worklist.py) aside: this one's.
        row = s.scalar(
            select(Enrolment)
            .join(User, Enrolment.user_id == User.id)
            .where(User.username == "lab.tech2")
        )
        assert row.token_hash == hashlib.sha256(code.encode()).hexdigest()
        assert row.expires_at - row.issued_at == dt.timedelta(hours=72)
        trail = " ".join(e.changes for e in s.scalars(select(AuditEvent)))
    assert code not in trail and row.token_hash not in trail
    assert code.encode() not in client.get("/admin/users").data


def test_login_before_enrolment_is_refused_saying_why(demo_app):
    _create(_admin(demo_app))
    for password in ("", "anything at all", PASSPHRASE):
        resp = login(demo_app.test_client(), "lab.tech2", password or "x")
        assert resp.status_code == 401 and b"not enrolled yet" in resp.data
    assert len(_events(demo_app, "login_refused_not_enrolled")) == 3


def test_the_link_opens_the_form_and_enrolment_lets_the_person_log_in(demo_app):
    code = _code(_create(_admin(demo_app)))
    page = demo_app.test_client().get(f"/enrol/{code}")
    assert page.status_code == 200 and b"lab.tech2" in page.data
    assert page.headers["Referrer-Policy"] == "no-referrer"
    resp = _enrol(demo_app, code)
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert login(demo_app.test_client(), "lab.tech2", PASSPHRASE).status_code == 302
    (ev,) = _events(demo_app, "enrolled")
    assert ev.actor == "lab.tech2"


def test_a_code_is_single_use(demo_app):
    code = _code(_create(_admin(demo_app)))
    assert _enrol(demo_app, code).status_code == 302
    before = _head(demo_app)
    resp = _enrol(demo_app, code, "someone else's passphrase")
    assert resp.status_code == 409 and b"already used" in resp.data
    assert _head(demo_app) == before
    assert login(demo_app.test_client(), "lab.tech2", PASSPHRASE).status_code == 302


@pytest.mark.parametrize("code", ["not-a-code", "x" * 500, ""])
def test_a_wrong_code_is_refused_and_writes_nothing(demo_app, code):
    _create(_admin(demo_app))
    before = _head(demo_app)
    resp = _enrol(demo_app, code)
    assert resp.status_code in (404, 422) and b"Nothing was saved" in resp.data
    assert b"<b>code</b>" in resp.data
    assert _head(demo_app) == before
    assert demo_app.test_client().get("/enrol/not-a-code").status_code == 404


def test_an_expired_code_is_refused(demo_app):
    code = _code(_create(_admin(demo_app)))
    with _db(demo_app) as s:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        s.execute(update(Enrolment).values(expires_at=past))
        s.commit()
    resp = _enrol(demo_app, code)
    assert resp.status_code == 409 and b"expired" in resp.data
    assert _user(demo_app, "lab.tech2").enrolled_at is None


@pytest.mark.parametrize(
    "password, confirm, field",
    [("elevenchars", None, "new"), (PASSPHRASE, "another passphrase", "confirm")],
)
def test_a_bad_password_at_enrolment_names_the_field_and_keeps_the_code(
    demo_app, password, confirm, field
):
    code = _code(_create(_admin(demo_app)))
    before = _head(demo_app)
    resp = _enrol(demo_app, code, password, confirm)
    assert resp.status_code == 422 and f'id="err-{field}"'.encode() in resp.data
    assert password.encode() not in resp.data
    assert _head(demo_app) == before
    assert _enrol(demo_app, code).status_code == 302  # the code still works


def test_a_new_code_replaces_the_old_one_and_ends_the_password(demo_app):
    admin = _admin(demo_app)
    first = _code(_create(admin))
    assert _enrol(demo_app, first).status_code == 302
    person = demo_app.test_client()
    assert login(person, "lab.tech2", PASSPHRASE).status_code == 302
    path = f"/admin/users/{_user(demo_app, 'lab.tech2').id}/enrolment"
    assert _post(admin, path, reason="  ").status_code == 422
    second = _code(_post(admin, path, reason="forgot the password"))
    third = _code(_post(admin, path, reason="the second was lost"))
    assert person.get("/").status_code == 302  # the session ended with the reset
    assert login(demo_app.test_client(), "lab.tech2", PASSPHRASE).status_code == 401
    assert b"replaced" in _enrol(demo_app, second).data
    assert _enrol(demo_app, third, "my own new passphrase").status_code == 302
    assert login(demo_app.test_client(), "lab.tech2", "my own new passphrase").status_code == 302
    (reset, _again) = _events(demo_app, "password_reset")
    assert (reset.actor, reset.reason) == ("admin", "forgot the password")
    assert "$argon2" not in " ".join(e.changes for e in _events(demo_app, "update"))


def test_an_admin_cannot_reset_their_own_password(demo_app):
    admin = _admin(demo_app)
    path = f"/admin/users/{_user(demo_app, 'admin').id}/enrolment"
    assert _post(admin, path, reason="mine").status_code == 409


def test_a_reset_account_s_api_token_stops_working(demo_app):
    with _db(demo_app) as s:
        token = api_tokens.create_token(
            s, None, s.scalar(select(User).where(User.username == "tech"))
        )
        s.commit()
    route = api_get_route(demo_app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert demo_app.test_client().get(route, headers=bearer).status_code == 200
    _post(_admin(demo_app), f"/admin/users/{_user(demo_app, 'tech').id}/enrolment", reason="left")
    assert demo_app.test_client().get(route, headers=bearer).status_code == 401


# --- a password someone else chose ------------------------------------------------------------


def test_a_given_password_must_be_changed_before_anything_else(demo_app):
    _make(demo_app, "given", "technician", must_change=True)
    client = demo_app.test_client()
    assert login(client, "given", PASSPHRASE).status_code == 302
    for path in ("/", "/lots", "/admin/users", "/enrol"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"] == "/account/password", path
    resp = client.post("/lots/new", data={"csrf_token": csrf_token(client, "/account/password")})
    assert resp.status_code == 302 and resp.headers["Location"] == "/account/password"
    assert b'id="must-change"' in client.get("/account/password").data
    data = {
        "current": PASSPHRASE,
        "new": "my very own passphrase",
        "confirm": "my very own passphrase",
    }
    assert _post(client, "/account/password", **data).status_code == 302
    assert login(client, "given", "my very own passphrase").status_code == 302
    assert client.get("/lots").status_code == 200
    assert not _user(demo_app, "given").must_change_password
    (ev,) = [e for e in _events(demo_app, "password_changed") if e.actor == "given"]
    assert json.loads(ev.changes)["must_change_password"] == [None, False]


def test_a_given_password_opens_no_api_and_signs_nothing(demo_app):
    _make(demo_app, "given", "qa", must_change=True)
    with _db(demo_app) as s:
        user = s.scalar(select(User).where(User.username == "given"))
        token = api_tokens.create_token(s, None, user)
        assert not accounts.check_password(user, PASSPHRASE)  # no e-signature with it
        s.commit()
    resp = demo_app.test_client().get(
        api_get_route(demo_app), headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 403 and "choose your own password" in resp.get_json()["message"]


def test_the_demo_logins_need_no_change(demo_app):
    client = demo_app.test_client()
    assert login(client, "qa").status_code == 302
    assert client.get("/").status_code == 200


# --- roles that take a second administrator ---------------------------------------------------


def _grant(app, username: str) -> RoleGrant:
    with _db(app) as s:
        user = s.scalar(select(User).where(User.username == username))
        return s.scalar(select(RoleGrant).where(RoleGrant.user_id == user.id))


def _decide(client, grant_id: int, decision: str, reason: str = ""):
    return _post(client, f"/admin/grants/{grant_id}", decision=decision, reason=reason)


def test_a_qa_account_is_usable_only_after_a_second_admin_approves(demo_app):
    admin = _admin(demo_app)
    resp = _create(admin, username="qa2", role="qa", reason="second QA reviewer")
    assert b'data-state="awaiting-approval"' in resp.data
    code = _code(resp)
    assert _enrol(demo_app, code).status_code == 302
    assert b"disabled" in login(demo_app.test_client(), "qa2", PASSPHRASE).data
    grant = _grant(demo_app, "qa2")
    assert grant.state == "pending" and grant.previous_role is None
    listing = admin.get("/admin/users").data
    assert f'id="grant-{grant.id}"'.encode() in listing
    assert b'data-state="awaiting-approval"' in listing
    # The requester cannot approve their own request, through the page or otherwise.
    before = _head(demo_app)
    assert _decide(admin, grant.id, "approve").status_code == 403
    assert _head(demo_app) == before and not _user(demo_app, "qa2").active
    _make(demo_app, "admin2", "admin")
    second = demo_app.test_client()
    login(second, "admin2", PASSPHRASE)
    assert _decide(second, grant.id, "approve").status_code == 302
    assert _user(demo_app, "qa2").active
    assert login(demo_app.test_client(), "qa2", PASSPHRASE).status_code == 302
    assert _decide(second, grant.id, "refuse", "too late").status_code == 409
    (ev,) = _events(demo_app, "role_grant_approved")
    assert ev.actor == "admin2" and json.loads(ev.changes)["state"] == ["pending", "approved"]
    decided = _grant(demo_app, "qa2")
    assert decided.decided_by_id == _user(demo_app, "admin2").id and decided.decided_at


def test_a_refused_grant_needs_a_reason_and_leaves_the_account_unusable(demo_app):
    _create(_admin(demo_app), username="md2", role="medical_director")
    grant = _grant(demo_app, "md2")
    _make(demo_app, "admin2", "admin")
    second = demo_app.test_client()
    login(second, "admin2", PASSPHRASE)
    assert _decide(second, grant.id, "refuse").status_code == 422
    assert _decide(second, grant.id, "refuse", "not on the delegation log").status_code == 302
    assert not _user(demo_app, "md2").active
    (ev,) = _events(demo_app, "role_grant_refused")
    assert (ev.actor, ev.reason) == ("admin2", "not on the delegation log")


def test_a_role_change_to_qa_takes_effect_only_on_approval(demo_app):
    admin = _admin(demo_app)
    tech = _user(demo_app, "tech2")
    path = f"/admin/users/{tech.id}/role"
    assert _post(admin, path, role="qa", reason="").status_code == 422
    assert _post(admin, path, role="qa", reason="promoted").status_code == 302
    assert _user(demo_app, "tech2").role == "technician"  # unchanged while pending
    assert _post(admin, path, role="admin", reason="again").status_code == 409
    _make(demo_app, "admin2", "admin")
    second = demo_app.test_client()
    login(second, "admin2", PASSPHRASE)
    assert _decide(second, _grant(demo_app, "tech2").id, "approve").status_code == 302
    assert _user(demo_app, "tech2").role == "qa"
    with _db(demo_app) as s:
        ev = s.scalar(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "user_account", AuditEvent.entity_id == str(tech.id))
            .order_by(AuditEvent.seq.desc())
        )
    assert ev.actor == "admin2" and json.loads(ev.changes)["role"] == ["technician", "qa"]


def test_a_role_anyone_may_give_changes_at_once_with_a_reason(demo_app):
    admin = _admin(demo_app)
    qa = _user(demo_app, "qa")
    assert (
        _post(admin, f"/admin/users/{qa.id}/role", role="technician", reason="left QA").status_code
        == 302
    )
    assert _user(demo_app, "qa").role == "technician"
    with _db(demo_app) as s:
        assert not s.scalar(
            select(func.count()).select_from(RoleGrant).where(RoleGrant.user_id == qa.id)
        )


def test_an_admin_the_requester_enrolled_is_not_a_second_person(demo_app):
    admin = _admin(demo_app)
    _make(demo_app, "admin2", "admin")
    code = _code(_create(admin, username="admin3", role="admin"))
    second = demo_app.test_client()
    login(second, "admin2", PASSPHRASE)
    assert _enrol(demo_app, code).status_code == 302
    assert _decide(second, _grant(demo_app, "admin3").id, "approve").status_code == 302
    # admin enrolled admin3 with a code only admin saw: admin3 may not approve admin's requests.
    _create(admin, username="qa9", role="qa")
    third = demo_app.test_client()
    login(third, "admin3", PASSPHRASE)
    resp = _decide(third, _grant(demo_app, "qa9").id, "approve")
    assert resp.status_code == 403 and b"requester issued" in resp.data
    assert not _user(demo_app, "qa9").active


def test_a_grant_is_approved_only_once_the_person_has_enrolled(demo_app):
    code = _code(_create(_admin(demo_app), username="qa2", role="qa"))
    _make(demo_app, "admin2", "admin")
    second = demo_app.test_client()
    login(second, "admin2", PASSPHRASE)
    grant = _grant(demo_app, "qa2")
    resp = _decide(second, grant.id, "approve")
    assert resp.status_code == 409 and b"not enrolled yet" in resp.data
    assert _grant(demo_app, "qa2").state == "pending"
    assert _enrol(demo_app, code).status_code == 302
    assert _decide(second, grant.id, "approve").status_code == 302


def test_a_reset_of_a_qa_account_holds_it_until_a_second_admin_reinstates_it(demo_app):
    admin = _admin(demo_app)
    qa = _user(demo_app, "qa")
    resp = _post(admin, f"/admin/users/{qa.id}/enrolment", reason="lost phone")
    assert b'data-state="awaiting-approval"' in resp.data
    assert _enrol(demo_app, _code(resp)).status_code == 302
    # Whoever held the code (the administrator too) cannot sign as QA yet.
    assert login(demo_app.test_client(), "qa", PASSPHRASE).status_code == 401
    grant = _grant(demo_app, "qa")
    assert (grant.role, grant.previous_role) == ("qa", "qa")
    _make(demo_app, "admin2", "admin")
    second = demo_app.test_client()
    login(second, "admin2", PASSPHRASE)
    assert _decide(second, grant.id, "approve").status_code == 302
    assert login(demo_app.test_client(), "qa", PASSPHRASE).status_code == 302
