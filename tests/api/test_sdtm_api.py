"""GET /api/v1/exports/sdtm.zip and the export page: a zip of CSV datasets that match the records,
the zip's hash in a header and in the audit trail, a site's investigator seeing their site only,
and a clear 403 (nothing written) for roles that may not export."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile

import pytest
from flask import Flask
from sqlalchemy import select

from lotrack.models import AuditEvent
from tests import clinical_setup as cs
from tests.api.conftest import assert_problem, row_counts
from tests.conftest import login


def datasets(content: bytes) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return {
            n.removesuffix(".csv"): list(
                csv.DictReader(io.StringIO(zf.read(n).decode("utf-8-sig")))
            )
            for n in zf.namelist()
            if n.endswith(".csv")
        }


@pytest.fixture
def infused(demo_app: Flask) -> str:
    """The demo's SUBJ-001 infused with its bag, and a grade 3 probable reaction recorded."""
    din, _check = cs.ready_din(demo_app)
    cs.infuse(demo_app, cs.READY, din)
    cs.adverse_event(demo_app, cs.READY)
    return din


def test_the_sponsor_gets_a_zip_of_csv_datasets_and_the_download_is_audited(
    demo_app, as_user, infused
) -> None:
    resp = as_user("qa").get("/exports/sdtm.zip")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/zip"
    assert "attachment" in resp.headers["Content-Disposition"]
    digest = hashlib.sha256(resp.data).hexdigest()
    assert resp.headers["X-Content-SHA256"] == digest
    data = datasets(resp.data)
    subject = "NCT03123458-SZ-GIMI-SUBJ-001"
    assert [r["USUBJID"] for r in data["DM"]] == [subject]  # SUBJ-002 has not consented
    assert [(r["USUBJID"], r["EXREFID"], r["EXLOT"]) for r in data["EX"]] == [
        (subject, infused, cs.DEMO_LOT)
    ]
    assert sorted((r["AEDECOD"], r["AETOXGR"], r["AEREL"], r["AESER"]) for r in data["AE"]) == [
        ("Fever", "3", "UNRELATED", "Y"),  # the demo's, before dosing
        ("Infusion related reaction", "3", "PROBABLE", "Y"),
    ]
    with cs.db(demo_app) as s:
        logged = s.scalars(select(AuditEvent).where(AuditEvent.action == "sdtm_export")).one()
        assert (logged.actor, logged.entity_id) == ("qa", digest)


def test_a_sites_investigator_exports_their_own_site_only(demo_app, as_user, client, infused):
    mine = datasets(as_user("doctor").get("/exports/sdtm.zip").data)
    assert {r["SITEID"] for r in mine["DM"]} == {"SZ-GIMI"} and len(mine["EX"]) == 1
    token = cs.site_user(demo_app, "doctor-bj", role="investigator")
    other = client.get("/api/v1/exports/sdtm.zip", headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 200
    assert all(rows == [] for name, rows in datasets(other.data).items() if name != "metadata")


@pytest.mark.parametrize("who", ["tech", "nurse", "admin"])
def test_who_may_not_export_is_refused_and_nothing_is_written(demo_app, as_user, who) -> None:
    before = row_counts(demo_app)
    assert_problem(as_user(who).get("/exports/sdtm.zip"), 403)
    assert row_counts(demo_app) == before


def test_without_a_token_the_export_is_401(as_user) -> None:
    assert as_user(None).get("/exports/sdtm.zip").status_code == 401


def test_the_page_describes_the_datasets_and_downloads_the_zip(demo_app, client) -> None:
    login(client, "qa")
    page = client.get("/reports/sdtm")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for name in ("DM", "EX", "AE", "DS", "USUBJID", "AETOXGR", "人口统计学"):
        assert name in text
    assert "/reports/sdtm.zip" in text
    assert "/reports/sdtm" in client.get("/reports").get_data(as_text=True)
    got = client.get("/reports/sdtm.zip")
    assert got.status_code == 200 and got.mimetype == "application/zip"
    with cs.db(demo_app) as s:
        logged = s.scalars(select(AuditEvent).where(AuditEvent.action == "sdtm_export")).one()
        assert logged.entity_id == hashlib.sha256(got.data).hexdigest()


def test_a_nurse_neither_sees_the_export_nor_may_open_it(client) -> None:
    login(client, "nurse")
    assert "/reports/sdtm" not in client.get("/reports").get_data(as_text=True)
    assert client.get("/reports/sdtm").status_code == 403
    assert client.get("/reports/sdtm.zip").status_code == 403
