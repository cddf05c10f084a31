"""The clinical record through /api/v1: patients (consent, eligibility, prescription), allocation,
shipments and their receipt, adverse events graded by CTCAE v4.03, the primary outcome (JSON and
CSV), and site scoping: a clinical user of another site sees none of it (404, never 403)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests import clinical_setup as cs
from tests.api.conftest import Api, assert_problem, row_counts


@pytest.fixture
def nurse(as_user) -> Api:
    return as_user("nurse")


@pytest.fixture
def doctor(as_user) -> Api:
    """SZ-GIMI's investigator: assesses, prescribes, attributes adverse events."""
    return as_user("doctor")


def test_a_patient_is_registered_consented_assessed_and_prescribed(
    demo_app, nurse, doctor, tech
) -> None:
    patient = {
        "subject_code": "subj-020",
        "weight_kg": "68.00",
        "indication": "other_immune",
        "cohort": "1e6/kg",
        "age_band": "2-11y",
        "sex": "female",
    }
    for bad, field in (({"cohort": "A"}, "cohort"), ({"age_band": "7"}, "age_band")):
        assert_problem(nurse.post("/patients", {**patient, **bad}), 422, field)
    resp = nurse.post("/patients", patient)
    assert resp.status_code == 201, resp.get_json()
    made = resp.get_json()
    assert made["wristband"] == "SZ-GIMI/SUBJ-020" and made["site"] == "SZ-GIMI"
    assert made["eligible"] is False and "informed consent not recorded" in made["problems"]
    path = "/patients/SZ-GIMI/SUBJ-020"
    before = row_counts(demo_app)
    assert_problem(
        nurse.post(path + "/consent", {"consent_date": "2999-01-01"}), 422, "consent_date"
    )
    assert_problem(doctor.post(path + "/eligibility", {"pregnant": False}), 422, "pregnant")
    assert_problem(doctor.post(path + "/eligibility", {"pregnancy": "maybe"}), 422, "pregnancy")
    assert_problem(nurse.post(path + "/eligibility", cs.ALL_GOOD), 403)  # the physician's
    assert_problem(
        doctor.post(
            path + "/prescriptions", {"dose_per_kg": 1_000_000, "planned_on": "2026-12-01"}
        ),
        409,
        "patient",
    )
    assert row_counts(demo_app) == before
    assert nurse.post(path + "/consent", {"consent_date": "2026-01-05"}).status_code == 200
    partial = doctor.post(path + "/eligibility", {**cs.ALL_GOOD, "pregnancy": True}).get_json()
    assert partial["eligible"] is False
    assert partial["problems"] == ["exclusion applies: Pregnancy"]
    assert doctor.post(path + "/eligibility", cs.ALL_GOOD).get_json() == {
        "wristband": "SZ-GIMI/SUBJ-020",
        "eligible": True,
        "problems": [],
    }
    for bad, field in (
        ({"dose_per_kg": 2_000_000}, "dose_per_kg"),  # not the cohort's level
        ({"fixed_cells": 68_000_000}, "fixed_cells"),  # the cohort is per kg
        ({"cohort": "none"}, "cohort"),
        ({"dose_per_kg": "lots"}, "dose_per_kg"),
    ):
        body = {"planned_on": "2026-12-01", **bad}
        assert_problem(doctor.post(path + "/prescriptions", body), 422, field)
    assert_problem(nurse.post(path + "/prescriptions", {"planned_on": "2026-12-01"}), 403)
    before = row_counts(demo_app)
    rx = doctor.post(
        path + "/prescriptions", {"dose_per_kg": 1_000_000, "planned_on": "2026-12-01"}
    )
    assert rx.status_code == 201
    assert rx.get_json()["cells_needed"] == 68_000_000  # 1×10^6 cells/kg × 68 kg
    assert (rx.get_json()["cohort"], rx.get_json()["dose_basis"]) == ("1e6/kg", "per_kg")
    assert rx.get_json()["covered"] is False
    # The technician sees it waiting for units, and allocates one.
    queue = tech.get("/prescriptions").get_json()
    assert (queue["total"], queue["page"], queue["pages"]) == (1, 1, 1)
    waiting = queue["items"]
    assert [r["patient"] for r in waiting] == ["SZ-GIMI/SUBJ-020"]
    din, _ = cs.free_din(demo_app)
    assert_problem(
        tech.post(f"/prescriptions/{waiting[0]['id']}/allocations", {"units": ["A9999"]}),
        422,
        "units",
    )
    done = tech.post(f"/prescriptions/{waiting[0]['id']}/allocations", {"units": [din]})
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["covered"] is True
    # 68×10^6 of a 72×10^6 bag is −5.6 % off the whole bag: within ±10 %, given whole.
    assert done.get_json()["plan"]["draws"][0]["whole"] is True
    assert [a["din"] for a in done.get_json()["allocations"]] == [din]
    assert tech.get("/prescriptions").get_json()["items"] == []  # covered: off the work queue
    detail = nurse.get("/patients/sz-gimi/subj-020").get_json()
    assert detail["prescriptions"][0]["allocations"][0]["din"] == din
    assert_problem(
        nurse.post(f"/prescriptions/{waiting[0]['id']}/allocations", {"units": [din]}), 403
    )


def test_a_shipment_is_received_with_its_discrepancies(demo_app, nurse, tech) -> None:
    first, second = cs.free_din(demo_app, index=0)[0], cs.free_din(demo_app, index=1)[0]
    sent = tech.post("/shipments", {"site": "SZ-GIMI", "units": [first, second]})
    assert sent.status_code == 201, sent.get_json()
    number = sent.get_json()["number"]
    assert sent.get_json()["status"] == "in_transit"
    # A unit leaves the manufacturer once: sending it again conflicts with where it is (409).
    again = assert_problem(tech.post("/shipments", {"site": "BJ-CIP", "units": [first]}), 409)
    assert again["fields"] == {first: f"is in transit to SZ-GIMI ({number})"}
    receipt = {"received": [first], "condition": "intact", "temperature_record": "-160 °C"}
    before = row_counts(demo_app)
    assert_problem(
        nurse.post(f"/shipments/{number}/receive", {**receipt, "condition": ""}), 422, "condition"
    )
    assert row_counts(demo_app) == before
    got = nurse.post(f"/shipments/{number}/receive", receipt).get_json()
    assert got["status"] == "discrepancy" and got["discrepancy"] == f"missing: {second}"
    assert {u["din"]: u["received"] for u in got["units"]} == {first: True, second: False}
    assert_problem(nurse.post(f"/shipments/{number}/receive", receipt), 409, "shipment")


def record_event(client: Api, **overrides):
    body = {
        "patient": cs.READY,
        "term": "Infusion related reaction",
        "grade": 3,
        "onset_on": cs.today().isoformat(),
        "attribution": "probable",
        "seriousness": ["hospitalization"],
        "outcome": "recovered",
        "description": "rigors 20 minutes into the infusion",
    }
    return client.post("/adverse-events", {**body, **overrides})


def infuse(app, nurse: Api) -> None:
    din, check_char = cs.ready_din(app)
    cs.thaw(app, din)
    scan = nurse.post("/bedside/check", {"patient": cs.READY, "scan": din + check_char}).get_json()
    assert scan["go"], scan
    body = {
        "scan_id": scan["scan_id"],
        "started_at": cs.now().isoformat(),
        **cs.WITNESS,
        "volume_ml": "18.00",
    }
    assert nurse.post("/infusions", body).status_code == 201


def test_adverse_events_take_only_the_grades_ctcae_defines(demo_app, nurse, doctor) -> None:
    assert_problem(record_event(nurse), 403)  # attribution is the investigator's
    nurse = doctor
    before = row_counts(demo_app)
    body = assert_problem(record_event(nurse, term="Anaphylaxis", grade=1), 422, "grade")
    assert "3, 4, 5" in body["fields"]["grade"]
    assert_problem(record_event(nurse, term="Feeling blue"), 422, "term")
    assert_problem(record_event(nurse, attribution="maybe"), 422, "attribution")
    assert_problem(record_event(nurse, seriousness=["annoying"]), 422, "seriousness")
    assert_problem(record_event(nurse, grade=10**12), 422, "grade")
    assert_problem(record_event(nurse, patient="SZ-GIMI/SUBJ-999"), 422, "patient")
    assert row_counts(demo_app) == before
    serious = record_event(nurse)
    assert serious.status_code == 201, serious.get_json()
    event = serious.get_json()
    assert event["related"] is True and event["serious"] is True
    onset = cs.today()
    assert event["report_due_on"] == (onset + dt.timedelta(days=15)).isoformat()
    fatal = record_event(nurse, seriousness=["life_threatening"], grade=4).get_json()
    assert fatal["report_due_on"] == (onset + dt.timedelta(days=7)).isoformat()
    mild = record_event(nurse, grade=1, seriousness=[], attribution="unlikely").get_json()
    assert mild["serious"] is False and mild["report_due_on"] is None
    listed = {e["id"] for e in nurse.get("/adverse-events").get_json()["items"]}
    assert {event["id"], fatal["id"], mild["id"]} <= listed  # beside the demo's own fever


def test_the_primary_outcome_counts_related_events_as_json_and_csv(
    demo_app, nurse, doctor, qa
) -> None:
    empty = qa.get("/reports/primary-outcome").get_json()
    assert (empty["participants"], empty["with_related"]) == (0, 0)
    infuse(demo_app, nurse)
    assert record_event(doctor).status_code == 201
    report = qa.get("/reports/primary-outcome").get_json()
    assert (report["participants"], report["with_related"]) == (1, 1)
    assert report["by_worst_grade"] == [{"grade": 3, "participants": 1}]
    assert report["by_lot"] == [{"value": cs.DEMO_LOT, "participants": 1, "with_related": 1}]
    assert report["by_cohort"] == [{"value": "1e6/kg", "participants": 1, "with_related": 1}]
    assert report["secondary"]["not yet seen"] == 1
    assert report["secondary"]["reduced or stabilised"] == 0
    assert "possible, probable or definite" in report["rule"]
    resp = qa.get("/reports/primary-outcome?format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == ["group", "value", "participants infused", "with related adverse events"]
    assert ["all", "", "1", "1"] in rows and ["lot", cs.DEMO_LOT, "1", "1"] in rows
    assert_problem(qa.get("/reports/primary-outcome?format=pdf"), 422, "format")


def test_a_user_of_another_site_sees_none_of_this_site(demo_app, client, nurse, doctor) -> None:
    infuse(demo_app, nurse)
    assert record_event(doctor).status_code == 201
    number = nurse.get("/shipments").get_json()["items"][0]["number"]
    beijing = Api(client, cs.site_user(demo_app))
    # Beijing's own patients (the demo enrols one there) and none of Shenzhen's.
    assert {p["site"] for p in beijing.get("/patients").get_json()["items"]} <= {"BJ-CIP"}
    assert beijing.get("/shipments").get_json()["items"] == []
    assert beijing.get("/infusions").get_json()["items"] == []
    assert beijing.get("/adverse-events").get_json()["items"] == []
    assert_problem(beijing.get(f"/patients/{cs.READY}"), 404, "patient")
    assert_problem(
        beijing.post(f"/patients/{cs.READY}/consent", {"consent_date": "2026-01-01"}), 404
    )
    assert_problem(beijing.get(f"/shipments/{number}"), 404, "shipment")
    receipt = {"received": [], "condition": "x", "temperature_record": "y"}
    assert_problem(beijing.post(f"/shipments/{number}/receive", receipt), 404)
    assert_problem(record_event(beijing), 403)  # a nurse: attribution is the physician's
    bj_doctor = Api(client, cs.site_user(demo_app, "doctor-bj", role="investigator"))
    assert_problem(record_event(bj_doctor), 422, "patient")
    report = beijing.get("/reports/primary-outcome").get_json()
    assert (report["participants"], report["by_lot"]) == (0, [])
    rows = beijing.get("/reports/primary-outcome?format=csv").get_data(as_text=True).splitlines()
    assert rows[1:] == ["all,,0,0", "", "system organ class,worst grade,related events,event ids"]
    din, check_char = cs.ready_din(demo_app)
    scan = beijing.post("/bedside/check", {"patient": cs.READY, "scan": din + check_char})
    body = scan.get_json()
    assert body["go"] is False and body["patient"] is None
    assert any("wristband does not match" in r for r in body["reasons"])
    infusion = {"scan_id": 1, "started_at": cs.now().isoformat(), **cs.WITNESS, **cs.GIVEN_JSON}
    assert_problem(beijing.post("/infusions", infusion), 422, "scan_id")


def test_cohorts_and_enrolment_through_the_api(demo_app, as_user, qa, nurse) -> None:
    cohorts = qa.get("/cohorts").get_json()
    assert [(c["code"], c["dose_basis"], c["amount"]) for c in cohorts["items"]] == [
        ("100e6", "fixed", 100_000_000),
        ("1e6/kg", "per_kg", 1_000_000),
        ("2e6/kg", "per_kg", 2_000_000),
    ]
    md = as_user("md")
    assert_problem(nurse.post("/cohorts", {"code": "3e6/kg", "dose_basis": "per_kg"}), 403)
    assert_problem(md.post("/cohorts", {"code": "x", "dose_basis": "per_g", "amount": 1}), 422)
    assert_problem(
        md.post("/cohorts", {"code": "1e6/kg", "dose_basis": "per_kg", "amount": 1}), 409
    )
    made = md.post("/cohorts", {"code": "3e6/kg", "dose_basis": "per_kg", "amount": 3_000_000})
    assert made.status_code == 201, made.get_json()
    enrolled = qa.get("/reports/enrolment").get_json()
    # The demo: SZ-GIMI/SUBJ-001 consented; SUBJ-002 registered only.
    assert enrolled == {
        "target": 100,
        "enrolled": 1,
        "by_site": {"SZ-GIMI": 1},
        "by_cohort": {"1e6/kg": 1},
        "by_site_and_cohort": {"SZ-GIMI": {"1e6/kg": 1}},
        "by_age_band": {"18-64y": 1},
        "by_sex": {"female": 1},
    }
