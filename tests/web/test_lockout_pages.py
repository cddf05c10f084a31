"""Lockout through the browser, tried the way an attacker would: guessing from elsewhere on the
network never locks a QA user out nor ends her session; a forged X-Forwarded-For does not make an
address known; the waiting address gets 429 and writes nothing; an administrator sees and lifts
each lock with a reason."""

from __future__ import annotations

import re

from sqlalchemy import select

from lotrack.models import AuditEvent, AuditHead, LoginThrottle, User
from tests.conftest import PASSWORDS, csrf_token, login

HOME, ATTACKER = "198.51.100.10", "203.0.113.66"
PAGE = "/admin/lockouts"


def _from(app, address: str, username: str, password: str | None = None, **headers):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base.update(
        {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    )
    return client, login(client, username, password)


def _qa(app) -> User:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return s.scalars(select(User).where(User.username == "qa")).one()


def test_guessing_from_elsewhere_never_locks_qa_out_nor_ends_her_session(demo_app):
    demo_app.config["LOTRACK_LOGIN_FAILURES_PER_ADDRESS"] = 0  # the spray throttle aside
    qa, resp = _from(demo_app, HOME, "qa")
    assert resp.status_code == 302
    statuses = [_from(demo_app, ATTACKER, "qa", f"guess {n}")[1].status_code for n in range(20)]
    assert statuses[:4] == [401] * 4 and set(statuses[4:]) == {429}
    assert _qa(demo_app).locked_until is None and _qa(demo_app).failed_logins == 0
    assert qa.get("/lots").status_code == 200  # her session goes on
    assert _from(demo_app, HOME, "qa")[1].status_code == 302  # and she logs in again at her desk


def test_a_waiting_address_gets_429_with_retry_after_and_writes_nothing(demo_app):
    for n in range(4):
        _from(demo_app, ATTACKER, "qa", f"guess {n}")
    head = select(AuditHead.seq).where(AuditHead.id == 1)
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        before = s.scalar(head), s.scalar(select(LoginThrottle.failures))
    _client, resp = _from(demo_app, ATTACKER, "qa", PASSWORDS["qa"])  # right, but unheard
    assert resp.status_code == 429 and 0 < int(resp.headers["Retry-After"]) <= 60
    assert b"Try again after" in resp.data and PASSWORDS["qa"].encode() not in resp.data
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert (s.scalar(head), s.scalar(select(LoginThrottle.failures))) == before


def test_a_forged_forwarded_for_does_not_borrow_a_known_address(demo_app):
    assert _from(demo_app, HOME, "qa")[1].status_code == 302
    for n in range(6):
        _from(demo_app, ATTACKER, "qa", f"guess {n}", **{"X-Forwarded-For": HOME})
    assert _qa(demo_app).locked_until is None  # no proxy is trusted: the header is ignored


def test_behind_a_trusted_proxy_the_forwarded_address_counts(demo_app):
    demo_app.config["LOTRACK_TRUSTED_PROXIES"] = 1  # read at start-up: build a proxied app
    from werkzeug.middleware.proxy_fix import ProxyFix

    demo_app.wsgi_app = ProxyFix(demo_app.wsgi_app, x_for=1, x_proto=1)
    proxy = "10.0.0.2"
    assert _from(demo_app, proxy, "qa", **{"X-Forwarded-For": HOME})[1].status_code == 302
    for n in range(5):  # the guesser behind the same proxy is told apart by the header
        _from(demo_app, proxy, "qa", f"guess {n}", **{"X-Forwarded-For": ATTACKER})
    assert _qa(demo_app).locked_until is None
    for n in range(5):
        _from(demo_app, proxy, "qa", f"typo {n}", **{"X-Forwarded-For": HOME})
    assert _qa(demo_app).locked_until is not None


def test_an_admin_sees_each_lock_and_lifts_one_with_a_reason(client, demo_app):
    for n in range(4):
        _from(demo_app, ATTACKER, "nurse", f"guess {n}")
    login(client, "admin")
    page = client.get(PAGE)
    assert page.status_code == 200
    rows = re.findall(rb'<tr id="(address-\d+)" data-kind="login">(.*?)</tr>', page.data, re.S)
    # The address's row for nurse, and its row for any username (the spray throttle's count).
    assert sorted(b"nurse" in r[1] for r in rows) == [False, True]
    assert all(ATTACKER.encode() in r[1] for r in rows)
    assert b"any username" in next(r[1] for r in rows if b"nurse" not in r[1])
    row_id, row_html = next(r for r in rows if b"nurse" in r[1])
    path = re.search(rb'action="(/admin/lockouts/addresses/\d+/lift)"', row_html).group(1)
    token = csrf_token(client, PAGE)
    refused = client.post(path.decode(), data={"csrf_token": token, "reason": "  "})
    assert refused.status_code == 422 and b'id="err-' + row_id in refused.data
    done = client.post(path.decode(), data={"csrf_token": token, "reason": "nurse's new tablet"})
    assert done.status_code == 302
    assert b'<tr id="' + row_id not in client.get(PAGE).data  # the flash names it, no row
    assert _from(demo_app, ATTACKER, "nurse")[1].status_code == 302
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        ev = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "login_throttle")
            .order_by(AuditEvent.seq.desc())
        ).first()
        assert (ev.actor, ev.reason) == ("admin", "nurse's new tablet")


def test_lifting_what_is_not_there_or_by_a_non_admin_is_refused(client, demo_app):
    login(client, "admin")
    token = csrf_token(client, PAGE)
    missing = client.post(
        "/admin/lockouts/addresses/99999/lift", data={"csrf_token": token, "reason": "r"}
    )
    assert missing.status_code == 404
    qa_id = _qa(demo_app).id
    bad = client.post(
        f"/admin/lockouts/users/{qa_id}/nonsense/lift", data={"csrf_token": token, "reason": "r"}
    )
    assert bad.status_code == 404
    not_locked = client.post(
        f"/admin/lockouts/users/{qa_id}/signing/lift", data={"csrf_token": token, "reason": "r"}
    )
    assert not_locked.status_code == 409 and b"nothing to lift" in not_locked.data
    other = demo_app.test_client()
    login(other, "qa")
    assert other.get(PAGE).status_code == 403
