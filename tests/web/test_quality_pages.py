"""The quality record in the browser: each demo lot's real verdict and blockers, specification
versions and QA approval (a lot keeps the version it pinned), bank qualification, in-process
results on the run page, and who may see these pages."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.models import CellBank, Investigation, ProductionRun, Result, SpecVersion
from lotrack.services import evaluation, specs
from lotrack.services import lot as lots
from tests.conftest import csrf_token, login
from tests.record_signing import sign_form

SPECS = Path(__file__).resolve().parents[2] / "specs"


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def post(client: FlaskClient, path: str, data: dict | None = None, page: str = "/lots"):
    """POST a form as the browser does, with the session's CSRF token taken from `page`."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, page)})


def db(app: Flask) -> Session:
    """A short-lived session: on SQLite every transaction takes the write lock, so tests read
    in one and close it before the client writes."""
    return app.extensions["lotrack_db"].sessionmaker()


def results_count(app: Flask) -> int:
    with db(app) as s:
        return s.scalar(select(func.count()).select_from(Result)) or 0


def outcome_rows(page: str) -> list[str]:
    """The rows of the per-test table, as text, to compare verdicts before and after."""
    table = page.split('class="outcomes"', 1)[1].split("</table>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for row in table.split("<tr")]


# ---- every demo lot shows its real evaluation -------------------------------------------------

EXPECTED = {
    "CFM-2025-0001": ["replaced by #"],
    "CFM-2025-0002": [
        "Sterility: pending, the reading was due on",
        "Viable cells per unit: the result is not",
    ],
    "CFM-2025-0003": ["Viability: 78.9 % is out of specification (≥ 80.0%).", "is open, phase I"],
    "CFM-2025-0004": ["passage 11 exceeds the limit of 10", "Appearance: no valid result"],
}


@pytest.mark.parametrize("lot_number", sorted(EXPECTED))
def test_each_demo_lot_page_shows_its_verdict_and_every_blocker(client, demo_app, lot_number):
    with db(demo_app) as s:
        ev = evaluation.evaluate_lot(s, lots.get_lot(s, lot_number))
        releasable, blockers = ev.releasable, [b.message for b in ev.evaluation.blockers]
    login(client, "qa")
    page = text(client.get(f"/lots/{lot_number}"))
    verdict = "Releasable" if releasable else "Not releasable"
    assert re.search(rf"</span>\s*{verdict}</p>", page)
    assert len(blockers) == page.count('<li data-kind="')
    for blocker in blockers:
        assert blocker in page
    for expected in EXPECTED[lot_number]:
        assert expected in page
    assert "cfMSC release v1" in page  # the pinned version, linked
    assert releasable == (lot_number == "CFM-2025-0001")


def test_the_corrected_demo_result_stays_visible_struck_through(client):
    login(client, "tech")
    page = text(client.get("/lots/CFM-2025-0001"))
    row = page.split('class="invalidated"', 1)[1].split("</tr>", 1)[0]
    assert "<del>99.4</del>" in row and "transcription error" in row and "replaced by #" in row


def test_an_open_investigation_is_listed_and_linked_on_its_lot(client):
    login(client, "tech")
    page = text(client.get("/lots/CFM-2025-0003"))
    number = re.search(r"OOS-\d{4}-001", page).group(0)
    assert f'href="/investigations/{number}"' in page
    assert number in text(client.get("/investigations?status=open"))
    assert number not in text(client.get("/investigations?status=closed"))
    assert client.get("/investigations?status=maybe").status_code == 422


# ---- specification versions -------------------------------------------------------------------


def test_spec_list_and_page_show_versions_tests_and_limits(client, demo_app):
    with db(demo_app) as s:
        ids = {v.stage: v.id for v in s.scalars(select(SpecVersion))}
        hashes = [v.content_hash[:12] for v in s.scalars(select(SpecVersion))]
    login(client, "tech")
    listing = text(client.get("/specs"))
    assert all(h in listing for h in hashes) and len(hashes) == 4
    assert "in effect" in listing and "<td>qa</td>" in listing  # approved by
    page = text(client.get(f"/specs/{ids['release']}"))
    assert "Viability" in page and "≥ 80.0%" in page and "≥ 85.0%" in page  # limit, alert
    assert "CD14 or CD11b ≤ 2.0%" in page and "informational" in page
    assert "msc_release_specs.md" in page and "/approve" not in page  # QA approves
    assert "max_cumulative_pdl" in text(client.get(f"/specs/{ids['in-process']}"))


def test_qa_approves_a_new_version_and_an_old_lot_keeps_its_verdicts(client, demo_app, tmp_path):
    edited = (SPECS / "cfmsc-release.toml").read_text(encoding="utf-8")
    assert 'lower = "20.0"' in edited  # POTENCY: the demo lot's 46.0 fails the edited ≥ 50.0
    (tmp_path / "cfmsc-release.toml").write_text(edited.replace('lower = "20.0"', 'lower = "50.0"'))
    with db(demo_app) as s:
        specs.load_specs(s, None, tmp_path)
        s.commit()
        release = select(SpecVersion.id).where(SpecVersion.stage == "release")
        v1, v2 = (s.scalar(release.where(SpecVersion.version == n)) for n in (1, 2))
    login(client, "qa")
    before = text(client.get("/lots/CFM-2025-0001"))
    assert "draft" in text(client.get(f"/specs/{v2}"))

    resp = post(client, f"/specs/{v2}/approve", sign_form("qa", "approved"))
    assert resp.status_code == 302
    assert "in effect" in text(client.get(f"/specs/{v2}"))
    again = post(client, f"/specs/{v2}/approve", sign_form("qa", "approved"))
    assert again.status_code == 409 and "approved already" in text(again)
    assert "superseded" in text(client.get(f"/specs/{v1}"))

    after = text(client.get("/lots/CFM-2025-0001"))
    assert "A newer specification (cfMSC release v2) is in effect" in after
    assert outcome_rows(after) == outcome_rows(before)  # POTENCY 46.0 still passes v1's ≥ 20.0
    assert re.search(r"</span>\s*Releasable</p>", after)


def test_a_technician_cannot_approve_a_spec(client):
    login(client, "tech")
    assert post(client, "/specs/1/approve").status_code == 403


# ---- cell banks and runs ----------------------------------------------------------------------


def test_qa_qualification_is_refused_with_each_blocker_while_a_result_is_missing(client, demo_app):
    with db(demo_app) as s:
        bank = s.scalar(select(CellBank).where(CellBank.code == "WCB-001-B"))
        myco = next(r.id for r in evaluation.evaluate_bank(s, bank).results if r.analyte == "MYCO")
        bank_id = bank.id
    login(client, "qa")
    page = text(client.get("/banks/WCB-001-B"))
    assert "Meets its qualification specification" in page and 'action="/banks/' in page
    resp = post(client, f"/results/{myco}/invalidate", {"reason": "sample mix-up"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith(
        "/banks/WCB-001-B#result-"
    )
    assert post(client, "/banks/WCB-001-B/qualify", {"decision": "not_qualified",
                "reason": "mycoplasma result invalid",
                **sign_form("qa", "not qualified")}).status_code == 302  # fmt: skip

    refused = post(
        client,
        "/banks/WCB-001-B/qualify",
        {"decision": "qualified", "reason": "ok", **sign_form("qa", "qualified")},
    )
    page = text(refused)
    assert refused.status_code == 409 and "Nothing was saved." in page
    assert "Mycoplasma: no valid result recorded." in page
    with db(demo_app) as s:
        assert s.get(CellBank, bank_id).qualification == "not_qualified"
    missing = post(client, "/banks/WCB-001-B/qualify", {"decision": "qualified"})
    assert missing.status_code == 422 and "reason" in text(missing)


def test_the_run_page_records_and_shows_a_passage_result(client, demo_app):
    with db(demo_app) as s:
        run = s.scalar(select(ProductionRun).where(ProductionRun.code == "RUN-2025-01"))
        number, day = run.passages[0].number, str(run.passages[0].harvested_on)
    path = f"/runs/RUN-2025-01/passages/{number}/results"
    login(client, "tech")
    before = results_count(demo_app)
    bad = post(client, path, {"test": "VIAB", "value": "91.0", "unit": "cells",
               "performed_on": day})  # fmt: skip
    assert bad.status_code == 422 and "the specification states '%'" in text(bad)
    assert results_count(demo_app) == before
    ok = post(client, path, {"test": "VIAB", "value": "91.0", "unit": "%",
              "performed_on": day})  # fmt: skip
    assert ok.status_code == 302 and results_count(demo_app) == before + 1
    page = text(client.get("/runs/RUN-2025-01"))
    section = page.split(f'id="passage-{number}"', 1)[1].split('class="passage-results"')[0]
    assert "91.0 %" in section and "PASS" in section


def test_bad_ids_and_missing_input_are_refused_never_a_500(client, demo_app):
    with db(demo_app) as s:
        plain = s.scalar(select(func.min(Result.id)).where(Result.attachment_id.is_(None)))
    login(client, "tech")
    huge = "99999999999999999999"
    for path in (f"/results/{huge}", f"/specs/{huge}", "/results/999999", f"/results/{plain}/raw"):
        assert client.get(path).status_code == 404, path
    before = results_count(demo_app)
    no_file = post(client, "/lots/CFM-2025-0004/results/import")
    assert no_file.status_code == 422 and "Choose a CSV file to import." in text(no_file)
    unknown = post(client, "/lots/CFM-2025-0004/results", {"test": "NOPE", "value": "1",
                   "performed_on": "2025-01-01"})  # fmt: skip
    assert unknown.status_code == 422 and "NOPE is not a test of cfMSC release v1" in text(unknown)
    assert results_count(demo_app) == before


# ---- who may see these pages ------------------------------------------------------------------

QUALITY_PAGES = [
    "/specs",
    "/specs/1",
    "/results/1",
    "/investigations",
    "/lots/CFM-2025-0003",
    "/banks/MCB-001",
]


@pytest.mark.parametrize("path", QUALITY_PAGES)
def test_clinical_staff_get_403_on_quality_pages(client, demo_app, path):
    with db(demo_app) as s:
        number = s.scalar(select(func.min(Result.id)))
    login(client, "nurse")
    assert client.get(path.replace("/results/1", f"/results/{number}")).status_code == 403


def test_clinical_staff_cannot_record_or_open_an_investigation(client, demo_app):
    with db(demo_app) as s:
        number = s.scalar(select(Investigation.number))
    login(client, "nurse")
    resp = post(client, "/lots/CFM-2025-0004/results", {"test": "CD73"}, page="/")
    assert resp.status_code == 403
    assert client.get(f"/investigations/{number}").status_code == 403
    assert post(client, f"/investigations/{number}/conclude", page="/").status_code == 403
