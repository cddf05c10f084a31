"""The trace pages as the people who use them: a nurse traces her own patient back to the donor
(and another site's nurse finds nothing), QA traces a donor, bank or lot forward to every unit and
patient, and QA works a recall's impact list and records who was told. Each page costs the same
number of SQL statements for a lot of 4 or 40 units."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.domain.isbt128 import eye_readable
from lotrack.models import AuditEvent, Notification
from lotrack.services import lot as lots
from tests.conftest import counting, csrf_token, login
from tests.services.test_trace import recall, s, staff, world

__all__ = ["s", "staff"]  # fixtures the world needs (a signing key, nurses at two sites)


def words(resp) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(text))


def section(resp, anchor: str) -> str:
    page = resp.get_data(as_text=True)
    start = page.index(f'id="{anchor}"')
    return words_of(page[start : page.index("</section>", start)])


def words_of(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def as_(app: Flask, username: str) -> FlaskClient:
    c = app.test_client()
    resp = login(c, username, f"demo-{username}-password")  # the demo's and the world's nurses
    assert resp.status_code == 302, username
    return c


def named(resp, field: str, reason: str) -> bool:
    """The refusal names the field and its reason, and the field itself is marked."""
    body = resp.get_data(as_text=True)
    return f"<b>{field}</b>: {reason}" in body and f'aria-describedby="err-{field}"' in body


def settled(s: Session, *values):
    """Values read from the test's session, which is then committed: on SQLite every transaction
    takes the write lock (BEGIN IMMEDIATE), so the session must hold none during a request."""
    s.commit()
    return values


def spaced(din: str) -> str:
    """A DIN as the pages print it (eye-readable groups)."""
    return eye_readable(din)


def test_a_nurse_traces_her_patient_back_to_the_donor(demo_app, s: Session, staff) -> None:
    w = world(s, "P", units=5, patients=2)
    (dins, number) = settled(s, [u.din for u in w.lot.units[:2]], w.lot.lot_number)
    nurse = as_(demo_app, "nurse")
    assert 'name="patient"' in nurse.get("/trace/back").get_data(as_text=True)
    page = nurse.get("/trace/back", query_string={"patient": w.twice.lower()})
    assert page.status_code == 200
    shown = words(page)
    assert shown.count("Infusion ") == 2
    for din in dins:
        assert spaced(din) in shown
    for link in (number, "RUN-2025-01", "P6", "P7", "WCB-001-A", "MCB-001", "CL-0001"):
        assert link in shown, link
    assert "FD-0001" in shown
    # A nurse may not open the manufacturing record: the codes are shown, not linked.
    assert "/lots/" not in page.get_data(as_text=True)
    other = as_(demo_app, "bjnurse").get("/trace/back", query_string={"patient": w.twice})
    assert other.status_code == 404  # another site's patient is not there at all
    assert "FD-0001" not in words(other) and number not in words(other)
    unknown = nurse.get("/trace/back", query_string={"patient": "SZ-GIMI/NOBODY"})
    assert unknown.status_code == 404 and named(unknown, "patient", "no such patient")
    nul = nurse.get("/trace/back", query_string={"patient": "SZ-GIMI/\x00"})
    assert nul.status_code == 422 and "<b>patient</b>: contains a NUL" in nul.get_data(as_text=True)
    assert as_(demo_app, "tech").get("/trace/back").status_code == 403


def test_qa_traces_a_lot_donor_or_bank_forward_to_units_places_and_patients(
    demo_app, s: Session, staff
) -> None:
    w = world(s, "P", units=8, patients=3)
    (number,) = settled(s, w.lot.lot_number)
    qa = as_(demo_app, "qa")
    page = qa.get("/trace/forward", query_string={"lot": number})
    assert page.status_code == 200
    units, patients = section(page, "units"), section(page, "patients")
    heavy, one, two = w.patients
    assert units.count(f"infused into {heavy}") == 2
    assert f"infused into {one}" in units and f"infused into {two}" in units
    assert units.count("in transit to BJ-ACH") == 2
    assert "received at BJ-CIP" in units and "missing: shipped to BJ-CIP" in units
    assert [p for p in w.patients if p in patients] == w.patients
    donor = words(qa.get("/trace/forward", query_string={"donor": "fd-0001"}))
    assert number in donor and "CFM-2025-0004" in donor
    bank = qa.get("/trace/forward", query_string={"bank": "WCB-001-B"})
    assert "CFM-2025-0004" in words(bank) and number not in words(bank)
    assert "CFM-2025-0003" in words(bank)  # the demo's failing lot is made from WCB-001-B too
    assert "No unit has been infused." in section(bank, "patients")
    assert as_(demo_app, "md").get("/trace/forward?lot=CFM-2025-0001").status_code == 200


@pytest.mark.parametrize(
    "query, status, named",
    [
        ({"donor": "FD-0001", "lot": "CFM-2025-0001"}, 422, ["donor", "lot"]),
        ({"bank": "WCB-404"}, 404, ["bank"]),
        ({"lot": "CFM-1999-0001"}, 404, ["lot"]),
        ({"donor": "FD-9999"}, 404, ["donor"]),
        ({"lot": "x" * 33}, 422, ["lot"]),
    ],
)
def test_a_forward_trace_needs_one_known_starting_point(client, query, status, named) -> None:
    login(client, "qa")
    page = client.get("/trace/forward", query_string=query)
    assert page.status_code == status
    body = page.get_data(as_text=True)
    for field in named:
        assert f"<b>{field}</b>:" in body and f'aria-describedby="err-{field}"' in body
    assert 'id="units"' not in body


def test_without_a_starting_point_the_forward_page_is_the_form(client) -> None:
    login(client, "qa")
    page = client.get("/trace/forward")
    assert page.status_code == 200 and 'name="donor"' in page.get_data(as_text=True)
    assert 'role="alert"' not in page.get_data(as_text=True)


@pytest.mark.parametrize("who", ["nurse", "tech"])
def test_forward_and_impact_name_every_sites_patients_so_site_and_bench_may_not(
    demo_app, who
) -> None:
    c = as_(demo_app, who)
    assert c.get("/trace/forward?lot=CFM-2025-0001").status_code == 403
    assert c.get("/containments/RCL-2025-001/impact").status_code == 403


def notes(app: Flask) -> tuple[int, int]:
    """(notifications, audit events): what 'nothing was written' is checked against."""
    with app.extensions["lotrack_db"].sessionmaker() as db:
        return (
            db.scalar(select(func.count()).select_from(Notification)) or 0,
            db.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_a_recalls_impact_lists_whom_to_follow_and_records_who_was_told(
    demo_app, s: Session, staff
) -> None:
    w = world(s, "P", units=9, patients=2)
    rec = recall(s, w.lot)
    d, path, rec_id = settled(
        s, [spaced(u.din) for u in w.lot.units], f"/containments/{rec.number}/impact", rec.id
    )
    qa = as_(demo_app, "qa")
    page = qa.get(path)
    assert page.status_code == 200
    assert [p for p in w.patients if p in section(page, "patients")] == w.patients
    at_sites = section(page, "at-sites")
    assert d[5] in at_sites and "at BJ-CIP" in at_sites and d[3] not in at_sites
    assert d[3] in section(page, "in-transit") and d[4] in section(page, "in-transit")
    assert d[6] in section(page, "missing")
    assert all(x in section(page, "at-manufacturer") for x in d[7:])
    assert "Nobody has been recorded as told yet." in section(page, "notifications")

    before = notes(demo_app)
    refused = qa.post(
        path + "/notify",
        data={"recipient_role": "site", "method": "telephone", "csrf_token": csrf_token(qa, path)},
    )
    assert refused.status_code == 422 and "<b>recipient</b>: required" in refused.get_data(
        as_text=True
    )
    assert notes(demo_app) == before  # nothing written
    done = qa.post(
        path + "/notify",
        data={
            "recipient_role": "site",
            "recipient": "BJ-CIP pharmacy",
            "method": "telephone",
            "notified_at": "2025-09-01T09:30",
            "note": "two bags to quarantine",
            "csrf_token": csrf_token(qa, path),
        },
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(path + "#notifications")
    log = section(qa.get(path), "notifications")
    assert "BJ-CIP pharmacy" in log and "telephone" in log and "qa," in log
    assert "two bags to quarantine" in log and "2025-09-01 09:30" in log
    with demo_app.extensions["lotrack_db"].sessionmaker() as db:
        told = db.scalars(select(Notification).where(Notification.containment_id == rec_id)).one()
        audited = db.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "notification",
                AuditEvent.entity_id == str(told.id),
                AuditEvent.action == "create",
            )
        ).one()
        assert (audited.actor, told.recorded_by.username) == ("qa", "qa")

    md = as_(demo_app, "md")  # reads the impact; recording notifications is QA's
    assert "BJ-CIP pharmacy" in section(md.get(path), "notifications")
    assert "Record a notification" not in md.get(path).get_data(as_text=True)
    forbidden = md.post(path + "/notify", data={"csrf_token": csrf_token(md, path)})
    assert forbidden.status_code == 403
    assert qa.get("/containments/RCL-1999-001/impact").status_code == 404


def test_the_lot_patient_and_recall_pages_link_to_the_trace_for_those_who_may_read_it(
    demo_app, s: Session
) -> None:
    rec = recall(s, lots.get_lot(s, "CFM-2025-0001"))
    (number,) = settled(s, rec.number)
    lot_page, impact = "/lots/CFM-2025-0001", f"/containments/{number}/impact"
    qa, tech = as_(demo_app, "qa"), as_(demo_app, "tech")
    assert "/trace/forward?lot=CFM-2025-0001" in qa.get(lot_page).get_data(as_text=True)
    assert "/trace/forward" not in tech.get(lot_page).get_data(as_text=True)
    assert impact in qa.get(f"/containments/{number}").get_data(as_text=True)
    assert impact not in tech.get(f"/containments/{number}").get_data(as_text=True)
    patient = as_(demo_app, "nurse").get("/patients/SZ-GIMI/SUBJ-001").get_data(as_text=True)
    assert "/trace/back?patient=SZ-GIMI/SUBJ-001" in patient
    assert 'href="/trace/back"' in patient  # the menu entry


def test_the_pages_cost_the_same_queries_for_4_or_40_units(demo_app, s: Session, staff) -> None:
    settled(s)
    nurse, qa = as_(demo_app, "nurse"), as_(demo_app, "qa")

    def statements(c: FlaskClient, path: str, **query: str) -> int:
        # Asked twice, the second counted: what a first visit records is not the page's cost.
        assert c.get(path, query_string=query).status_code == 200
        with counting(demo_app) as seen:
            assert c.get(path, query_string=query).status_code == 200
        return len(seen)

    def costs(tag: str, units: int, patients: int, bags: int) -> dict[str, int]:
        w = world(s, tag, units=units, patients=patients, bags=bags)
        rec = recall(s, w.lot)
        number, impact = settled(s, w.lot.lot_number, f"/containments/{rec.number}/impact")
        return {
            "back": statements(nurse, "/trace/back", patient=w.twice),
            "lot": statements(qa, "/trace/forward", lot=number),
            "donor": statements(qa, "/trace/forward", donor="FD-0001"),
            "impact": statements(qa, impact),
        }

    small = costs("S", units=4, patients=1, bags=2)
    large = costs("L", units=40, patients=12, bags=5)
    assert large == small, (small, large)


def test_a_long_forward_trace_is_shown_a_page_at_a_time_with_every_unit_counted(
    demo_app, s: Session, staff, monkeypatch
) -> None:
    w = world(s, "P", units=9, patients=2)
    (d, number) = settled(s, [u.din for u in w.lot.units], w.lot.lot_number)
    monkeypatch.setitem(demo_app.config, "LOTRACK_PAGE_SIZE", 4)
    qa = as_(demo_app, "qa")
    page = qa.get("/trace/forward", query_string={"lot": number})
    shown = words(page)
    assert "Units 9" in shown and "Units infused 3" in shown and "Patients infused 2" in shown
    units = section(page, "units")
    assert [x for x in d if spaced(x) in units] == d[:4]
    assert "4 units on this page, 9 in all" in units and "First page" not in units
    after = re.search(r'href="([^"]*after=[^"]*)"', page.get_data(as_text=True))
    assert after is not None
    second = qa.get(html.unescape(after.group(1)))
    units = section(second, "units")
    assert [x for x in d if spaced(x) in units] == d[4:8] and "First page" in units
    assert "Those who received the units listed on this page" in section(second, "patients")
    third = qa.get("/trace/forward", query_string={"lot": number, "after": d[7]})
    assert [x for x in d if spaced(x) in section(third, "units")] == d[8:]
    assert "Next" not in section(third, "units")
