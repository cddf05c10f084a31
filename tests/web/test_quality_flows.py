"""Recording and reviewing QC results through the real forms: a result and its verdict, the
second-person verification, a correction that keeps both results, an instrument CSV that is
imported whole or not at all, and an OOS investigation concluded with an assignable cause."""

from __future__ import annotations

import hashlib
import io
import re

from flask import Flask
from sqlalchemy import func, select

from lotrack.models import AuditEvent, Investigation, Lot, Result
from tests.conftest import login
from tests.record_signing import sign_form
from tests.web.test_quality_pages import db, post, text

LOT = "CFM-2025-0004"  # in quarantine, most release results still missing


def harvested(app: Flask, lot_number: str = LOT) -> str:
    with db(app) as s:
        return str(s.scalar(select(Lot.harvested_on).where(Lot.lot_number == lot_number)))


def counts(app: Flask) -> tuple[int, int]:
    """Results and audit events: a refusal leaves both unchanged."""
    with db(app) as s:
        return (
            s.scalar(select(func.count()).select_from(Result)) or 0,
            s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def result_of(app: Flask, lot_number: str, analyte: str) -> Result:
    """The latest result of one analyte of a lot (detached: read its columns only)."""
    with db(app) as s:
        found = s.scalars(
            select(Result)
            .join(Lot, Result.lot_id == Lot.id)
            .where(Lot.lot_number == lot_number, Result.analyte == analyte)
            .order_by(Result.id.desc())
        ).first()
        s.expunge_all()
        return found


def switch(client, username: str) -> None:
    """Log out and in as someone else, through the forms."""
    post(client, "/logout")
    login(client, username)


def row(page: str, result_id: int) -> str:
    return page.split(f'id="result-{result_id}"', 1)[1].split("</tr>", 1)[0]


def test_technician_records_a_result_with_raw_data_and_sees_its_verdict(client, demo_app):
    day = harvested(demo_app)
    login(client, "tech")
    before = counts(demo_app)
    bad = post(client, f"/lots/{LOT}/results", {"test": "CD73", "value": "99.0", "unit": "mL",
               "performed_on": day})  # fmt: skip
    page = text(bad)
    assert bad.status_code == 422 and "Nothing was saved." in page
    assert re.search(r'class="error" id="err-record-unit">the specification states', page)
    assert counts(demo_app) == before

    raw = b"marker,percent\nCD73,99.0\n"
    resp = client.post(
        f"/lots/{LOT}/results",
        data={"test": "CD73", "value": "99.0", "unit": "%", "performed_on": day,
              "raw_file": (io.BytesIO(raw), "cytometer.csv"),
              "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert resp.status_code == 302
    r = result_of(demo_app, LOT, "CD73")
    assert "CD73 99.0 % is pass" in text(client.get(f"/lots/{LOT}"))
    assert "PASS" in row(text(client.get(f"/lots/{LOT}")), r.id)
    detail = text(client.get(f"/results/{r.id}"))
    assert hashlib.sha256(raw).hexdigest() in detail and "cytometer.csv" in detail
    download = client.get(f"/results/{r.id}/raw")
    assert download.data == raw and download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_the_analyst_cannot_verify_his_own_result_but_a_second_technician_can(client, demo_app):
    cells = result_of(demo_app, "CFM-2025-0002", "CELLS")
    login(client, "tech")  # entered it
    page = text(client.get("/lots/CFM-2025-0002"))
    assert f"/results/{cells.id}/verify" not in page  # no Verify button for the analyst
    before = counts(demo_app)
    refused = post(client, f"/results/{cells.id}/verify")
    assert refused.status_code == 403 and "a second person must verify it" in text(refused)
    assert counts(demo_app) == before
    assert result_of(demo_app, "CFM-2025-0002", "CELLS").verified_at is None

    switch(client, "tech2")
    assert f"/results/{cells.id}/verify" in text(client.get("/lots/CFM-2025-0002"))
    done = post(client, f"/results/{cells.id}/verify")
    assert (
        done.status_code == 302
        and done.headers["Location"] == f"/lots/CFM-2025-0002#result-{cells.id}"
    )
    page = text(client.get("/lots/CFM-2025-0002"))
    assert "Viable cells per unit: the result is not verified yet." not in page
    assert "tech2, " in row(page, cells.id)


def test_a_correction_keeps_both_results_linked_both_ways(client, demo_app):
    old = result_of(demo_app, LOT, "CD105")
    login(client, "tech")
    form = {"test": "CD105", "value": "97.0", "unit": "%", "performed_on": harvested(demo_app)}
    before = counts(demo_app)
    no_reason = post(client, f"/results/{old.id}/correct", form)
    assert no_reason.status_code == 422 and 'id="err-reason"' in no_reason.get_data(as_text=True)
    assert counts(demo_app) == before

    form["reason"] = "wrong gate applied on the cytometer"
    resp = post(client, f"/results/{old.id}/correct", form)
    assert resp.status_code == 302 and resp.headers["Location"].startswith(f"/lots/{LOT}#result-")
    new = result_of(demo_app, LOT, "CD105")
    assert new.id != old.id and new.replaces_id == old.id
    page = text(client.get(f"/lots/{LOT}"))
    old_row, new_row = row(page, old.id), row(page, new.id)
    assert f"<del>{old.value}</del>" in old_row and 'class="invalidated"' in page
    assert "wrong gate applied" in old_row and f"replaced by #{new.id}" in old_row
    assert f"replaces #{old.id}" in new_row and "97.0" in new_row
    assert f"replaces #{old.id}" in text(client.get(f"/results/{new.id}"))
    assert f"replaced by #{new.id}" in text(client.get(f"/results/{old.id}"))


def test_a_csv_with_one_bad_row_writes_nothing_and_names_its_line(client, demo_app):
    day = harvested(demo_app)
    rows = [("CD73", "99.1"), ("CD90", "99.3"), ("CD45", "abc"), ("CD34", "0.2"), ("HLA-DR", "0.5")]
    csv = "marker,percent,date\n" + "".join(f"{m},{v},{day}\n" for m, v in rows)
    login(client, "tech")
    token = re.search(r'csrf_token" value="([^"]+)', text(client.get(f"/lots/{LOT}")))[1]

    def upload(body: str):
        return client.post(
            f"/lots/{LOT}/results/import",
            data={"file": (io.BytesIO(body.encode()), "export.csv"), "csrf_token": token},
            content_type="multipart/form-data",
        )

    before = counts(demo_app)
    refused = upload(csv)
    page = text(refused)
    assert refused.status_code == 422 and "1 of 5 rows are bad; nothing was written." in page
    assert re.search(r"<b>line 4</b>: value: a number", page)
    assert counts(demo_app) == before

    done = upload(csv.replace("abc", "0.3"))
    assert done.status_code == 302
    assert counts(demo_app)[0] == before[0] + 5
    assert "5 results imported" in text(client.get(f"/lots/{LOT}"))


def test_an_oos_invalidated_with_an_assignable_cause_allows_a_retest(client, demo_app):
    with db(demo_app) as s:
        number = s.scalar(select(Investigation.number).where(Investigation.status == "open"))
    viab = result_of(demo_app, "CFM-2025-0003", "VIAB")
    retest = {"test": "VIAB", "value": "91.5", "unit": "%",
              "performed_on": harvested(demo_app, "CFM-2025-0003")}  # fmt: skip
    login(client, "tech")
    early = post(client, "/lots/CFM-2025-0003/results", retest)
    assert early.status_code == 409 and f"{number} is open" in text(early)
    switch(client, "qa")
    page = text(client.get(f"/investigations/{number}"))
    assert "CFM-2025-0004" in page and "CFM-2025-0001" not in page  # its sibling on WCB-001-B
    path = f"/investigations/{number}"
    assert post(client, f"{path}/escalate", {"findings": "no pipetting error"}).status_code == 302
    assert "II (full, process)" in text(client.get(path))
    signer = sign_form("qa", "concluded")
    no_cause = post(
        client, f"{path}/conclude", {"conclusion": "invalidated", "findings": "x", **signer}
    )
    assert no_cause.status_code == 422 and "required to invalidate the result" in text(no_cause)
    assert "open, phase II" in text(client.get(path))
    done = post(client, f"{path}/conclude", {"conclusion": "invalidated", "findings":
                "trypan blue lot expired", "assignable_cause": "expired stain",
                **signer})  # fmt: skip
    assert done.status_code == 302
    page = text(client.get(path))
    assert "Invalidated with an assignable cause" in page and "expired stain" in page
    assert re.search(r"Sibling lots reviewed</dt><dd>.*CFM-2025-0004", page)
    lot_page = text(client.get("/lots/CFM-2025-0003"))
    assert "INVALID" in row(lot_page, viab.id) and f"{number}: assignable cause" in lot_page
    assert f"{number} (VIAB) is open" not in lot_page
    switch(client, "tech")
    again = post(client, "/lots/CFM-2025-0003/results", retest)
    assert again.status_code == 302
    assert "VIAB 91.5 % is pass" in text(client.get("/lots/CFM-2025-0003"))
