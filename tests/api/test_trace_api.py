"""/api/v1 trace and recall impact as an integrator reads them: a patient back to the donor (a site
sees its own patients only), a donor, bank or lot forward to every unit, place and patient, and a
recall's impact with the notifications recorded on it; bad input is a 4xx naming the field; each
answer costs the same SQL statements for a lot of 4 or 40 units."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.models import AuditEvent, Notification
from lotrack.services.api_tokens import create_token
from tests.api.conftest import Api, assert_problem, row_counts
from tests.conftest import counting, user
from tests.services.test_trace import recall, s, staff, world

__all__ = ["s", "staff"]  # fixtures the world needs (a signing key, nurses at two sites)


def settled(s: Session, *values):
    """Values read from the test's session, which is then committed: on SQLite every transaction
    takes the write lock (BEGIN IMMEDIATE), so the session must hold none during a request."""
    s.commit()
    return values


def test_a_nurse_traces_her_patient_back_and_another_site_gets_404(
    demo_app: Flask, client, as_user, s: Session, staff
) -> None:
    w = world(s, "P", units=5, patients=2)
    dins, number = [u.din for u in w.lot.units[:2]], w.lot.lot_number
    (bj_token,) = settled(s, create_token(s, None, user(s, "bjnurse")))
    r = as_user("nurse").get("/trace/patient", query_string={"patient": w.twice.lower()})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["patient"], body["site"]) == (w.twice, "SZ-GIMI")
    assert [i["din"] for i in body["infusions"]] == dins
    first = body["infusions"][0]
    chain = {k: first[k] for k in ("lot", "run", "wcb", "mcb", "clone", "donor")}
    assert chain == {
        "lot": number,
        "run": "RUN-2025-01",
        "wcb": "WCB-001-A",
        "mcb": "MCB-001",
        "clone": "CL-0001",
        "donor": "FD-0001",
    }
    assert [p["number"] for p in first["passages"]] == [6, 7]
    assert len(first["check_character"]) == 1 and first["started_at"].endswith("+00:00")
    other = Api(client, bj_token).get("/trace/patient", query_string={"patient": w.twice})
    assert_problem(other, 404, "patient")
    assert as_user("qa").get("/trace/patient", query_string={"patient": w.twice}).status_code == 200
    assert_problem(as_user("tech").get("/trace/patient?patient=SZ-GIMI/SUBJ-001"), 403)


@pytest.mark.parametrize(
    "query, status, field",
    [
        ("", 422, "patient"),
        ("?patient=SZ-GIMI/NOBODY", 404, "patient"),
        ("?patient=SZ-GIMI%00", 422, "patient"),
        ("?patient=" + "X" * 65, 422, "patient"),
    ],
)
def test_a_patient_trace_names_what_is_wrong_with_the_wristband(as_user, query, status, field):
    assert_problem(as_user("nurse").get("/trace/patient" + query), status, field)


def test_qa_traces_a_lot_forward_to_every_unit_its_place_and_its_patient(
    as_user, s: Session, staff
) -> None:
    w = world(s, "P", units=8, patients=3)
    (d, number) = settled(s, [u.din for u in w.lot.units], w.lot.lot_number)
    r = as_user("qa").get("/trace/units", query_string={"lot": number.lower()})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["origin"] == f"lot {number}"
    assert [x["lot_number"] for x in body["lots"]] == [number]
    units = {u["din"]: u for u in body["units"]}
    assert list(units) == d
    heavy, one, two = w.patients
    assert [units[x]["patient"] for x in d[:4]] == [heavy, heavy, one, two]
    assert {units[x]["status"] for x in d[:4]} == {"infused"}
    assert [(units[x]["status"], units[x]["site"]) for x in d[4:]] == [
        ("in_transit", "BJ-ACH"),
        ("in_transit", "BJ-ACH"),
        ("at_site", "BJ-CIP"),
        ("not_received", "BJ-CIP"),
    ]
    assert units[d[6]]["where"] == "received at BJ-CIP" and units[d[6]]["patient"] is None
    # `state` carries the unit's own state: where it is and what happened to it.
    assert [units[x]["state"] for x in d[4:]] == ["in_transit", "in_transit", "received", "missing"]
    assert [(p["patient"], p["din"], p["site"]) for p in body["patients"]] == [
        (heavy, d[0], "SZ-GIMI"),
        (heavy, d[1], "SZ-GIMI"),
        (one, d[2], "SZ-GIMI"),
        (two, d[3], "SZ-GIMI"),
    ]
    donor = as_user("md").get("/trace/units?donor=FD-0001").get_json()
    assert number in [x["lot_number"] for x in donor["lots"]]
    assert set(w.patients) <= {p["patient"] for p in donor["patients"]}
    bank = as_user("admin").get("/trace/units?bank=WCB-001-B").get_json()
    assert [x["lot_number"] for x in bank["lots"]] == ["CFM-2025-0003", "CFM-2025-0004"]
    assert {u["status"] for u in bank["units"]} == {"at_manufacturer"} and not bank["patients"]


@pytest.mark.parametrize(
    "query, status, fields",
    [
        ("", 422, ["donor", "bank", "lot"]),
        ("?donor=FD-0001&lot=CFM-2025-0001", 422, ["donor", "lot"]),
        ("?donor=FD-0001&bank=MCB-001&lot=CFM-2025-0001", 422, ["donor", "bank", "lot"]),
        ("?donor=FD-9999", 404, ["donor"]),
        ("?bank=WCB-404", 404, ["bank"]),
        ("?lot=CFM-1999-0001", 404, ["lot"]),
        ("?lot=" + "C" * 33, 422, ["lot"]),
    ],
)
def test_a_forward_trace_starts_from_exactly_one_known_donor_bank_or_lot(
    as_user, query, status, fields
) -> None:
    body = assert_problem(as_user("qa").get("/trace/units" + query), status)
    assert sorted(body["fields"]) == sorted(fields), body


@pytest.mark.parametrize("who", ["nurse", "tech"])
def test_forward_and_impact_name_every_sites_patients_so_site_and_bench_get_403(as_user, who):
    assert_problem(as_user(who).get("/trace/units?lot=CFM-2025-0001"), 403)
    assert_problem(as_user(who).get("/containments/RCL-2025-001/impact"), 403)


def test_a_recalls_impact_lists_patients_and_units_and_who_was_told(
    demo_app: Flask, as_user, s: Session, staff
) -> None:
    w = world(s, "P", units=9, patients=2)
    rec = recall(s, w.lot)
    (d, number) = settled(s, [u.din for u in w.lot.units], rec.number)
    qa = as_user("qa")
    body = qa.get(f"/containments/{number}/impact").get_json()
    assert (body["number"], body["kind"]) == (number, "recall")
    assert [x["state"] for x in body["lots"]] == ["RECALLED"]
    assert [p["patient"] for p in body["patients"]] == [w.twice, *w.patients]
    assert [(u["din"], u["site"]) for u in body["at_sites"]] == [(d[5], "BJ-CIP")]
    assert [u["din"] for u in body["in_transit"]] == d[3:5]
    assert [u["din"] for u in body["missing"]] == [d[6]]
    assert [u["din"] for u in body["at_manufacturer"]] == d[7:]
    assert body["notifications"] == []

    told = {
        "recipient_role": "site",
        "recipient": "BJ-CIP pharmacy",
        "method": "telephone",
        "notified_at": "2025-09-01T09:30:00+08:00",
        "note": "one bag to quarantine",
    }
    before = row_counts(demo_app)
    missing = {k: v for k, v in told.items() if k != "method"}
    assert_problem(qa.post(f"/containments/{number}/notifications", missing), 422, "method")
    assert_problem(as_user("md").post(f"/containments/{number}/notifications", told), 403)
    assert row_counts(demo_app) == before  # nothing written
    r = qa.post(f"/containments/{number}/notifications", told)
    assert r.status_code == 201, r.get_json()
    log = as_user("md").get(f"/containments/{number}/impact").get_json()["notifications"]
    assert [(n["recipient"], n["method"], n["recorded_by"]) for n in log] == [
        ("BJ-CIP pharmacy", "telephone", "qa")
    ]
    assert log[0]["notified_at"].startswith("2025-09-01T01:30:00")  # stored in UTC
    with demo_app.extensions["lotrack_db"].sessionmaker() as db:
        row = db.scalars(select(Notification)).one()
        event = db.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "notification", AuditEvent.entity_id == str(row.id)
            )
        ).one()
        assert (event.action, event.actor) == ("create", "qa")
    assert_problem(qa.get("/containments/RCL-1999-001/impact"), 404, "number")


def test_trace_and_impact_cost_the_same_queries_for_4_or_40_units(
    demo_app: Flask, as_user, s: Session, staff
) -> None:
    settled(s)
    nurse, qa = as_user("nurse"), as_user("qa")

    def statements(api: Api, path: str, **query: str) -> int:
        # Asked twice, the second counted: a token's use is recorded at most once a minute.
        assert api.get(path, query_string=query).status_code == 200
        with counting(demo_app) as seen:
            r = api.get(path, query_string=query)
            assert r.status_code == 200, r.get_json()
        return len(seen)

    def costs(tag: str, units: int, patients: int, bags: int) -> dict[str, int]:
        w = world(s, tag, units=units, patients=patients, bags=bags)
        rec = recall(s, w.lot)
        number, impact = settled(s, w.lot.lot_number, f"/containments/{rec.number}/impact")
        return {
            "back": statements(nurse, "/trace/patient", patient=w.twice),
            "lot": statements(qa, "/trace/units", lot=number),
            "bank": statements(qa, "/trace/units", bank="MCB-001"),
            "donor": statements(qa, "/trace/units", donor="FD-0001"),
            "impact": statements(qa, impact),
        }

    small = costs("S", units=4, patients=1, bags=2)
    large = costs("L", units=40, patients=12, bags=5)
    assert large == small, (small, large)


def test_a_forward_trace_pages_its_units_and_counts_them_all(
    demo_app: Flask, as_user, s: Session, staff
) -> None:
    w = world(s, "P", units=9, patients=2)
    (d, number) = settled(s, [u.din for u in w.lot.units], w.lot.lot_number)
    qa = as_user("qa")
    seen, infusions, after, pages = [], [], None, 0
    while True:
        query = {"lot": number, "limit": 4} | ({"after": after} if after else {})
        body = qa.get("/trace/units", query_string=query).get_json()
        assert (body["unit_count"], body["infused_count"], body["patient_count"]) == (9, 3, 2)
        assert len(body["units"]) <= 4 and [x["lot_number"] for x in body["lots"]] == [number]
        seen += [u["din"] for u in body["units"]]
        infusions += [(p["patient"], p["din"]) for p in body["patients"]]
        pages, after = pages + 1, body["next_after"]
        if after is None:
            break
        assert after == seen[-1]
    assert (pages, seen) == (3, d)  # every unit once, in trace order
    assert infusions == [(w.twice, d[0]), (w.twice, d[1]), (w.patients[1], d[2])]
    whole = qa.get("/trace/units", query_string={"lot": number}).get_json()  # PAGE_SIZE: 50
    assert [u["din"] for u in whole["units"]] == d and whole["next_after"] is None
    assert_problem(qa.get("/trace/units", query_string={"lot": number, "limit": 0}), 422, "limit")
    assert_problem(qa.get(f"/trace/units?lot={number}&limit=501"), 422, "limit")
    # a DIN that is no unit of this trace: refused, not an empty page read as the end
    other = {"lot": "CFM-2025-0001", "after": d[0]}
    assert_problem(qa.get("/trace/units", query_string=other), 422, "after")
    assert_problem(qa.get(f"/trace/units?lot={number}&after=A999925000000"), 422, "after")


def test_a_recall_reaches_every_unit_however_the_trace_is_paged(
    demo_app: Flask, as_user, s: Session, staff, monkeypatch
) -> None:
    w = world(s, "P", units=9, patients=2)
    rec = recall(s, w.lot)
    (d, number, lot) = settled(s, [u.din for u in w.lot.units], rec.number, w.lot.lot_number)
    monkeypatch.setitem(demo_app.config, "LOTRACK_PAGE_SIZE", 3)
    qa = as_user("qa")
    first = qa.get("/trace/units", query_string={"lot": lot}).get_json()
    assert [u["din"] for u in first["units"]] == d[:3] and first["unit_count"] == 9
    body = qa.get(f"/containments/{number}/impact").get_json()
    places = ("at_sites", "in_transit", "missing", "at_manufacturer")
    reached = [u["din"] for k in places for u in body[k]] + [p["din"] for p in body["patients"]]
    assert sorted(reached) == d  # the units past the trace's first page too
    assert [u["din"] for u in body["at_manufacturer"]] == d[7:]
