"""GET /api/v1/worklist answers the caller's worklist with the home page's counts and links."""

from __future__ import annotations

import re

from flask import Flask

from tests.conftest import login


def page_counts(demo_app: Flask, username: str) -> dict[str, int]:
    client = demo_app.test_client()
    login(client, username)
    html = client.get("/").get_data(as_text=True)
    found = re.findall(
        r'data-kind="([a-z_]+)">\s*<div class="worklist-head">\s*<span class="badge '
        r'worklist-count[^"]*" data-count="(\d+)"',
        html,
    )
    return {kind: int(n) for kind, n in found}


def test_the_api_worklist_mirrors_the_home_page(demo_app: Flask, as_user) -> None:
    for username in ("tech", "tech2", "qa", "md", "nurse", "doctor", "admin"):
        body = as_user(username).get("/worklist").get_json()
        api = {w["kind"]: w["count"] for w in body["work"]}
        assert api == page_counts(demo_app, username), username
        assert body["total"] == sum(api.values()) >= 1
    nurse = as_user("nurse").get("/worklist").get_json()
    assert nurse["role"] == "clinical"
    (due,) = [w for w in nurse["work"] if w["kind"] == "infusions_due"]
    assert due["url"] == "/bedside" and due["title"] == "Patients due for infusion"
    assert due["oldest"][0]["label"] == "SZ-GIMI/SUBJ-001"
    assert due["oldest"][0]["url"] == "/patients/SZ-GIMI/SUBJ-001"
    assert due["oldest"][0]["detail"].startswith("planned ")


def test_the_worklist_needs_a_token(as_user) -> None:
    assert as_user(None).get("/worklist").status_code == 401
