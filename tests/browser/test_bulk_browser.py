"""Bulk work and the demo's pending lot in a real browser (Debian's Chromium through Playwright):
a technician ticks a lot's results and verifies them in one confirmation; and a new user finishes
the demo's CFM-2025-0002 from the pages alone: the sterility reading due today is entered, a
second technician verifies it with the cell count, QA releases the lot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from flask import Flask

from tests.browser.conftest import TABLET, log_in
from tests.browser.test_walk_browser import click, menu, said, sign
from tests.services.test_results import fresh_lot, rec

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

TESTS = ("VIAB", "CD105", "CD73", "CD90", "CD45")


def tab(browser: Browser) -> tuple[Page, list[str]]:
    """A tablet-sized tab and the console errors and uncaught exceptions it meets."""
    page = browser.new_context(viewport=TABLET).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def lot_with_results(app: Flask) -> str:
    """A fresh quarantined lot with five results entered by tech."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        new = fresh_lot(s)
        for t in TESTS:
            rec(s, new, t)
        s.commit()
        return new.lot_number


def test_a_technician_verifies_a_lots_results_in_one_confirmation(demo_app, live, browser):
    number = lot_with_results(demo_app)
    page, errors = tab(browser)
    log_in(page, live, "tech2")
    page.goto(f"{live}/lots/{number}")
    boxes = page.locator('input[name=result][form="verify-selected"]')
    assert boxes.count() == len(TESTS)
    page.check("input[data-select-all]")  # shown by select_all.js; ticks every row
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    click(page, "#verify-selected button[type=submit]")
    assert page.url.startswith(f"{live}/lots/{number}")
    assert f"{len(TESTS)} results of lot {number} verified" in said(page, ".flash")
    assert boxes.count() == 0
    assert page.locator("table.results button:has-text('Verify')").count() == 0
    assert errors == []


def test_a_new_user_finishes_the_demo_pending_lot_from_the_pages(live, browser):
    lot = "CFM-2025-0002"
    tech, errors = tab(browser)
    log_in(tech, live, "tech")
    menu(tech, "Lots")
    click(tech, f"a:text-is('{lot}')")
    assert "Not releasable" in said(tech, ".evaluation .verdict-banner")
    # The pending sterility says when it started and when it is due, and leads to its reading.
    outcome = said(tech, "table.outcomes tr:has-text('Sterility')")
    assert "inoculated" in outcome and "due" in outcome
    click(tech, "table.outcomes a:has-text('Record the reading')")
    assert "Incubation started (inoculated) on" in said(tech, "#actions")
    tech.fill("#complete [name=value]", "No growth")  # the read-on date is today, prefilled
    click(tech, "#complete button[type=submit]")
    assert "read on" in said(tech, ".flash") and "is pass" in said(tech, ".flash")
    assert tech.url.startswith(f"{live}/lots/{lot}")

    tech2, errors2 = tab(browser)
    log_in(tech2, live, "tech2")
    tech2.goto(f"{live}/lots/{lot}")
    # The sterility reading (tech's) and the cell count (tech's): both await tech2.
    assert tech2.locator('input[name=result][form="verify-selected"]').count() == 2
    tech2.check("input[data-select-all]")
    click(tech2, "#verify-selected button[type=submit]")
    assert f"2 results of lot {lot} verified" in said(tech2, ".flash")
    assert said(tech2, ".evaluation .verdict-banner").endswith(" Releasable")

    qa, errors3 = tab(browser)
    log_in(qa, live, "qa")
    qa.goto(f"{live}/lots/{lot}")
    click(qa, "a:has-text('Release review')")
    assert "Releasable: no blocker" in said(qa, "[aria-label=Decision]")
    sign(qa, "#sign-release", "qa", "approved for release", "every criterion met")
    assert f"Lot {lot} is RELEASED" in said(qa, ".flash")
    assert errors == errors2 == errors3 == []
