"""Every demo user's home page, in Chromium on a tablet: the work waiting on them, counted, and
one link per role followed to the page where that work is done (services/worklist.py and the
demo's waiting work, services/seed_worklist.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import TABLET, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

# username -> ({kind: count read on the home page}, (the link to follow, what its page shows))
EXPECTED: dict[str, tuple[dict[str, int], tuple[str, str]]] = {
    "tech": (
        {"results_to_enter": 2, "results_to_verify": 0},
        (
            "[data-kind=results_to_enter] .worklist-entries a:text-is('CFM-2025-0004')",
            "CFM-2025-0004",
        ),
    ),
    "tech2": (
        {"results_to_verify": 2},
        ("[data-kind=results_to_verify] a.worklist-title", "Lots"),
    ),
    "qa": (
        {"open_investigations": 1, "certificates_to_issue": 1, "needs_decision": 0},
        ("[data-kind=certificates_to_issue] .worklist-entries a", "Documents of lot CFM-2025-0001"),
    ),
    "md": (
        {"serious_events": 1, "exceptional_to_sign": 0},
        ("[data-kind=serious_events] .worklist-entries a", "Fever"),
    ),
    "nurse": (
        {"infusions_due": 1, "events_to_follow_up": 1, "shipments_to_receive": 0},
        ("[data-kind=infusions_due] .worklist-entries a", "SZ-GIMI/SUBJ-001"),
    ),
    "nurse2": (
        {"infusions_due": 1, "events_to_follow_up": 1},
        ("[data-kind=infusions_due] a.worklist-title", "DIN"),
    ),
    "doctor": (
        {"eligibility_to_answer": 1, "events_to_follow_up": 1},
        ("[data-kind=eligibility_to_answer] .worklist-entries a", "SZ-GIMI/SUBJ-002"),
    ),
    "doctor-cip": (
        {"eligibility_to_answer": 1},
        ("[data-kind=eligibility_to_answer] .worklist-entries a", "BJ-CIP/SUBJ-101"),
    ),
    "doctor-ach": (
        {"eligibility_to_answer": 1},
        ("[data-kind=eligibility_to_answer] .worklist-entries a", "BJ-ACH/SUBJ-201"),
    ),
    "admin": (
        {"accounts_awaiting_approval": 1, "locked_accounts": 0},
        ("[data-kind=accounts_awaiting_approval] a.worklist-title", "qa.new"),
    ),
}


def counts_on(page: Page) -> dict[str, int]:
    """Each kind of work and the count shown beside it."""
    out = {}
    for item in page.locator("#worklist .worklist-item").all():
        kind = item.get_attribute("data-kind") or ""
        out[kind] = int(item.locator(".worklist-count").get_attribute("data-count") or "-1")
        assert item.locator(".worklist-count").inner_text().strip() == str(out[kind])
    return out


def test_every_demo_user_sees_their_waiting_work_counted_and_linked(
    browser: Browser, live: str
) -> None:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    for username, (expected, (link, shows)) in EXPECTED.items():
        log_in(page, live, username)
        page.goto(f"{live}/")
        shown = counts_on(page)
        assert {k: shown.get(k) for k in expected} == expected, username
        total = int(page.get_attribute("#worklist h1 .badge", "data-count") or "0")
        assert total == sum(shown.values()) and total >= 1, username
        page.click(link)
        page.wait_for_load_state()
        assert shows in page.inner_text("main"), (username, page.url)
        context.clear_cookies()
    context.close()
