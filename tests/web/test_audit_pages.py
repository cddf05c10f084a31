"""The audit page: who may read it, its filters and pages, chain verification, record history."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, text

from lotrack.migrations.guards import audit_unguard_statements
from lotrack.models import ApiToken, AuditEvent, AuditHead, User
from lotrack.services import api_tokens
from tests.conftest import lock_out, login, owner_engine

ROW = re.compile(rb"<tr>\s*<td>(\d+)</td>")


def _seqs(resp) -> list[int]:
    return [int(m) for m in ROW.findall(resp.data)]


def _head(app) -> int:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return s.get(AuditHead, 1).seq


@pytest.mark.parametrize("username", ["qa", "admin"])
def test_qa_and_admin_read_the_audit_trail(client, demo_app, username):
    login(client, username)
    resp = client.get("/audit")
    assert resp.status_code == 200
    last = _head(demo_app)
    assert _seqs(resp)[:3] == [last, last - 1, last - 2]
    assert b"Verify the chain" in resp.data


@pytest.mark.parametrize("username", ["tech", "nurse"])
def test_other_roles_may_not_read_the_audit_trail(client, username):
    login(client, username)
    for path in ("/audit", "/audit/verify", "/audit/record/site/1"):
        assert client.get(path).status_code == 403, path


def test_the_audit_trail_needs_a_login(client):
    resp = client.get("/audit")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_log_is_paginated(client, demo_app):
    login(client, "qa")
    last = _head(demo_app)
    first, second = client.get("/audit"), client.get("/audit?page=2")
    assert len(_seqs(first)) == 50
    assert _seqs(second)[0] == last - 50
    assert b'rel="next"' in first.data and b'rel="prev"' in second.data
    beyond = client.get("/audit?page=999")
    assert beyond.status_code == 200 and _seqs(beyond) == []


def test_filter_by_user_keeps_only_that_users_events(client):
    login(client, "qa")
    resp = client.get("/audit?actor=tech")
    rows = re.findall(rb"<tr>\s*<td>\d+</td>\s*<td>.*?</td>\s*<td>([^<]*)</td>", resp.data, re.S)
    assert rows and set(rows) == {b"tech"}
    assert b'rel="next"' in resp.data or len(rows) <= 50
    nothing = client.get("/audit?actor=nobody")
    assert _seqs(nothing) == [] and b"0 events" in nothing.data


def test_filter_by_record_type_and_id(client, demo_app):
    login(client, "qa")
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        nurse = s.scalar(select(User).where(User.username == "nurse"))
        expected = s.scalars(
            select(AuditEvent.seq)
            .where(AuditEvent.entity_type == "user_account", AuditEvent.entity_id == str(nurse.id))
            .order_by(AuditEvent.seq.desc())
        ).all()
    resp = client.get(f"/audit?entity_type=user_account&entity_id={nurse.id}")
    assert _seqs(resp) == expected  # the login made here included
    sites = client.get("/audit?entity_type=site")
    assert len(_seqs(sites)) == 3


def test_filter_by_date_range(client):
    login(client, "qa")
    today = dt.datetime.now(dt.UTC).date()
    yesterday, tomorrow = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    assert _seqs(client.get(f"/audit?since={today}&until={today}"))
    assert _seqs(client.get(f"/audit?until={yesterday}")) == []
    assert _seqs(client.get(f"/audit?since={tomorrow}")) == []


@pytest.mark.parametrize(
    "query, field",
    [("since=yesterday", "since"), ("until=2026-02-30", "until"), ("page=x", "page")],
)
def test_a_bad_filter_is_answered_naming_the_field(client, query, field):
    login(client, "qa")
    resp = client.get(f"/audit?{query}")
    assert resp.status_code == 422
    assert f"<b>{field}</b>".encode() in resp.data


def test_a_reversed_date_range_is_refused(client):
    login(client, "qa")
    resp = client.get("/audit?since=2026-03-02&until=2026-03-01")
    assert resp.status_code == 422 and b"<b>until</b>" in resp.data


def test_rows_show_changes_old_to_new_and_the_reason(client, demo_app):
    login(client, "admin")
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        nurse = s.scalar(select(User).where(User.username == "nurse"))
    lock_out(demo_app, "nurse")  # an admin then unlocks with a reason
    page = client.get(f"/admin/users/{nurse.id}/unlock")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    client.post(
        f"/admin/users/{nurse.id}/unlock",
        data={"csrf_token": token, "reason": "identity checked by phone"},
    )
    resp = client.get(f"/audit?actor=admin&entity_type=user_account&entity_id={nurse.id}")
    assert b"identity checked by phone" in resp.data
    assert re.search(
        rb"<b>locked_until</b>: \d{4}-\d\d-\d\dT[^<]* \xe2\x86\x92 \xe2\x80\x94", resp.data
    )


def test_secrets_are_never_shown(client, demo_app):
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        tech = s.scalar(select(User).where(User.username == "tech"))
        token = api_tokens.create_token(s, None, tech)
        s.commit()
        token_hash = s.scalar(select(ApiToken.token_hash))
    login(client, "admin")
    users = client.get("/audit?entity_type=user_account")
    tokens = client.get("/audit?entity_type=api_token")
    for resp in (users, tokens):
        assert b"(secret, not shown)" in resp.data
        assert b"$argon2" not in resp.data
        assert token_hash.encode() not in resp.data and token.encode() not in resp.data


def test_text_from_a_login_attempt_is_escaped(client):
    login(client, "<script>alert(1)</script>", "whatever password")
    login(client, "qa")
    resp = client.get("/audit?actor=system")
    assert b"<script>alert(1)</script>" not in resp.data
    assert b"&lt;script&gt;" in resp.data


def test_each_row_links_to_the_history_of_its_record(client):
    login(client, "qa")
    resp = client.get("/audit?entity_type=site")
    links = set(re.findall(rb'href="(/audit/record/site/[^"]+)"', resp.data))
    assert len(links) == 3
    page = client.get(next(iter(links)).decode())
    assert page.status_code == 200
    assert b"History" in page.data and b"create" in page.data
    assert len(_seqs(page)) == 1


def test_verify_shows_an_intact_chain(client, demo_app):
    login(client, "qa")
    resp = client.get("/audit/verify")
    assert resp.status_code == 200
    assert b'data-chain="intact"' in resp.data
    assert f"{_head(demo_app)} events verified".encode() in resp.data


def test_verify_names_the_event_changed_behind_the_applications_back(client, demo_app):
    with owner_engine(demo_app) as engine, engine.begin() as conn:
        for statement in audit_unguard_statements(engine.dialect.name):
            conn.execute(text(statement))
        conn.execute(text("UPDATE audit_event SET reason = 'edited' WHERE seq = 17"))
    login(client, "admin")
    resp = client.get("/audit/verify")
    assert b'data-chain="broken"' in resp.data
    assert b"Broken at event 17." in resp.data
    assert b"event 17 was altered" in resp.data
