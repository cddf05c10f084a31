"""The Notifications page and /api/v1/notifications: QA sees every notice with its delivery and
filters them; anyone else sees only their own (without an SMTP server, the app is where notices
are read); a bad filter is refused naming it. An administrator sets a person's e-mail address,
audited; a malformed one is refused and nothing is written."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from lotrack.models import MailOutbox, User
from lotrack.services import lot as lots
from tests.api.conftest import as_user, tokens  # noqa: F401 — fixtures
from tests.conftest import csrf_token, login, user
from tests.services.test_release import qa_contains


def recall(app: Flask) -> str:
    """A recall of the demo's shipped lot, committed; its number."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        record = qa_contains(
            s, "recall", reason="serum lot recalled", lot=lots.get_lot(s, "CFM-2025-0001")
        )
        s.commit()
        return record.number


def test_qa_sees_every_notice_and_filters_them(demo_app, client):
    number = recall(demo_app)
    login(client, "qa")
    page = client.get("/notifications").get_data(as_text=True)
    assert number in page and "in the app only" in page
    only = client.get(f"/notifications?event=recall&number={number.lower()}")
    text = only.get_data(as_text=True)
    # QA, the medical director and SZ-GIMI's staff (nurse, nurse2, doctor).
    assert only.status_code == 200 and text.count(f"<td>{number}</td>") == 5
    other = client.get("/notifications?event=oos_opened").get_data(as_text=True)
    assert number not in other


def test_a_site_user_sees_only_their_own_notices(demo_app, client):
    number = recall(demo_app)
    login(client, "doctor-cip")  # BJ-CIP: no unit of the lot went there
    assert number not in client.get("/notifications").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, "nurse")
    page = client.get("/notifications").get_data(as_text=True)
    assert number in page
    assert "Demo Site Nurse (nurse)" in page and "(qa)" not in page


def test_a_bad_filter_is_refused_naming_it(client):
    login(client, "qa")
    answer = client.get("/notifications?status=lost")
    assert answer.status_code == 422 and "status" in answer.get_data(as_text=True)


def test_the_api_lists_notices_as_the_page_does(demo_app, as_user):  # noqa: F811
    number = recall(demo_app)
    mine = as_user("nurse").get(f"/notifications?number={number}").get_json()
    assert [n["recipient"] for n in mine["items"]] == ["nurse"]
    assert mine["items"][0]["status"] == "in_app" and number in mine["items"][0]["subject"]
    everyone = as_user("qa").get(f"/notifications?event=recall&number={number}").get_json()
    assert sorted(n["recipient"] for n in everyone["items"]) == sorted(
        ["qa", "md", "nurse", "nurse2", "doctor"]
    )
    bad = as_user("qa").get("/notifications?event=party")
    assert bad.status_code == 422 and "event" in bad.get_json()["fields"]


def test_an_administrator_sets_an_email_address_audited(demo_app, client):
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        target = user(s, "nurse2").id
    login(client, "admin")
    form = client.get(f"/admin/users/{target}/email").get_data(as_text=True)
    assert "nurse2@example.org" in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    bad = client.post(
        f"/admin/users/{target}/email",
        data={"csrf_token": token, "email": "not an address", "reason": "typo"},
    )
    assert bad.status_code == 422
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert s.get(User, target).email == "nurse2@example.org"  # type: ignore[union-attr]
    done = client.post(
        f"/admin/users/{target}/email",
        data={"csrf_token": token, "email": "li.na@hospital.example.org", "reason": "new address"},
    )
    assert done.status_code == 302
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert s.get(User, target).email == "li.na@hospital.example.org"  # type: ignore[union-attr]
        assert s.scalar(select(MailOutbox.id).limit(1)) is not None  # the demo's own notices
