"""Two hosts, one PostgreSQL: two gunicorn servers with separate instance folders, configured with
the same key files and session secret (README: Deploying on several hosts). A label printed
through one verifies and scans GO on the other, a browser session made on one works on the
other, and QA reviewers releasing and rejecting one lot through both at once leave one decision."""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask

from lotrack import create_app
from lotrack.services import api_tokens
from tests import clinical_setup as cs
from tests.api.test_release_api import add_user, signing
from tests.api.test_release_concurrency import recorded
from tests.conftest import FACILITY, PASSWORDS, user
from tests.documents.pdfs import QR, codes_per_page, only
from tests.release_setup import make_lot
from tests.test_crash_safety import serving


def call(
    port: int,
    method: str,
    path: str,
    *,
    token: str = "",
    body: dict | None = None,
    form: dict | None = None,
    cookie: str = "",
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Accept": "application/json"} if not form and not cookie else {}
        data = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            headers["Content-Type"], data = "application/json", json.dumps(body)
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urlencode(form)
        if cookie:
            headers["Cookie"] = cookie
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


@pytest.fixture
def shared_app(backend, demo_template, tmp_path) -> Iterator[Flask]:
    if not backend.pg:
        pytest.skip("several hosts share a PostgreSQL database; SQLite is one host's file")
    url = backend.clone(demo_template)
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "setup"),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_FACILITY_ID": FACILITY,
        }
    )
    yield app
    app.extensions["lotrack_db"].engine.dispose()
    backend.drop(url)


@pytest.fixture
def hosts(shared_app: Flask, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """Host A and host B: each its own instance folder, both on the one database."""
    url = shared_app.config["LOTRACK_DATABASE_URL"]
    with ExitStack() as stack:
        ports = [
            stack.enter_context(serving(url, tmp_path / name, tmp_path / f"{name}.log"))[0]
            for name in ("host-a", "host-b")
        ]
        yield ports[0], ports[1]


def tokens(app: Flask, *names: str) -> dict[str, str]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        made = {n: api_tokens.create_token(s, None, user(s, n)) for n in names}
        s.commit()
    return made


def test_a_label_printed_on_one_host_verifies_and_scans_go_on_the_other(shared_app, hosts):
    a, b = hosts
    din, _check = cs.ready_din(shared_app)
    cs.thaw(shared_app, din)
    made = tokens(shared_app, "tech", "nurse")
    status, _h, pdf = call(a, "POST", f"/api/v1/units/{din}/label.pdf", token=made["tech"], body={})
    assert status == 200, pdf[:500]
    printed = only(codes_per_page(pdf)[0], QR)
    status, _h, answer = call(b, "GET", urlsplit(printed).path)
    assert status == 200 and json.loads(answer)["genuine"] is True, answer
    check = {"patient": cs.READY, "scan": printed}
    status, _h, verdict = call(b, "POST", "/api/v1/bedside/check", token=made["nurse"], body=check)
    assert status == 200 and json.loads(verdict)["go"] is True, verdict


def test_a_session_made_on_one_host_works_on_the_other(hosts):
    a, b = hosts
    _s, headers, page = call(a, "GET", "/login", cookie="x=1")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    form = {"csrf_token": token, "username": "qa", "password": PASSWORDS["qa"]}
    status, headers, _ = call(a, "POST", "/login", form=form, cookie=cookie)
    assert status == 302, headers
    session = headers["Set-Cookie"].split(";", 1)[0]
    for port in (a, b):
        status, headers, page = call(port, "GET", "/lots", cookie=session)
        assert status == 200, (port, headers.get("Location"))
        assert b"CFM-2025-0001" in page
    status, headers, _ = call(b, "GET", "/lots", cookie=cookie)  # the anonymous cookie
    assert status == 302 and "/login" in headers["Location"]


def test_reviewers_on_both_hosts_at_once_leave_one_decision(shared_app, hosts):
    number = make_lot(shared_app)
    token2, password2 = add_user(shared_app, "qa2")
    people = [("qa", PASSWORDS["qa"], tokens(shared_app, "qa")["qa"]), ("qa2", password2, token2)]
    answers: list[tuple[int, bytes]] = []
    start = threading.Barrier(4)

    def decide(port: int, name: str, password: str, token: str, action: str) -> None:
        body = signing(name, action, password=password)
        start.wait()
        status, _h, data = call(
            port, "POST", f"/api/v1/lots/{number}/{action}", token=token, body=body
        )
        answers.append((status, data))

    threads = [
        threading.Thread(target=decide, args=(port, *person, action))
        for port, person, action in (
            (hosts[0], people[0], "release"),
            (hosts[1], people[1], "reject"),
            (hosts[1], people[0], "release"),
            (hosts[0], people[1], "reject"),
        )
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 409, 409, 409], answers
    won = json.loads(next(data for status, data in answers if status == 200))
    lot, sigs, events = recorded(shared_app, number, {"release", "reject"})
    assert lot.state == won["state"] and len(sigs) == 1 and len(events) == 1
