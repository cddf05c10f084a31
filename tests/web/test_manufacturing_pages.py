"""The manufacturing record in the browser: what each page shows, who may see and change it,
and that every record made through a form appears on its page and in its history panel."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lotrack.domain.isbt128 import eye_readable
from lotrack.models import CellBank, Lot, Unit, Vial
from tests.conftest import csrf_token, login

PAGES = [
    "/donors",
    "/donors/FD-0001",
    "/clones/CL-0001",
    "/banks",
    "/banks/MCB-001",
    "/banks/WCB-001-A/vials/1",
    "/runs",
    "/runs/RUN-2025-03",
    "/lots",
    "/lots/CFM-2025-0004",
    "/lineage/lot/CFM-2025-0004",
    "/lineage/bank/MCB-001",
]
WRITE_PAGES = [
    "/donors/new",
    "/donors/FD-0001/screening",
    "/clones/new",
    "/banks/new",
    "/banks/MCB-001/vials/new",
    "/banks/WCB-001-B/vials/5/withdraw",
    "/runs/new",
    "/runs/RUN-2025-03/passages/new",
    "/lots/new",
    "/lots/CFM-2025-0004/fill",
]


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def history(page: str) -> str:
    return page.split('aria-label="History"', 1)[1]


def units_of(app: Flask, lot_number: str) -> list[Unit]:
    """Read with a short-lived session: on SQLite every transaction takes the write lock."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return list(
            s.scalars(select(Unit).join(Unit.lot).where(Lot.lot_number == lot_number)).all()
        )


def post(client: FlaskClient, path: str, data: dict[str, str]):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


# ---- who may see and change what -----------------------------------------------------------


@pytest.mark.parametrize("path", PAGES + WRITE_PAGES + ["/donors/FD-0001/determination"])
def test_clinical_staff_get_403_on_every_manufacturing_page(client, path) -> None:
    login(client, "nurse")
    assert client.get(path).status_code == 403


def test_clinical_staff_cannot_post_either(client) -> None:
    login(client, "nurse")
    resp = post(client, "/donors/new", {"code": "FD-0009", "consent_date": "2025-03-01"})
    assert resp.status_code == 403


@pytest.mark.parametrize("username", ["tech", "qa", "admin"])
def test_manufacturing_roles_read_every_page(client, username) -> None:
    login(client, username)
    for path in PAGES:
        assert client.get(path).status_code == 200, path


def test_a_visitor_is_sent_to_the_login_page(client) -> None:
    resp = client.get("/lots")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


@pytest.mark.parametrize("username", ["qa", "admin"])
def test_readers_cannot_open_or_post_the_forms(client, username) -> None:
    login(client, username)
    for path in WRITE_PAGES:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/lots")
    resp = client.post(
        "/donors/new", data={"code": "FD-0009", "consent_date": "2025-03-01", "csrf_token": token}
    )
    assert resp.status_code == 403
    assert client.get("/donors/FD-0009").status_code == 404


def test_write_buttons_are_shown_only_to_the_technician(client) -> None:
    login(client, "tech")
    assert "New lot" in text(client.get("/lots"))
    donor_page = text(client.get("/donors/FD-0001"))
    assert "Add screening result" in donor_page and "New clone" in donor_page
    assert "Determine eligibility" not in donor_page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/lots")})
    login(client, "qa")
    assert "New lot" not in text(client.get("/lots"))
    donor_page = text(client.get("/donors/FD-0001"))
    assert "Add screening result" not in donor_page and "New clone" not in donor_page
    assert "Determine eligibility" in donor_page
    assert "/withdraw" not in text(client.get("/banks/WCB-001-B"))


def test_qa_determines_eligibility_and_the_technician_may_not(client) -> None:
    login(client, "tech")
    assert client.get("/donors/FD-0001/determination").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/lots")})
    login(client, "qa")
    data = {"determination": "ineligible", "responsible_person": "Dr Q", "reason": "look-back"}
    resp = post(client, "/donors/FD-0001/determination", data)
    assert resp.status_code == 302
    page = text(client.get("/donors/FD-0001"))
    assert "ineligible" in page and "Dr Q" in page
    changes = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", history(page)))
    assert "determination: eligible → ineligible" in changes
    assert "look-back" in history(page)


# ---- what the pages show ---------------------------------------------------------------------


def test_donor_page_shows_coded_id_screening_determination_and_clones(client) -> None:
    login(client, "tech")
    page = text(client.get("/donors/FD-0001"))
    for marker in ("HIV-1/2", "HBV", "HCV", "syphilis", "HTLV-I/II", "CMV"):
        assert f"<td>{marker}</td>" in page
    assert "TPPA" in page and "2025-03-12" in page and "2025-03-10" in page
    assert "Demo Medical Director" in page and "Asia/Shanghai (UTC+08:00)" in page
    assert 'href="/clones/CL-0001"' in page
    assert "create" in history(page)
    # the header's forms aside
    form = text(client.get("/donors/new")).split('<main id="main"', 1)[1]
    names = re.findall(r'<(?:input|select|textarea)[^>]*? name="(\w+)"', form)
    assert names == ["csrf_token", "code", "consent_date"]  # never a name


def test_bank_pages_show_parent_vials_and_withdrawals(client) -> None:
    login(client, "tech")
    mcb = text(client.get("/banks/MCB-001"))
    assert 'href="/clones/CL-0001"' in mcb and "P3" in mcb and "12.50" in mcb
    wcb = text(client.get("/banks/WCB-001-A"))
    assert 'href="/banks/MCB-001"' in wcb and "18.20" in wcb
    assert "<td>LN2-1</td><td>B</td><td>2</td><td>A1</td>" in wcb
    withdrawals = wcb.split("<h2>Withdrawals</h2>", 1)[1]
    assert "WCB-001-A-V001" in withdrawals and "<td>tech</td>" in withdrawals
    assert "production run RUN-2025-01" in withdrawals


def test_run_page_shows_passages_doublings_and_flags_the_passage_over_the_limit(client) -> None:
    login(client, "tech")
    page = text(client.get("/runs/RUN-2025-03"))
    assert 'href="/banks/WCB-001-B"' in page and "WCB-001-B-V001" in page
    rows = re.findall(r'(?s)<tr( class="flagged")?>\s*<td>P(\d+)\b(.*?)</tr>', page)
    assert [int(n) for _f, n, _r in rows] == [6, 7, 8, 9, 10, 11]
    flagged = [int(n) for f, n, _r in rows if f]
    assert flagged == [11]
    assert "passage 11 exceeds the limit of 10" in rows[-1][2]
    assert "2,000,000" in rows[0][2] and "2.81" in rows[0][2] and "21.21" in rows[0][2]
    assert "Limit exceeded" in page
    assert 'href="/lots/CFM-2025-0004"' in page
    first_run = text(client.get("/runs/RUN-2025-01"))
    assert 'class="flagged"' not in first_run and "Limit exceeded" not in first_run


def test_lot_page_shows_state_and_every_units_din_with_its_check_character(
    client, demo_app
) -> None:
    login(client, "tech")
    page = text(client.get("/lots/CFM-2025-0004"))
    assert 'class="badge state-quarantine">QUARANTINE' in page
    units = units_of(demo_app, "CFM-2025-0004")
    assert len(units) == 2
    for u in units:
        assert re.search(
            rf'{eye_readable(u.din)}</a>\s*<span class="check"[^>]*>'
            rf"{re.escape(u.check_character)}<",
            page,
        ), u.din
    assert "72,000,000" in page and "18.00" in page and "LN2-2 / rack C / box 1" in page
    assert 'href="/lineage/lot/CFM-2025-0004"' in page


def test_lot_list_filters_by_state_and_pages(client, demo_app) -> None:
    login(client, "tech")
    page = text(client.get("/lots"))
    for n in range(1, 5):
        assert f"CFM-2025-000{n}" in page
    row = re.search(r"(?s)CFM-2025-0002</a></td>.*?</tr>", page).group(0)
    assert "RUN-2025-01" in row and '<td class="num">3</td>' in row
    # The demo released CFM-2025-0001; the other three wait in quarantine.
    assert "CFM-2025-0001" in text(client.get("/lots?state=RELEASED"))
    assert "CFM-2025-0001" not in text(client.get("/lots?state=QUARANTINE"))
    assert client.get("/lots?state=BOGUS").status_code == 422
    demo_app.config["LOTRACK_PAGE_SIZE"] = 2
    first = text(client.get("/lots?state=QUARANTINE"))
    assert "Page 1 of 2" in first and "page=2" in first and "state=QUARANTINE" in first
    second = text(client.get("/lots?state=QUARANTINE&page=2"))
    shown = set(re.findall(r"CFM-2025-000\d", first)) | set(re.findall(r"CFM-2025-000\d", second))
    assert shown == {"CFM-2025-0002", "CFM-2025-0003", "CFM-2025-0004"}


# ---- records made through the forms ---------------------------------------------------------


def test_donor_screening_and_clone_made_through_the_forms(client) -> None:
    login(client, "tech")
    resp = post(client, "/donors/new", {"code": "fd-0002", "consent_date": "2025-03-01"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/donors/FD-0002")
    data = {"marker": "CMV", "method": "CLIA", "result": "reactive", "tested_on": "2025-03-05"}
    assert post(client, "/donors/FD-0002/screening", data).status_code == 302
    page = text(client.get("/donors/FD-0002"))
    assert "<td>CMV</td><td>CLIA</td>" in page
    hist = history(page)
    assert hist.count("<td>tech</td>") == 2 and "CLIA" in hist and "FD-0002" in hist
    assert "New clone" in page
    data = {"code": "CL-0002", "donor": "FD-0002", "derived_on": "2025-04-01"}
    resp = post(client, "/clones/new", data)
    assert resp.status_code == 302
    clone = text(client.get("/clones/CL-0002"))
    assert 'href="/donors/FD-0002"' in clone and "CL-0002" in history(clone)
    assert 'href="/clones/CL-0002"' in text(client.get("/donors/FD-0002"))


def test_bank_vials_and_withdrawal_made_through_the_forms(client, demo_app) -> None:
    login(client, "tech")
    data = {
        "code": "MCB-002",
        "tier": "MCB",
        "parent": "CL-0001",
        "passage_at_banking": "3",
        "pdl_at_banking": "12.00",
        "banked_on": "2025-05-20",
    }
    assert post(client, "/banks/new", data).status_code == 302
    assert "MCB-002" in history(text(client.get("/banks/MCB-002")))
    data = {"freezer": "LN2-9", "rack": "Z", "box": "9", "positions": "b1, B2"}
    assert post(client, "/banks/MCB-002/vials/new", data).status_code == 302
    page = text(client.get("/banks/MCB-002"))
    assert "<td>LN2-9</td><td>Z</td><td>9</td><td>B1</td>" in page
    assert "<td>B2</td>" in page
    vial = text(client.get("/banks/MCB-002/vials/2"))
    assert "LN2-9 / rack Z / box 9 / B2" in vial and "<td>create</td>" in history(vial)
    resp = post(client, "/banks/MCB-002/vials/2/withdraw", {"purpose": "sterility retest"})
    assert resp.status_code == 302
    vial = text(client.get("/banks/MCB-002/vials/2"))
    assert "state-withdrawn" in vial and "Withdraw this vial" not in vial
    assert "<td>withdraw</td>" in history(vial) and "sterility retest" in history(vial)
    withdrawals = text(client.get("/banks/MCB-002")).split("<h2>Withdrawals</h2>", 1)[1]
    assert "MCB-002-V002" in withdrawals and "<td>tech</td>" in withdrawals
    assert "sterility retest" in withdrawals
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        vials = s.execute(
            select(Vial.number, Vial.state).join(Vial.bank).where(CellBank.code == "MCB-002")
        ).all()
    assert sorted(tuple(v) for v in vials) == [(1, "stored"), (2, "withdrawn")]


def test_run_and_passage_made_through_the_forms(client) -> None:
    login(client, "tech")
    data = {"code": "RUN-2025-04", "bank": "WCB-001-B", "vials": "2", "started_on": "2025-12-01"}
    resp = post(client, "/runs/new", data)
    assert resp.status_code == 302
    page = text(client.get("/runs/RUN-2025-04"))
    assert "WCB-001-B-V002" in page and "No passage recorded yet." in page
    assert "state-withdrawn" in text(client.get("/banks/WCB-001-B/vials/2"))
    data = {
        "seeded_on": "2025-12-01",
        "harvested_on": "2025-12-07",
        "cells_seeded": "2000000",
        "cells_harvested": "14000000",
        "viability_percent": "95",
    }
    assert "Passage P6" in text(client.get("/runs/RUN-2025-04/passages/new"))
    assert post(client, "/runs/RUN-2025-04/passages/new", data).status_code == 302
    page = text(client.get("/runs/RUN-2025-04"))
    row = re.search(r"(?s)<td>P6</td>(.*?)</tr>", page).group(1)
    assert "14,000,000" in row and "95.00" in row and "2.81" in row and "21.21" in row
    hist = history(page)
    assert "RUN-2025-04" in hist and "cells_harvested" in hist and "14000000" in hist


def test_lot_and_units_made_through_the_forms(client, demo_app) -> None:
    login(client, "tech")
    data = {"run": "RUN-2025-01", "harvested_on": "2025-08-20", "expires_on": "2026-08-20"}
    resp = post(client, "/lots/new", data)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/lots/CFM-2025-0005")
    page = text(client.get("/lots/CFM-2025-0005"))
    assert "QUARANTINE" in page and "No unit filled yet." in page
    assert "CFM-2025-0005" in history(page)
    data = {"container": "vial", "count": "2", "cells_per_unit": "5000000", "volume_ml": "1.5"}
    assert post(client, "/lots/CFM-2025-0005/fill", data).status_code == 302
    page = text(client.get("/lots/CFM-2025-0005"))
    units = units_of(demo_app, "CFM-2025-0005")
    assert len(units) == 2
    for u in units:
        assert eye_readable(u.din) in page
        unit_page = text(client.get(f"/units/{u.din}"))
        assert u.check_character in unit_page and "5,000,000" in unit_page
        assert "<td>tech</td>" in history(unit_page) and u.din in history(unit_page)
