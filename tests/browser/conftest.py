"""Browser fixtures: the demo app served on a loopback port by a werkzeug thread, and a Chromium
tab from Debian's package driven by Playwright (browser downloads fail on these machines)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import PASSWORDS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 412, "height": 915}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def live(demo_app: Flask) -> Iterator[str]:
    """The demo app on http://127.0.0.1:<free port>."""
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium, started once per test process (a second or more each time: Playwright's
    driver and the browser); missing, it skips, or fails where LOTRACK_REQUIRE_BROWSER is set."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("LOTRACK_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium is required here and missing at {CHROMIUM}")
        pytest.skip("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def browser(chromium: object) -> Iterator[object]:
    """The process's Chromium for one test: the contexts (cookies, storage, tabs) a test opens are
    its own and closed after it, so no test sees another's, as with a browser of its own."""
    assert not chromium.contexts, "a test starts with no other test's tabs"
    yield chromium
    for context in list(chromium.contexts):
        context.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A tab the size of a phone."""
    context = browser.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


def log_in(page: object, live: str, username: str) -> None:
    """Log in through the login form as a demo user."""
    page.goto(f"{live}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS[username])
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()


def log_out(page: object, live: str) -> None:
    """Clear the browser's cookies: the next user starts a fresh session."""
    page.context.clear_cookies()


def check_at_bedside(page: object, patient: str, scan: str) -> set[str]:
    """On the bedside page: the wristband and the label's text typed in, the check asked; the
    classes of the verdict shown ("go" or "no-go" among them)."""
    page.fill("[name=patient]", patient)
    page.fill("[name=scan]", scan)
    page.click("form[data-bedside-form] button[type=submit]")
    verdict = page.locator(".bedside-verdict")
    verdict.wait_for()
    return set(verdict.get_attribute("class").split())
