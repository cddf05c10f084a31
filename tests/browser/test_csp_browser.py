"""The strict Content-Security-Policy in a real browser (Debian's Chromium through Playwright):
the bedside page, with a scan, and the other pages a nurse and QA use raise no policy violation,
and nothing is asked of another origin. A deliberate inline script proves the watch sees one."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from flask import Flask

from tests import clinical_setup as cs
from tests.browser.conftest import log_in, log_out

pytestmark = pytest.mark.browser

# Installed before any page script: every violation is kept in the page and sent to the test.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  const text = `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${where}`;
  window.__violations.push(text);
  window.reportViolation(text);
});
"""


class Watch:
    """CSP violations (events and console messages) and the origins of every request."""

    def __init__(self, page, live: str) -> None:
        self.page, self.live = page, urlparse(live).netloc
        self.violations: list[str] = []
        self.console: list[str] = []
        self.origins: set[str] = set()
        page.expose_function("reportViolation", self._violation)
        page.add_init_script(WATCH)
        page.on("console", self._console)
        page.on("request", self._request)

    def _violation(self, text: str) -> None:
        self.violations.append(text)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or message.type == "error":
            self.console.append(message.text)

    def _request(self, request) -> None:
        url = urlparse(request.url)
        if url.scheme not in ("data", "blob"):
            self.origins.add(url.netloc)

    def settled(self) -> list[str]:
        """The violations this page reported, once queued events have been delivered."""
        self.page.wait_for_load_state("load")
        return self.page.evaluate(
            "() => new Promise((done) => requestAnimationFrame(() => setTimeout(() =>"
            " done(window.__violations), 0)))"
        )

    def visit(self, path: str, status: int = 200) -> None:
        before = len(self.console)
        response = self.page.goto(f"http://{self.live}{path}")
        assert response is not None and response.status == status, path
        assert self.settled() == [], path
        if status == 404:  # the browser reports the error status itself; that one is expected
            late = [c for c in self.console[before:] if "status of 404" not in c]
            self.console[before:] = late


@pytest.fixture
def watch(page, live: str) -> Watch:
    return Watch(page, live)


def test_the_watch_sees_an_inline_script_blocked(watch: Watch, live: str, page) -> None:
    watch.visit("/login")
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__ran = true";
          document.body.appendChild(s);
          document.body.setAttribute("style", "background: red");
        }"""
    )
    seen = watch.settled()
    assert any(v.startswith("script-src") for v in seen), seen
    assert any(v.startswith("style-src") for v in seen), seen
    assert page.evaluate("() => window.__ran === undefined")
    assert any("Content Security Policy" in c for c in watch.console)


def test_the_bedside_page_scans_without_a_violation_or_another_origin(
    demo_app: Flask, live: str, page, watch: Watch
) -> None:
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    log_in(page, live, "nurse")
    watch.visit("/bedside")
    # The page's script took over: Enter in the wristband field moves to the label field.
    page.fill("[name=patient]", cs.READY)
    page.press("[name=patient]", "Enter")
    assert page.evaluate("() => document.activeElement.name") == "scan"
    page.fill("[name=scan]", cs.label(demo_app, din))
    page.click("form[data-bedside-form] button[type=submit]")
    page.locator(".bedside-verdict").wait_for()
    assert watch.settled() == []
    # The camera may be used by this origin, the microphone by none.
    policy = page.evaluate(
        "() => document.featurePolicy ? [document.featurePolicy.allowsFeature('camera'),"
        " document.featurePolicy.allowsFeature('microphone')] : null"
    )
    assert policy in (None, [True, False])
    patients = page.locator("a[href^='/patients/']")
    watch.visit("/patients")
    first_patient = patients.first.get_attribute("href")
    watch.visit(first_patient)  # the adverse-event form runs the same script
    watch.visit(urlparse(cs.label(demo_app, din)).path)  # what a phone shows for the label's QR
    watch.visit("/no/such/page", status=404)
    assert watch.violations == [] and watch.console == []
    assert watch.origins == {urlparse(live).netloc}


def test_qa_pages_raise_no_violation(demo_app: Flask, live: str, page, watch: Watch) -> None:
    watch.visit("/login")
    log_in(page, live, "qa")
    for path in ("/", f"/lots/{cs.DEMO_LOT}", f"/lots/{cs.DEMO_LOT}/release", "/trends"):
        watch.visit(path)
    trend = page.locator("main a[href^='/trends/']").first.get_attribute("href")
    watch.visit(trend)  # the control chart is inline SVG
    watch.visit("/account/password")
    log_out(page, live)
    watch.visit("/login")
    assert watch.violations == [] and watch.console == []
    assert watch.origins == {urlparse(live).netloc}
