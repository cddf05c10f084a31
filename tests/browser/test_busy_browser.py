"""Long work is sent once (issue 18 item 6): a double click on Import or on a signature's submit
sends one request and records one import or one signature, and while the server works the form
says so (a live region) and its button shows it is busy (static/js/busy.js, no inline script)."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import func, select

from lotrack.models.lot import Lot
from lotrack.models.result import Result
from lotrack.services.seed_quality import RELEASE_VALUES
from tests.browser.conftest import log_in
from tests.conftest import PASSWORDS
from tests.release_setup import make_lot

pytestmark = pytest.mark.browser

COUNTER = ("VIAB", "CELLS")
HARVESTED = dt.date(2025, 8, 18)


def _export() -> bytes:
    rows = ["test,value,unit,performed_on,instrument"]
    rows += [f"{t},{v},{u},{HARVESTED},cell counter" for t, v, u in RELEASE_VALUES if t in COUNTER]
    return ("\n".join(rows) + "\n").encode()


def _posts(page, action: str) -> list[str]:
    """Every POST the tab sends to `action`, as it sends them."""
    sent: list[str] = []

    def seen(request: object) -> None:
        if request.method == "POST" and action in request.url:
            sent.append(request.url)

    page.on("request", seen)
    return sent


def _results(app: Flask, lot_number: str, test: str) -> int:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        lot = s.scalar(select(Lot).where(Lot.lot_number == lot_number))
        return s.scalar(
            select(func.count(Result.id)).where(Result.lot_id == lot.id, Result.test_code == test)
        )


def test_a_double_click_on_import_imports_once(demo_app: Flask, live: str, page) -> None:
    lot = make_lot(demo_app, harvested_on=HARVESTED, left_out=COUNTER)
    log_in(page, live, "tech")
    page.goto(f"{live}/lots/{lot}")
    page.click("#import summary")
    action = page.get_attribute("#import form", "action")
    sent = _posts(page, action)
    export = {"name": "counter.csv", "mimeType": "text/csv", "buffer": _export()}
    page.set_input_files("#import [name=file]", export)
    with page.expect_navigation():
        page.dblclick("#import button[type=submit]")
    page.wait_for_load_state()
    assert len(sent) == 1, sent
    assert "2 results imported" in page.inner_text(".flash")
    assert [_results(demo_app, lot, t) for t in COUNTER] == [1, 1]


def test_while_a_signature_is_sent_the_form_says_it_works_and_takes_no_second(
    demo_app: Flask, live: str, page
) -> None:
    lot = make_lot(demo_app)
    log_in(page, live, "qa")
    page.goto(f"{live}/lots/{lot}/release")
    form = "#sign-release"
    page.click(f"{form} summary")
    page.fill(f"{form} [name=username]", "qa")
    page.fill(f"{form} [name=password]", PASSWORDS["qa"])
    page.select_option(f"{form} [name=meaning]", "approved for release")
    page.fill(f"{form} [name=reason]", "every criterion met")
    action = page.get_attribute(f"{form} form", "action")
    # The server answers "204 No Content": the page stays as it is while a slow server works.
    sent: list[str] = []

    def answer(route: object) -> None:
        sent.append(route.request.url)
        route.fulfill(status=204)

    page.route(f"**{action}", answer)
    button = page.locator(f"{form} button[type=submit]")
    button.click()
    assert page.inner_text(f"{form} .busy-note") == "Working…"
    assert page.get_attribute(f"{form} .busy-note", "role") == "status"
    assert button.get_attribute("aria-disabled") == "true"
    assert "busy" in (button.get_attribute("class") or "")
    # Impatient (forced: Playwright itself waits for a button marked aria-disabled): dropped.
    button.click(force=True)
    page.wait_for_timeout(300)
    assert len(sent) == 1
    page.unroute(f"**{action}")


def test_a_double_click_on_a_signature_signs_once(demo_app: Flask, live: str, page) -> None:
    lot = make_lot(demo_app)
    log_in(page, live, "qa")
    page.goto(f"{live}/lots/{lot}/release")
    form = "#sign-release"
    page.click(f"{form} summary")
    page.fill(f"{form} [name=username]", "qa")
    page.fill(f"{form} [name=password]", PASSWORDS["qa"])
    page.select_option(f"{form} [name=meaning]", "approved for release")
    page.fill(f"{form} [name=reason]", "every criterion met")
    sent = _posts(page, page.get_attribute(f"{form} form", "action"))
    with page.expect_navigation():
        page.dblclick(f"{form} button[type=submit]")
    page.wait_for_load_state()
    assert len(sent) == 1, sent
    assert f"Lot {lot} is RELEASED" in page.inner_text(".flash")
    assert not page.locator(".error[role=alert]").count()
