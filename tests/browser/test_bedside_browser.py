"""The bedside page in a real browser (Debian's Chromium through Playwright): a nurse scans the
wristband and the label with a keyboard-wedge scanner and gets GO; after a recall the same label
gives NO-GO, and on a phone (390×844) the NO-GO banner and its most serious reason, RECALLED, are in
view, first, with the thaw form closed. A 1D scanner's Code 128 DIN is a GO with its note. The
page raises no console error and asks nothing of another origin.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from flask import Flask

from lotrack.domain.isbt128_expiry import encode_005
from lotrack.request_scope import db_session
from lotrack.services import clock
from lotrack.services import lot as lots
from tests import clinical_setup as cs
from tests.browser.conftest import check_at_bedside, log_in

PHONE_390 = {"width": 390, "height": 844}

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
    assert "go" in check_at_bedside(page, cs.READY, cs.label(demo_app, din))
    assert page.inner_text(".bedside-banner").strip().endswith("GO")

    cs.recall(demo_app)
    page.goto(f"{live}/bedside")
    assert "no-go" in check_at_bedside(page, cs.READY, cs.label(demo_app, din))
    assert "RECALLED" in page.inner_text(".bedside-reasons")

    assert errors == []
    assert origins == {urlparse(live).netloc}


def in_view(page, selector: str) -> bool:
    """Whether the element's whole box lies within the viewport as shown now."""
    return page.eval_on_selector(
        selector,
        """e => { const r = e.getBoundingClientRect();
                  return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight
                         && r.right <= window.innerWidth; }""",
    )


# The ready patient (two reasons); and a patient not assessed, whose many reasons make the answer
# longer than the screen, where focusing the form below it would scroll the banner away.
@pytest.mark.parametrize("wristband", [cs.READY, cs.NOT_ASSESSED])
def test_on_a_phone_a_recall_no_go_keeps_its_banner_and_reason_in_view(
    demo_app: Flask, live: str, browser, wristband: str
) -> None:
    din, _check = cs.ready_din(demo_app)  # not thawed: "the thaw time is not recorded" too
    cs.recall(demo_app)
    context = browser.new_context(viewport=PHONE_390, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        log_in(page, live, "nurse")
        page.goto(f"{live}/bedside")
        check_at_bedside(page, wristband, cs.label(demo_app, din))
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # let any focus or scrolling settle
        assert "no-go" in page.locator(".bedside-verdict").get_attribute("class").split()
        assert page.inner_text(".bedside-banner").strip().endswith("NO-GO")
        first = page.locator(".bedside-reasons li").first
        assert "RECALLED" in first.inner_text()
        assert "thaw time is not recorded" in page.inner_text(".bedside-reasons")  # but after
        assert in_view(page, ".bedside-banner")
        assert in_view(page, ".bedside-reasons li:first-child")
        assert page.get_attribute("#thaw", "open") is None  # recording a thaw would be wrong
        assert not in_view(page, "#thaw form")
    finally:
        context.close()


# A keyboard-wedge scanner types its characters a few milliseconds apart. Typed through the
# DevTools protocol, each key costs a round trip that a loaded CI machine can stretch past the
# 30 ms a character bedside.js allows a scanner; the burst is therefore typed inside the page,
# as the same insertText input events a scanner's keystrokes raise, one per character.
BURST = """([selector, text]) => {
  const field = document.querySelector(selector);
  field.focus();
  for (const ch of text) {
    field.value += ch;
    const typed = {inputType: "insertText", data: ch, bubbles: true};
    field.dispatchEvent(new InputEvent("input", typed));
  }
}"""


def scanner_burst(page, selector: str, text: str) -> None:
    page.evaluate(BURST, [selector, text])


def test_a_1d_scanner_reading_the_code_128_gets_go_with_a_note(
    demo_app: Flask, live: str, page
) -> None:
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    log_in(page, live, "nurse")
    page.goto(f"{live}/bedside")
    page.locator("[name=patient]").press_sequentially(cs.READY)
    page.keyboard.press("Enter")  # bedside.js moves on to the label field
    scanner_burst(page, "[name=scan]", din)
    page.keyboard.press("Enter")
    page.locator(".bedside-verdict").wait_for()
    assert "go" in page.locator(".bedside-verdict").get_attribute("class").split()
    assert "does not prove the label genuine" in page.inner_text(".bedside-notes")
    # The same 13 characters typed at a person's pace: the check character is asked for.
    page.goto(f"{live}/bedside")
    page.fill("[name=patient]", cs.READY)
    page.locator("[name=scan]").press_sequentially(din, delay=120)
    page.click("form[data-bedside-form] button[type=submit]")
    page.locator(".bedside-verdict").wait_for()
    assert "no-go" in page.locator(".bedside-verdict").get_attribute("class").split()
    assert "needs its check character" in page.inner_text(".bedside-reasons")


def test_a_scanner_reading_the_expiry_bar_code_first_fills_the_expiry_field(
    demo_app: Flask, live: str, page
) -> None:
    """Whichever of the label's codes the scanner reads first, each lands in its own field: the
    005 read into the label field moves to the expiry field, then the DIN's 001 is checked with
    it; a 005 that is not the unit's record stops the check."""
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    with demo_app.app_context():
        session = db_session()
        printed = encode_005(
            lots.get_unit(session, din).lot.expires_on, clock.facility_zone(session)
        )
    log_in(page, live, "nurse")
    for expiry, go in ((printed, True), (printed[:-4] + "0000", False)):
        page.goto(f"{live}/bedside")
        page.locator("[name=patient]").press_sequentially(cs.READY)
        page.keyboard.press("Enter")  # on to the label field
        scanner_burst(page, "[name=scan]", expiry)
        page.keyboard.press("Enter")  # bedside.js: the 005 goes to its own field
        assert page.input_value("[name=expiry]") == expiry
        assert page.input_value("[name=scan]") == ""
        scanner_burst(page, "[name=scan]", f"={din}00")
        page.keyboard.press("Enter")
        page.locator(".bedside-verdict").wait_for()
        verdict = page.locator(".bedside-verdict").get_attribute("class").split()
        assert ("go" in verdict) is go, page.inner_text(".bedside-verdict")
        if not go:
            assert "expiry" in page.inner_text(".bedside-reasons")
