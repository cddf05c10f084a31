"""The bedside page in a real browser (Debian's Chromium through Playwright): a nurse scans the
wristband and the label with a keyboard-wedge scanner and gets GO; after a recall the same label
gives NO-GO. The page raises no console error and asks nothing of another origin.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from flask import Flask

from tests import clinical_setup as cs
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_a_nurse_scans_go_and_after_a_recall_no_go(demo_app: Flask, live: str, page) -> None:
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    errors: list[str] = []
    origins: set[str] = set()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: origins.add(urlparse(r.url).netloc))

    log_in(page, live, "nurse")
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
