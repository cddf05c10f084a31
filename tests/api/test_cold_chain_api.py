"""The cold chain through /api/v1, on both databases: the logger file attached to a received
shipment (multipart), judged, kept with its SHA-256 and read back with its readings; an excursion
holds the units until QA's signed decision; an unreadable file is a 422 naming the line, with
nothing written; the roles and sites that may not are refused."""

from __future__ import annotations

import hashlib
import io

from flask import Flask
from sqlalchemy import select

from lotrack.db import utcnow
from lotrack.models import Shipment
from tests import clinical_setup as cs
from tests.api.conftest import Api, assert_problem, row_counts
from tests.services.test_cold_chain import logger_csv, send

SIGN = {"username": "qa", "password": "demo-qa-password"}


def received(app: Flask, nurse: Api) -> str:
    din, _ = cs.free_din(app)
    number = send(app, [din])
    got = nurse.post(
        f"/shipments/{number}/receive",
        {"received": [din], "condition": "intact", "temperature_record": "see the file"},
    )
    assert got.status_code == 200, got.get_json()
    return number


def attach(api: Api, number: str, data: bytes, mapping: str = "generic"):
    return api.post(
        f"/shipments/{number}/logger",
        data={"logger_file": (io.BytesIO(data), "ds07.csv"), "mapping": mapping},
        content_type="multipart/form-data",
    )


def shipped_at(app: Flask, number: str):
    with cs.db(app) as s:
        return s.scalar(select(Shipment.shipped_at).where(Shipment.number == number))


def test_an_excursion_file_holds_the_units_until_qa_releases_them(demo_app, as_user) -> None:
    nurse, qa = as_user("nurse"), as_user("qa")
    number = received(demo_app, nurse)
    start = shipped_at(demo_app, number)
    data = logger_csv(start, utcnow(), warm_at=start + (utcnow() - start) / 2)
    made = attach(nurse, number, data)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["excursion"] and body["held"] and body["decision"] is None
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert [p["kind"] for p in body["problems"]] == ["above"]
    assert body["readings"][0]["celsius"] == "-180.0" and body["max_c"] == "-135"
    assert nurse.get(f"/shipments/{number}/logger").get_json() == body
    refused = nurse.post(f"/shipments/{number}/excursion", {**SIGN, "outcome": "released"})
    assert refused.status_code == 403
    released = qa.post(
        f"/shipments/{number}/excursion",
        {**SIGN, "outcome": "released", "meaning": "released for use", "reason": "stability ok"},
    )
    assert released.status_code == 200, released.get_json()
    after = released.get_json()
    assert (after["held"], after["decision"]) == (False, "released")
    assert [(s["meaning"], s["signer"]) for s in after["signatures"]] == [
        ("released for use", "qa")
    ]


def test_a_clean_file_holds_nothing(demo_app, as_user) -> None:
    nurse = as_user("nurse")
    number = received(demo_app, nurse)
    made = attach(nurse, number, logger_csv(shipped_at(demo_app, number), utcnow()))
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["excursion"], made.get_json()["held"]) == (False, False)
    again = attach(nurse, number, logger_csv(shipped_at(demo_app, number), utcnow()))
    assert_problem(again, 409, "logger_file")


def test_an_unreadable_file_is_a_422_naming_the_line_and_nothing_is_written(
    demo_app: Flask, as_user
) -> None:
    nurse: Api = as_user("nurse")
    number = received(demo_app, nurse)
    before = row_counts(demo_app)
    bad = b"timestamp,temperature\n2026-12-01T00:00:00Z,-180\n2026-12-01 noon,-180\n"
    refused = assert_problem(attach(nurse, number, bad), 422, "logger_file")
    assert refused["fields"]["logger_file"].startswith("line 3: the time 2026-12-01 noon")
    assert_problem(attach(nurse, number, b"a,b\n1,2\n"), 422, "logger_file")
    assert_problem(attach(nurse, number, b"timestamp,temperature\n", "nope"), 422, "mapping")
    missing = nurse.post(f"/shipments/{number}/logger", data={}, content_type="multipart/form-data")
    assert_problem(missing, 422, "logger_file")
    assert row_counts(demo_app) == before
    assert nurse.get(f"/shipments/{number}/logger").status_code == 404


def test_only_the_receiving_site_attaches_and_only_qa_decides(demo_app, as_user) -> None:
    nurse = as_user("nurse")
    number = received(demo_app, nurse)
    data = logger_csv(shipped_at(demo_app, number), utcnow())
    assert attach(as_user("qa"), number, data).status_code == 403
    assert attach(as_user("tech"), number, data).status_code == 403
    other = Api(nurse.client, cs.site_user(demo_app))
    assert attach(other, number, data).status_code == 404
    no_excursion = as_user("qa").post(
        f"/shipments/{number}/excursion",
        {**SIGN, "outcome": "released", "meaning": "released for use", "reason": "x"},
    )
    assert_problem(no_excursion, 409, "shipment")
