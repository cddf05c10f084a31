"""Tables that fit (issue 18 item 3): on every main page, at a phone's 390 px, a tablet's 1 024 px
and a laptop's 1 366 px, every table cell a reader should see is whole: its content does not
overflow it, and it lies inside the screen, never behind the side of a scrolling box. A table
too wide for its space is stacked as cards (static/js/tables.js), so no width needs a sideways
scroll to reach a column, and at 1 366 px no table is stacked at all."""

from __future__ import annotations

import pytest

from tests.browser.main_pages import each_page

pytestmark = [pytest.mark.browser, pytest.mark.layout]

WIDTHS = (390, 1024, 1366)
HEIGHT = 900

# Every shown cell of every table in <main>: clipped by its own width, by the screen's edges, or
# by a box that scrolls sideways. Waits two frames first, so tables.js has refitted the tables.
MEASURE = """async () => {
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const width = document.documentElement.clientWidth;
  const found = [];
  const tables = [...document.querySelectorAll("main table")]
    .filter(t => t.getClientRects().length);
  tables.forEach((table, index) => {
    const section = table.closest("section, details, .card");
    const heading = section && section.querySelector("h1, h2, h3");
    const name = table.getAttribute("aria-label") || (table.caption && table.caption.textContent)
      || (heading && heading.textContent) || `table ${index + 1}`;
    let box = null;
    for (let up = table.parentElement; up && up !== document.body; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow !== "visible" && up.scrollWidth > up.clientWidth + 1) { box = up; break; }
    }
    const edge = box ? Math.min(box.getBoundingClientRect().right, width) : width;
    const start = box ? Math.max(box.getBoundingClientRect().left, 0) : 0;
    table.querySelectorAll("th, td").forEach(cell => {
      if (!cell.getClientRects().length) return;
      // a stacked table's header row is for screen readers; each card shows the column names
      if (table.classList.contains("stacked") && cell.closest("thead")) return;
      const r = cell.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) return;
      const where = `${name.trim().slice(0, 60)} | row ${cell.parentElement.rowIndex}`
        + ` | ${(cell.getAttribute("data-label") || "").slice(0, 30)}`
        + ` | "${cell.textContent.trim().replace(/\\s+/g, " ").slice(0, 40)}"`;
      if (cell.scrollWidth > cell.clientWidth + 1)
        found.push(`${where}: content ${cell.scrollWidth}px in ${cell.clientWidth}px`);
      else if (r.right > edge + 1 || r.left < start - 1)
        found.push(`${where}: ${Math.round(r.left)}–${Math.round(r.right)}px,`
          + ` shown up to ${Math.round(edge)}px`);
    });
    if (table.classList.contains("stacked") && width >= 1366)
      found.push(`${name.trim().slice(0, 60)}: stacked at ${width}px`);
  });
  return found;
}"""


def test_every_table_on_the_main_pages_fits_phone_tablet_and_laptop(live: str, browser) -> None:
    context = browser.new_context(viewport={"width": WIDTHS[-1], "height": HEIGHT})
    page = context.new_page()
    clipped: list[str] = []
    measured = 0
    try:
        for target in each_page(page, live):
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": HEIGHT})
                clipped += [f"{target.name} @{width}px: {c}" for c in page.evaluate(MEASURE)]
            measured += page.evaluate("document.querySelectorAll('main table').length")
    finally:
        context.close()
    assert measured > 20, "the pages showed almost no table: the walk went wrong"
    assert clipped == [], "clipped table cells:\n" + "\n".join(clipped)
