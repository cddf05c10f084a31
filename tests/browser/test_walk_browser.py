"""The whole walk in a real browser (Debian's Chromium through Playwright), clicking like the
people who use it: a technician enters a quarantined lot's missing results (an instrument export
and a typed reading) and a second technician verifies them; QA releases the lot with an
electronic signature and prints its labels; a unit is allocated to a new participant's
prescription, shipped to the site and received there; the nurse thaws it, scans wristband and
label (the QR text read back from the printed label) and gets GO, records the infusion with a
witness and an adverse event; the report counts them; QA recalls the lot and its other bag at the
site gives NO-GO naming the recall. No page raises a console error or asks another origin.

The walk enters results by every route (an instrument export and a typed reading) on a lot of its
own, whose other results were entered and verified earlier through the services; finishing the
demo's own pending lot, CFM-2025-0002, from the pages is test_bulk_browser.py's walk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from lotrack.domain.isbt128 import eye_readable
from lotrack.services.seed_quality import RELEASE_VALUES
from tests.browser.conftest import PHONE, TABLET, log_in
from tests.conftest import PASSWORDS
from tests.documents.pdfs import (
    QR,
    codes_per_page,
    din_of,
    only,
    page_texts,
    path_of,
)
from tests.release_setup import make_lot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Route

pytestmark = pytest.mark.browser

SITE = "SZ-GIMI"
SUBJECT = "SUBJ-003"
WRISTBAND = f"{SITE}/{SUBJECT}"
COUNTER = ("VIAB", "CELLS")  # the cell counter's CSV export
TYPED = "STERILITY"  # the reading typed into the form


class Watch:
    """Console errors, uncaught exceptions and the origins asked, of every tab of the walk."""

    # Chromium's own PDF viewer (the printed labels) loads from these; they are not the network.
    BUILT_IN = ("chrome:", "chrome-extension:")

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.origins: set[str] = set()

    def tab(self, browser: Browser, viewport: dict[str, int]) -> Page:
        page = browser.new_context(viewport=viewport).new_page()
        page.on("console", lambda m: self._console(page, m))
        page.on("pageerror", lambda e: self.errors.append(f"{e} on {page.url}"))
        page.on("request", lambda r: self.origins.add(self._origin(r.url)))
        return page

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} at {message.location.get('url')} on {page.url}")

    @staticmethod
    def _origin(url: str) -> str:
        parts = urlparse(url)
        return f"{parts.scheme}://{parts.netloc}"

    def network_origins(self) -> set[str]:
        return {o for o in self.origins if not o.startswith(self.BUILT_IN)}


@contextmanager
def loads(page: Page) -> Iterator[None]:
    """The click inside submits a form or follows a link: wait for the next page."""
    with page.expect_navigation():
        yield


def click(page: Page, selector: str) -> None:
    with loads(page):
        page.click(selector)


def said(page: Page, selector: str) -> str:
    """The text of the first match as written in the page (not as CSS shows it), spaces folded."""
    return " ".join((page.locator(selector).first.text_content() or "").split())


def menu(page: Page, entry: str) -> None:
    click(page, f"nav a:text-is('{entry}')")


def sign(page: Page, form: str, username: str, meaning: str, reason: str) -> None:
    """An electronic signature: the signer types username and password again, picks a meaning."""
    page.click(f"{form} summary")
    page.fill(f"{form} [name=username]", username)
    page.fill(f"{form} [name=password]", PASSWORDS[username])
    page.select_option(f"{form} [name=meaning]", meaning)
    page.fill(f"{form} [name=reason]", reason)
    click(page, f"{form} button[type=submit]")


def quarantined_lot(app: Flask, harvested: dt.date) -> str:
    """A lot of two bags on RUN-2025-01 whose release results are in and verified, except the
    cell counter's (VIAB, CELLS) and the sterility reading, which the walk enters."""
    return make_lot(app, harvested_on=harvested, left_out=(*COUNTER, TYPED))


def counter_export(tested_on: dt.date) -> bytes:
    """The cell counter's CSV export for the lot."""
    rows = ["test,value,unit,performed_on,instrument"]
    rows += [f"{t},{v},{u},{tested_on},cell counter" for t, v, u in RELEASE_VALUES if t in COUNTER]
    return ("\n".join(rows) + "\n").encode()


def technicians_enter_results(
    tech: Page, tech2: Page, live: str, lot: str, harvested: dt.date
) -> None:
    """tech enters the missing results (an instrument export and one typed); tech2 verifies."""
    log_in(tech, live, "tech")
    menu(tech, "Lots")
    click(tech, f"a:text-is('{lot}')")
    assert "QUARANTINE" in said(tech, ".state-banner")
    tech.click("#import summary")
    export = {"name": "counter.csv", "mimeType": "text/csv", "buffer": counter_export(harvested)}
    tech.set_input_files("#import [name=file]", export)
    click(tech, "#import button[type=submit]")
    assert f"{len(COUNTER)} results imported" in said(tech, ".flash")
    tech.click("#record summary")
    tech.select_option("#record [name=test]", TYPED)
    tech.fill("#record [name=value]", "No growth")
    tech.fill("#record [name=performed_on]", harvested.isoformat())
    click(tech, "#record button[type=submit]")
    assert "is pass" in said(tech, ".flash")
    # Four eyes: nobody is offered to verify their own results.
    assert tech.locator("table.results button:has-text('Verify')").count() == 0
    assert "Not releasable" in said(tech, ".evaluation .verdict-banner")

    log_in(tech2, live, "tech2")
    tech2.goto(f"{live}/lots/{lot}")
    verify = tech2.locator("table.results button:has-text('Verify')")
    assert verify.count() == len(COUNTER) + 1
    for _ in range(len(COUNTER) + 1):
        with loads(tech2):
            verify.first.click()
    assert verify.count() == 0
    assert said(tech2, ".evaluation .verdict-banner").endswith(" Releasable")


PREVIEW = "PREVIEW – NOT FOR LABELLING"


def qa_releases_and_prints(page: Page, live: str, lot: str) -> dict[str, str]:
    """QA signs the release and prints the labels; each DIN's QR text, read off the PDF."""
    log_in(page, live, "qa")
    page.goto(f"{live}/lots/{lot}")
    click(page, "a:has-text('Release review')")
    assert "Releasable: no blocker" in said(page, "[aria-label=Decision]")
    sign(page, "#sign-release", "qa", "approved for release", "every criterion met")
    assert f"Lot {lot} is RELEASED" in said(page, ".flash")

    click(page, "a:has-text('Certificate and labels')")
    # Chromium shows the PDF in its viewer; the route keeps a copy of what the server sent.
    printed: dict[str, object] = {}

    def keep(route: Route) -> None:
        response = route.fetch()
        printed.update(
            type=response.headers["content-type"],
            pdf=response.body(),
            method=route.request.method,
        )
        route.fulfill(response=response)

    page.route(f"{live}/lots/{lot}/labels.pdf", keep)
    # The preview is a link (GET): stamped on every label, and the print log stays empty.
    click(page, "a:has-text('Preview all labels')")
    assert (printed["method"], printed["type"]) == ("GET", "application/pdf")
    preview = printed["pdf"]
    assert isinstance(preview, bytes)
    assert [PREVIEW in text for text in page_texts(preview)] == [True, True]
    page.goto(f"{live}/lots/{lot}/documents")
    assert "No label printed yet." in said(page, "table[aria-label='Print log'] tbody")
    click(page, "button:has-text('Print all 2 labels')")
    assert printed["method"] == "POST"
    page.unroute(f"{live}/lots/{lot}/labels.pdf")
    assert page.url == f"{live}/lots/{lot}/labels.pdf"
    assert printed["type"] == "application/pdf"
    pdf = printed["pdf"]
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
    labels = {din_of(codes): only(codes, QR) for codes in codes_per_page(pdf)}
    assert len(labels) == 2
    # The QR code is the verification address: the printed label checks out as genuine.
    qr = next(iter(labels.values()))
    page.goto(live + path_of(qr))
    assert said(page, ".verify-genuine").startswith("Genuine")
    assert page.get_attribute(".verify-status", "data-status") == "RELEASED"
    return labels


def nurse_enrols(page: Page, live: str) -> None:
    """A new participant: registered by the nurse, consented."""
    log_in(page, live, "nurse")
    menu(page, "Patients")
    click(page, "a:has-text('Register a patient')")
    page.fill("[name=subject_code]", SUBJECT)
    page.fill("[name=weight_kg]", "70.00")
    page.select_option("[name=cohort]", "1e6/kg")
    page.select_option("[name=age_band]", "18-64y")
    page.select_option("[name=sex]", "female")
    page.select_option("[name=indication]", "acute_gvhd")
    click(page, "button:has-text('Register')")
    click(page, "#consent button[type=submit]")


def investigator_prescribes(page: Page, live: str) -> None:
    """The site's investigator: eligible, prescribed the cohort's 1×10^6 cells/kg at 70 kg."""
    log_in(page, live, "doctor")
    page.goto(f"{live}/patients/{WRISTBAND}")
    for group, answer in (("Inclusion", "yes"), ("Exclusion", "no")):
        fieldset = page.locator(f"#eligibility fieldset:has(legend:has-text('{group}'))")
        radios = fieldset.locator(f"input[type=radio][value={answer}]")
        for i in range(radios.count()):
            radios.nth(i).check()
    click(page, "#eligibility button[type=submit]")
    page.select_option("#prescriptions [name=cohort]", "1e6/kg")
    page.fill("#prescriptions [name=dose_per_kg]", "1000000")  # the cohort's, typed to confirm
    click(page, "#prescriptions button[type=submit]")
    assert "70,000,000 cells needed" in said(page, ".flash")
    assert "may be dosed" in said(page, ".state-banner")


def technician_allocates_and_ships(page: Page, dins: list[str]) -> str:
    """The first unit to the new participant; both units to the site. The shipment number."""
    allocated, spare = dins
    menu(page, "Allocate units")
    card = page.locator(f"article.allocation:has(h2:has-text('{WRISTBAND}'))")
    card.locator("[name=units]").fill(allocated)
    with loads(page):
        card.locator("button[type=submit]").click()
    assert f"Allocated to {WRISTBAND}: {eye_readable(allocated)}" in said(page, ".flash")
    click(page, "a:has-text('Ship allocated units')")
    page.select_option("[name=site]", SITE)
    page.check(f"input[name=units][value='{allocated}']")
    page.fill("[name=more]", spare)
    click(page, "button:has-text('Ship')")
    assert "in transit" in said(page, ".flash")
    return page.url.rsplit("/", 1)[1]


def nurse_receives(page: Page, number: str) -> None:
    menu(page, "Shipments")
    click(page, f"a:has-text('{number}')")
    page.fill("#receive [name=condition]", "dry shipper sealed and intact")
    page.fill("#receive [name=temperature_record]", "logger DS-07: below -150 °C throughout")
    click(page, "#receive button[type=submit]")
    assert "every unit accounted for" in said(page, ".flash")


def bedside_check(page: Page, label: str) -> str:
    """Wristband and label as a keyboard-wedge scanner types them (each ends with Enter)."""
    menu(page, "Bedside")
    page.locator("[name=patient]").press_sequentially(WRISTBAND)
    page.keyboard.press("Enter")  # bedside.js moves on to the label field
    page.locator("[name=scan]").press_sequentially(label)
    with loads(page):
        page.keyboard.press("Enter")
    return page.get_attribute(".bedside-verdict", "class").split()[-1]


def nurse_infuses(page: Page, din: str, label: str) -> None:
    """NO-GO until the thaw is recorded; then GO, and the infusion witnessed by nurse2."""
    assert bedside_check(page, label) == "no-go"
    assert "thaw" in said(page, ".bedside-reasons").lower()
    click(page, "#thaw button[type=submit]")
    assert "Thaw recorded" in said(page, ".flash")
    click(page, "#check button[type=submit]")  # the scanned fields came back filled
    assert page.get_attribute(".bedside-verdict", "class").split()[-1] == "go"
    assert said(page, ".bedside-banner").strip().endswith("GO")
    page.fill("#infusion [name=witness]", "nurse2")
    page.fill("#infusion [name=witness_password]", PASSWORDS["nurse2"])  # the witness signs
    page.fill("#infusion [name=vital_signs]", "BP 118/76, HR 72, T 36.8 °C before and after")
    click(page, "#infusion button[type=submit]")
    assert "Infusion recorded" in said(page, ".flash")
    cells = page.locator("#infusions tbody tr").first.locator("td").all_text_contents()
    assert " ".join(cells[0].split()).startswith(eye_readable(din))
    assert (cells[7], cells[8]) == ("nurse", "nurse2")  # operator and witness


def investigator_records_adverse_event(page: Page, live: str) -> None:
    page.goto(f"{live}/patients/{WRISTBAND}")
    form = "#adverse-events form"
    # The term is typed against the whole dictionary; the grades it lacks are then not offered.
    page.fill(f"{form} [name=term]", "Anaphylaxis")
    page.dispatch_event(f"{form} [name=term]", "input")
    assert page.is_disabled(f"{form} [name=grade] option[value='2']")  # it starts at grade 3
    page.fill(f"{form} [name=term]", "Infusion related reaction")
    page.dispatch_event(f"{form} [name=term]", "change")
    page.select_option(f"{form} [name=grade]", "2")
    page.select_option(f"{form} [name=attribution]", "probable")
    page.select_option(f"{form} [name=outcome]", "recovered")
    page.fill(f"{form} [name=description]", "chills 20 minutes into the infusion")
    click(page, f"{form} button[type=submit]:not([name=action])")
    assert "Infusion related reaction, grade 2, recorded" in said(page, ".flash")


def test_technician_qa_and_site_walk_from_results_to_recall(
    demo_app: Flask, live: str, browser: Browser
) -> None:
    harvested = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date() - dt.timedelta(days=21)
    lot = quarantined_lot(demo_app, harvested)  # sterility's 14-day reading is due
    watch = Watch()
    # Everyone on their own device: the bench and QA on tablets, the nurse on a phone.
    tech, tech2, qa = (watch.tab(browser, TABLET) for _ in range(3))
    nurse = watch.tab(browser, PHONE)
    doctor = watch.tab(browser, TABLET)

    technicians_enter_results(tech, tech2, live, lot, harvested)
    labels = qa_releases_and_prints(qa, live, lot)
    dins = sorted(labels)
    nurse_enrols(nurse, live)
    investigator_prescribes(doctor, live)
    number = technician_allocates_and_ships(tech, dins)
    nurse_receives(nurse, number)
    nurse_infuses(nurse, dins[0], labels[dins[0]])
    investigator_records_adverse_event(doctor, live)

    menu(nurse, "Reports")
    by_lot = nurse.locator(f"tr:has(td:text-is('{lot}'))").locator("td").all_text_contents()
    assert by_lot[:3] == [lot, "1", "1"]  # one participant infused, one with a related event
    by_grade = nurse.locator("tr:has(td:text-is('Grade 2'))").locator("td").all_text_contents()
    assert by_grade == ["Grade 2", "1", "1 event"]  # the count links to its event
    nurse.click("tr:has(td:text-is('Grade 2')) a")
    assert "Infusion related reaction" in said(nurse, "main table")

    qa.goto(f"{live}/lots/{lot}/release")
    sign(qa, "#recall", "qa", "recalled", "sterility failure reported by the contract laboratory")
    assert said(qa, "h1").startswith("Recall ")
    assert said(qa, f"tr:has(a:text-is('{lot}'))").endswith("RECALLED")
    assert "Affected units (2)" in said(qa, "#units h2")

    # The lot's other bag, received at the site, scanned for the same participant.
    assert bedside_check(nurse, labels[dins[1]]) == "no-go"
    assert "RECALLED" in said(nurse, ".bedside-reasons")

    assert watch.errors == []
    assert watch.network_origins() == {live}
