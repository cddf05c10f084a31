"""The bedside page in a real browser (Debian's Chromium through Playwright): a nurse scans the
wristband and the label with a keyboard-wedge scanner and gets GO; after a recall the same label
gives NO-GO. The page raises no console error and asks nothing of another origin.

The full technician → QA → site walk of issue 6 is still to be written; this is its last leg.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests import clinical_setup as cs
from tests.conftest import PASSWORDS

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def live(demo_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page(live: str) -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("LOTRACK_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium is required here and missing at {CHROMIUM}")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 412, "height": 915})  # a phone
        yield tab
        browser.close()


def test_a_nurse_scans_go_and_after_a_recall_no_go(demo_app: Flask, live: str, page) -> None:
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    errors: list[str] = []
    origins: set[str] = set()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: origins.add(urlparse(r.url).netloc))

    page.goto(f"{live}/login")
    page.fill("input[name=username]", "nurse")
    page.fill("input[name=password]", PASSWORDS["nurse"])
    page.press("input[name=password]", "Enter")
    page.goto(f"{live}/bedside")
    # A keyboard-wedge scanner types the code and presses Enter.
    page.fill("[name=patient]", cs.READY)
    page.fill("[name=scan]", cs.label(demo_app, din))
    page.click("form[data-bedside-form] button[type=submit]")
    verdict = page.locator(".bedside-verdict")
    verdict.wait_for()
    assert "go" in verdict.get_attribute("class").split()
    assert page.inner_text(".bedside-banner").strip().endswith("GO")

    cs.recall(demo_app)
    page.goto(f"{live}/bedside")
    page.fill("[name=patient]", cs.READY)
    page.fill("[name=scan]", cs.label(demo_app, din))
    page.click("form[data-bedside-form] button[type=submit]")
    page.locator(".bedside-verdict").wait_for()
    assert "no-go" in page.locator(".bedside-verdict").get_attribute("class").split()
    assert "RECALLED" in page.inner_text(".bedside-reasons")

    assert errors == []
    assert origins == {urlparse(live).netloc}
