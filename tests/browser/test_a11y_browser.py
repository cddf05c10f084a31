"""Keyboards and assistive technology (issue 18 item 6): axe-core (the npm package pinned in
tests/browser/package.json, installed by `make test`) finds nothing serious or critical on the
main pages, in Chinese and in English; the Tab key reaches a skip link first and it lands on the
page's content; the focus ring stands out at least 3:1 from the colours beside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import log_in
from tests.browser.main_pages import MAIN_PAGES, each_page

pytestmark = [pytest.mark.browser, pytest.mark.layout]

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")

# axe over the whole document; each violation as "rule (impact): help — first targets".
RUN_AXE = """async () => {
  const found = await axe.run(document, {resultTypes: ["violations"]});
  return found.violations.map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    where: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


def _axe() -> Path:
    """axe.min.js from npm; missing, it skips, or fails where LOTRACK_REQUIRE_BROWSER is set."""
    if not AXE.exists():
        message = "axe-core is not installed: npm ci --prefix tests/browser (make test does it)"
        if os.environ.get("LOTRACK_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE


@pytest.mark.parametrize("locale", ["zh-CN", "en-GB"])
def test_no_serious_accessibility_finding_on_the_main_pages(
    live: str, browser, locale: str
) -> None:
    axe = _axe()
    # The app's policy forbids any script it does not serve itself; only this test's tab lets the
    # checker in (the application's Content-Security-Policy is untouched).
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale=locale, bypass_csp=True
    )
    page = context.new_page()
    findings: list[str] = []
    try:
        for target in each_page(page, live):
            page.add_script_tag(path=str(axe))
            for v in page.evaluate(RUN_AXE):
                if v["impact"] in SERIOUS:
                    where = "; ".join(v["where"])
                    said = f"{v['rule']} ({v['impact']}) {v['help']}"
                    findings.append(f"{target.name}: {said} — {where}")
    finally:
        context.close()
    assert len(MAIN_PAGES) > 20
    assert findings == [], f"{len(findings)} findings:\n" + "\n".join(findings)


def test_the_first_tab_stop_skips_the_menu_to_the_content(live: str, page) -> None:
    log_in(page, live, "qa")
    page.goto(f"{live}/lots")
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.getAttribute('href')")
    assert first == "#main"
    assert page.evaluate("getComputedStyle(document.activeElement).top") != "-64px"  # shown
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # The next Tab goes to the page's first control, not back to the menu.
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('main')")


# The ring's colour against the nearest painted background behind the focused control.
RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let up = el.parentElement, ground = "rgb(255, 255, 255)";
  for (; up; up = up.parentElement) {
    const bg = getComputedStyle(up).backgroundColor;
    if (bg && bg !== "transparent" && !bg.endsWith(", 0)")) { ground = bg; break; }
  }
  return {ring: style.outlineColor, width: style.outlineWidth, line: style.outlineStyle, ground};
}"""


def _luminance(rgb: str) -> float:
    parts = [int(float(x)) / 255 for x in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two computed rgb() colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_of_known_colours() -> None:
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert round(contrast("rgb(240, 180, 0)", "rgb(255, 255, 255)"), 2) == 1.87  # the old ring


def test_the_focus_ring_stands_out_three_to_one(live: str, page) -> None:
    log_in(page, live, "qa")
    page.goto(f"{live}/lots")
    seen = []
    # The skip link, then the header's links (dark ground), then the page's controls (light).
    for _ in range(40):
        page.keyboard.press("Tab")
        ring = page.evaluate(RING)
        if page.evaluate("document.activeElement === document.body"):
            break
        assert ring["line"] == "solid" and float(ring["width"][:-2]) >= 2, ring
        ratio = contrast(ring["ring"], ring["ground"])
        seen.append((page.evaluate("document.activeElement.outerHTML.slice(0, 60)"), ratio))
        assert ratio >= 3, (seen[-1], ring)
    grounds = {round(r, 1) for _el, r in seen}
    assert len(seen) > 10 and len(grounds) >= 2  # both the dark header and the light page
