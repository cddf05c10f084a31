"""User administration: admins only; list, create and unlock users, with reasons and errors."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from lotrack.models import AuditEvent, AuditHead, User
from lotrack.services import seed, seed_worklist
from tests.conftest import csrf_token, lock_out, login

NEW = "/admin/users/new"


def _state(app) -> tuple[int, int]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return s.get(AuditHead, 1).seq, s.scalar(select(func.count()).select_from(User))


def _user(app, username: str) -> User | None:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return s.scalar(select(User).where(User.username == username))


def _create(client, **form):
    data = {"username": "lab.tech2", "full_name": "Second Technician", "role": "technician"}
    data.update(form)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(NEW, data={"csrf_token": csrf_token(client, NEW), **data})


def _code(resp) -> str:
    found = re.search(rb'<code id="enrolment-code">([^<]+)</code>', resp.data)
    assert found, "the enrolment code is shown"
    return found.group(1).decode()


def _enrol(app, code: str, password: str):
    client = app.test_client()
    token = csrf_token(client, f"/enrol/{code}")
    data = {"csrf_token": token, "code": code, "new": password, "confirm": password}
    return client.post("/enrol", data=data)


def _lock(app, username: str) -> None:
    lock_out(app, username)


@pytest.mark.parametrize("username", ["tech", "qa", "nurse"])
def test_only_admins_manage_users(client, demo_app, username):
    login(client, username)
    before = _state(demo_app)
    assert client.get("/admin/users").status_code == 403
    assert client.get(NEW).status_code == 403
    token = csrf_token(client, "/account/password")
    resp = client.post(
        NEW,
        data={"csrf_token": token, "username": "x1", "role": "admin", "password": "p" * 20},
    )
    assert resp.status_code == 403
    assert _state(demo_app) == before


def test_the_list_shows_role_site_and_locked_state(client, demo_app):
    _lock(demo_app, "nurse")
    login(client, "admin")
    resp = client.get("/admin/users")
    assert resp.status_code == 200
    rows = dict(re.findall(rb'<tr id="user-([^"]+)">(.*?)</tr>', resp.data, re.S))
    # The demo's logins, and the new QA account awaiting approval (services/seed_worklist.py).
    expected = {u for u, *_ in seed.DEMO_USERS} | {seed_worklist.PENDING_QA}
    assert set(rows) == {u.encode() for u in expected}
    assert b"<td>clinical</td>" in rows[b"nurse"] and b"<td>SZ-GIMI</td>" in rows[b"nurse"]
    assert b'data-state="locked"' in rows[b"nurse"] and b"Unlock" in rows[b"nurse"]
    assert b'data-state="active"' in rows[b"tech"] and b"Unlock" not in rows[b"tech"]
    assert b"<td>qa</td>" in rows[b"qa"]


def test_an_admin_creates_a_user_who_enrols_then_logs_in(client, demo_app):
    login(client, "admin")
    resp = _create(client)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    code = _code(resp)
    assert f"/enrol/{code}".encode() in resp.data
    assert b'data-state="awaiting-enrolment"' in client.get("/admin/users").data
    created = _user(demo_app, "lab.tech2")
    # No password exists until the person chooses one: nothing an administrator could know.
    assert created.role == "technician" and created.password_hash == ""
    assert created.enrolled_at is None and not created.must_change_password
    assert _enrol(demo_app, code, "a long enough passphrase").status_code == 302
    assert _user(demo_app, "lab.tech2").password_hash.startswith("$argon2id$")
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        ev = s.scalar(
            select(AuditEvent).where(
                AuditEvent.entity_type == "user_account", AuditEvent.entity_id == str(created.id)
            )
        )
        assert (ev.action, ev.actor) == ("create", "admin")
    other = demo_app.test_client()
    assert login(other, "lab.tech2", "a long enough passphrase").status_code == 302


def test_a_clinical_user_is_created_bound_to_a_site(client, demo_app):
    login(client, "admin")
    assert _create(client, username="nurse9", role="clinical", site="BJ-CIP").status_code == 200
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        nurse9 = s.scalar(select(User).where(User.username == "nurse9"))
        assert nurse9.site.code == "BJ-CIP"


def test_the_password_is_kept_exactly_as_typed(client, demo_app):
    login(client, "admin")
    assert _enrol(demo_app, _code(_create(client)), "  spaces around it  ").status_code == 302
    assert login(demo_app.test_client(), "lab.tech2", "  spaces around it  ").status_code == 302


@pytest.mark.parametrize(
    "form, status, field",
    [
        ({"role": "clinical"}, 422, "site"),
        ({"role": "technician", "site": "SZ-GIMI"}, 422, "site"),
        # The administrator cannot choose the password: the form has no such field.
        ({"password": "a long enough passphrase"}, 422, "password"),
        ({"role": "superuser"}, 422, "role"),
        ({"username": "no spaces allowed"}, 422, "username"),
        ({"username": ""}, 422, "username"),
        ({"username": "tech"}, 409, "username"),
    ],
)
def test_a_bad_user_is_refused_naming_the_field_and_nothing_is_written(
    client, demo_app, form, status, field
):
    login(client, "admin")
    before = _state(demo_app)
    resp = _create(client, **form)
    assert resp.status_code == status
    assert f"<b>{field}</b>".encode() in resp.data
    assert b"Nothing was saved" in resp.data
    assert b"a long enough passphrase" not in resp.data  # the password is never echoed back
    assert _state(demo_app) == before


def test_an_admin_unlocks_a_locked_user_with_a_reason(client, demo_app):
    _lock(demo_app, "nurse")
    assert login(demo_app.test_client(), "nurse").status_code == 401
    nurse = _user(demo_app, "nurse")
    login(client, "admin")
    path = f"/admin/users/{nurse.id}/unlock"
    assert b"Locked until" in client.get(path).data
    resp = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "ID seen"})
    assert resp.status_code == 302
    assert login(demo_app.test_client(), "nurse").status_code == 302
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        ev = s.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "update", AuditEvent.entity_id == str(nurse.id))
            .order_by(AuditEvent.seq.desc())
        )
        assert (ev.actor, ev.reason) == ("admin", "ID seen")
        assert json.loads(ev.changes)["locked_until"][1] is None


def test_an_unlock_without_a_reason_is_refused_and_the_user_stays_locked(client, demo_app):
    _lock(demo_app, "nurse")
    nurse = _user(demo_app, "nurse")
    login(client, "admin")
    path = f"/admin/users/{nurse.id}/unlock"
    before = _state(demo_app)
    resp = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "  "})
    assert resp.status_code == 422 and b"<b>reason</b>" in resp.data
    assert _state(demo_app) == before
    assert login(demo_app.test_client(), "nurse").status_code == 401


def test_unlocking_a_user_who_is_not_locked_is_refused(client, demo_app):
    tech = _user(demo_app, "tech")
    login(client, "admin")
    path = f"/admin/users/{tech.id}/unlock"
    before = _state(demo_app)
    resp = client.post(path, data={"csrf_token": csrf_token(client, path), "reason": "why not"})
    assert resp.status_code == 409 and b"not locked" in resp.data
    assert _state(demo_app) == before


def test_unlocking_an_unknown_user_is_not_found(client):
    login(client, "admin")
    assert client.get("/admin/users/99999/unlock").status_code == 404
