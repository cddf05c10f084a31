"""Adverse events after their first report through /api/v1: a measured grade, the event's
history and clock, follow-ups to resolution (bad input is a 422 naming the field, nothing
written), the reports to the sponsor and the regulator, the overdue list, the dictionary search
and the grade a measurement gives; another site's event is a 404."""

from __future__ import annotations

import datetime as dt

import pytest

from lotrack.services.api_tokens import create_token
from tests import clinical_setup as cs
from tests.api.conftest import Api, assert_problem, row_counts
from tests.api.test_clinical_records_api import record_event
from tests.conftest import user


@pytest.fixture
def nurse(as_user) -> Api:
    """The site's investigator: who records and follows adverse events."""
    return as_user("doctor")


def test_an_event_is_followed_to_resolution_and_reported(demo_app, nurse, qa) -> None:
    today = cs.today()
    made = record_event(
        nurse,
        term="Neutrophil count decreased",
        grade=4,
        measurement="0.3",
        reference="1.8",
        seriousness=["life_threatening"],
        outcome="not_recovered",
        attribution="possible",
    )
    assert made.status_code == 201, made.get_json()
    event = made.get_json()
    assert (event["soc"], event["proposed_grade"], event["expected"]) == (
        "Investigations",
        4,
        False,
    )
    assert event["measurement"] == {"value": "0.3", "reference": "1.8", "hours": ""}
    path = f"/adverse-events/{event['id']}"
    history = nurse.get(path).get_json()
    assert history["clock"] == {
        "sponsor_due": (today + dt.timedelta(days=1)).isoformat(),
        "regulatory_due": (today + dt.timedelta(days=7)).isoformat(),
        "regulatory_days": 7,
    }
    before = row_counts(demo_app)
    for body, field in (
        ({"aware_on": today.isoformat(), "grade": 2}, "reason"),
        ({"aware_on": today.isoformat(), "grade": 7, "reason": "x"}, "grade"),
        ({"aware_on": today.isoformat(), "outcome": "recovered"}, "resolved_on"),
        ({"aware_on": "soon", "note": "x"}, "aware_on"),
        ({"aware_on": today.isoformat(), "colour": "red"}, "colour"),
    ):
        assert_problem(nurse.post(path + "/follow-ups", body), 422, field)
    assert_problem(nurse.post(path + "/reports", {"kind": "sponsor"}), 422, "reference")
    assert row_counts(demo_app) == before
    better = nurse.post(
        path + "/follow-ups",
        {
            "aware_on": today.isoformat(),
            "grade": 2,
            "reason": "ANC 1.2 after G-CSF",
            "treatment": "G-CSF",
            "seriousness": [],
        },
    )
    assert better.status_code == 201, better.get_json()
    resolved = nurse.post(
        path + "/follow-ups",
        {"aware_on": today.isoformat(), "outcome": "recovered", "resolved_on": today.isoformat()},
    ).get_json()
    assert resolved["current"] == {
        "grade": 2,
        "worst_grade": 4,
        "outcome": "recovered",
        "resolved_on": today.isoformat(),
        "attribution": "possible",
        "related": True,
        "serious": False,
        "seriousness": [],
        "closed": True,
    }
    assert [f["grade"] for f in resolved["follow_ups"]] == [2, None]
    assert resolved["event"]["grade"] == 4  # the first report stays as it was
    sponsor = {
        "kind": "sponsor",
        "reported_on": today.isoformat(),
        "reported_by": "Dr. Li",
        "recipient": "sponsor safety desk",
        "reference": "SAE-11",
    }
    assert nurse.post(path + "/reports", sponsor).status_code == 201
    regulatory = {
        **sponsor,
        "kind": "regulatory",
        "reported_by": "QA Wang",
        "recipient": "NMPA CDE",
        "reference": "CN-2026-0001",
    }
    done = qa.post(path + "/reports", regulatory).get_json()
    assert [r["reference"] for r in done["reports"]] == ["SAE-11", "CN-2026-0001"]
    assert done["overdue"] == []


def test_overdue_reports_are_paged_and_another_site_sees_none(demo_app, client, nurse) -> None:
    long_ago = (cs.today() - dt.timedelta(days=30)).isoformat()
    late = record_event(nurse, onset_on=long_ago, aware_on=long_ago).get_json()  # a SUSAR
    page = nurse.get("/adverse-events/overdue?per_page=1").get_json()
    assert (page["total"], page["per_page"], len(page["items"])) == (2, 1, 1)
    assert page["items"][0] == {
        "event": late["id"],
        "patient": cs.READY,
        "term": "Infusion related reaction",
        "kind": "sponsor",
        "due": (cs.today() - dt.timedelta(days=29)).isoformat(),
        "days_late": 29,
    }
    beijing = Api(client, cs.site_user(demo_app))
    assert beijing.get("/adverse-events/overdue").get_json()["items"] == []
    assert_problem(beijing.get(f"/adverse-events/{late['id']}"), 404)
    body = {"aware_on": cs.today().isoformat(), "note": "x"}
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        # BJ-CIP's investigator: may follow up events, not this one of SZ-GIMI's patient.
        beijing_doctor = Api(client, create_token(s, None, user(s, "doctor-cip")))
        s.commit()
    assert_problem(beijing_doctor.post(f"/adverse-events/{late['id']}/follow-ups", body), 404)


def test_the_dictionary_is_searched_and_a_measurement_graded(nurse) -> None:
    found = nurse.get("/ctcae/terms?q=bilirubin").get_json()
    assert [t["term"] for t in found["terms"]] == ["Blood bilirubin increased"]
    assert found["total"] >= 90 and "irccs-docker" in found["source"]
    soc = nurse.get("/ctcae/terms?soc=Immune+system+disorders").get_json()["terms"]
    assert "Immune system disorders - Other, specify" in [t["term"] for t in soc]
    fever = nurse.post("/ctcae/propose", {"term": "Fever", "measurement": "39.4"}).get_json()
    assert fever["grade"] == 2
    bili = {"term": "Blood bilirubin increased", "measurement": "70", "reference": "20"}
    assert nurse.post("/ctcae/propose", bili).get_json()["grade"] == 3  # 3.5 × ULN
    assert_problem(
        nurse.post("/ctcae/propose", {"term": "Fever", "measurement": "41"}), 422, "hours"
    )
    assert_problem(
        nurse.post("/ctcae/propose", {"term": "Nausea", "measurement": "1"}), 422, "measurement"
    )
