"""/audit/verify walks the chain in bounded steps: each request checks at most
AUDIT_VERIFY_EVENTS_PER_REQUEST events, says how far it got and goes on by itself; only the
step that reaches the head may say "intact"."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import text

from lotrack.migrations.guards import audit_unguard_statements
from lotrack.services import audit
from tests.conftest import login, owner_engine
from tests.web.test_audit_pages import _head

NEXT = re.compile(r'href="([^"]+)" data-walk="next"')


def _steps(client, first: str = "/audit/verify") -> list[str]:
    """Every page of one walk, following its "Continue" link until a verdict."""
    pages = [client.get(first).get_data(as_text=True)]
    while (found := NEXT.search(pages[-1])) and len(pages) < 50:
        pages.append(client.get(found.group(1).replace("&amp;", "&")).get_data(as_text=True))
    return pages


def test_the_walk_goes_in_bounded_steps_to_an_honest_verdict(client, demo_app: Flask) -> None:
    login(client, "qa")  # a login is an event too: the head is counted after it
    head = _head(demo_app)
    step = head // 3 + 1
    demo_app.config["LOTRACK_AUDIT_VERIFY_EVENTS_PER_REQUEST"] = step
    pages = _steps(client)
    assert len(pages) == 3
    for number, page in enumerate(pages[:-1], start=1):
        assert 'data-chain="checking"' in page and "intact" not in page.lower()
        assert f"Checked {number * step} of {head} events" in page
        assert 'http-equiv="refresh"' in page
    assert 'data-chain="intact"' in pages[-1] and f"{head} events verified" in pages[-1]
    assert 'http-equiv="refresh"' not in pages[-1]


def test_an_altered_place_starts_the_walk_again(client, demo_app: Flask) -> None:
    login(client, "qa")
    head = _head(demo_app)
    demo_app.config["LOTRACK_AUDIT_VERIFY_EVENTS_PER_REQUEST"] = 10
    first = client.get("/audit/verify").get_data(as_text=True)
    second = client.get(NEXT.search(first).group(1))
    assert f"Checked 20 of {head} events" in second.get_data(as_text=True)
    forged = client.get("/audit/verify?walk=WzUwMCwiMDAiLDBd.forged").get_data(as_text=True)
    assert f"Checked 10 of {head} events" in forged  # from event 1 again, not from 500


def test_a_later_step_names_the_event_changed(client, demo_app: Flask) -> None:
    with owner_engine(demo_app) as engine, engine.begin() as conn:  # the insider, as the owner
        for statement in audit_unguard_statements(engine.dialect.name):
            conn.execute(text(statement))
        conn.execute(text("UPDATE audit_event SET reason = 'edited' WHERE seq = 17"))
    demo_app.config["LOTRACK_AUDIT_VERIFY_EVENTS_PER_REQUEST"] = 5
    login(client, "admin")
    pages = _steps(client)
    assert len(pages) == 4  # events 1-5, 6-10, 11-15, then the break at 17
    assert "Checked 15 of" in pages[2]
    assert 'data-chain="broken"' in pages[-1] and "Broken at event 17." in pages[-1]


def test_steps_agree_with_the_whole_walk(session) -> None:
    whole = audit.verify(session)
    report, steps = audit.verify(session, limit=7), 1
    while report.resume is not None:
        assert report.ok and report.checked == 7 * steps
        report, steps = audit.verify(session, start=report.resume, limit=7), steps + 1
    assert (report.ok, report.checked, report.message) == (whole.ok, whole.checked, whole.message)
