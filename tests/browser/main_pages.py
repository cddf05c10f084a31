"""The main pages of the demo, each as the demo user who works on it: the pages the table-fit and
accessibility checks visit. A record page is reached as its reader would: the first link of its
list page to a record of that kind."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tests.browser.conftest import log_in, log_out

LOT = "CFM-2025-0001"  # released, shipped, one result corrected
PENDING = "CFM-2025-0002"  # quarantined, results awaiting verification


@dataclass(frozen=True)
class Page:
    """A page by path, or by the first link on `path` whose address matches `follow`."""

    user: str
    path: str
    follow: str = ""

    @property
    def name(self) -> str:
        return f"{self.user} {self.path}" + (f" → {self.follow}" if self.follow else "")


MAIN_PAGES = (
    Page("tech", "/"),
    Page("tech", "/lots"),
    Page("tech", f"/lots/{PENDING}"),
    Page("tech", f"/lots/{LOT}", r"^/results/\d+$"),
    Page("qa", "/"),
    Page("qa", f"/lots/{LOT}"),
    Page("qa", f"/lots/{PENDING}/release"),
    Page("qa", f"/lots/{LOT}/release"),
    Page("qa", f"/lots/{LOT}/documents"),
    Page("qa", "/audit"),
    Page("qa", "/materials"),
    Page("qa", "/materials", r"^/material-lots/(?!new$)[^/]+$"),
    Page("qa", "/instruments"),
    Page("qa", "/instruments", r"^/instruments/(?!new$)[^/]+$"),
    Page("qa", "/deviations"),
    Page("qa", "/investigations"),
    Page("qa", "/containments"),
    Page("qa", f"/trace/forward?lot={LOT}"),
    Page("qa", "/shipments"),
    Page("nurse", "/"),
    Page("nurse", "/shipments", r"^/shipments/(?!new$)[^/]+$"),
    Page("nurse", "/patients"),
    Page("nurse", "/patients/SZ-GIMI/SUBJ-001"),
    Page("nurse", "/trace/back?patient=SZ-GIMI/SUBJ-001"),
    Page("doctor", "/adverse-events"),
    Page("md", "/"),
    Page("md", "/reports"),
    Page("admin", "/"),
    Page("admin", "/admin/users"),
    Page("admin", "/admin/lockouts"),
)


def visit(page: object, live: str, target: Page) -> None:
    """Open the page; a record page through the first matching link of its list."""
    page.goto(f"{live}{target.path}")
    if target.follow:
        hrefs = page.eval_on_selector_all(
            "main a[href]", "links => links.map(a => a.getAttribute('href'))"
        )
        found = next((h for h in hrefs if re.search(target.follow, h.split("?")[0])), None)
        assert found, f"no link matching {target.follow} on {target.path}"
        page.goto(f"{live}{found}")
    page.wait_for_load_state()


def each_page(page: object, live: str, pages: tuple[Page, ...] = MAIN_PAGES) -> Iterator[Page]:
    """Visit every page as its user, logging in again whenever the user changes."""
    current = ""
    for target in pages:
        if target.user != current:
            log_out(page, live)
            log_in(page, live, target.user)
            current = target.user
        visit(page, live, target)
        assert page.url.split("?")[0] != f"{live}/login", f"{target.name} asked to log in again"
        yield target
