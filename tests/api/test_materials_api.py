"""Materials and instruments through /api/v1: a lot is received with its certificate (SHA-256),
inspected under a signature, and refused at the moment of use while unapproved or expired; a
result on an instrument out of calibration is refused; a serum recall answers every product lot
it reached. Each refusal names its field and writes nothing."""

from __future__ import annotations

import hashlib
import io

from flask import Flask

from tests.api.conftest import Api, assert_problem, row_counts

COA = b"%PDF-1.4 supplier certificate of analysis"
SIGN = {"username": "qa", "password": "demo-qa-password"}


def receive(tech: Api, **over: object):
    form = {
        "material": "FBS-01",
        "supplier_lot": "AE-NEW-1",
        "received_on": "2025-07-01",
        "expires_on": "2026-12-31",
        "certificate": (io.BytesIO(COA), "coa.pdf"),
        **over,
    }
    return tech.post("/material-lots", data=form, content_type="multipart/form-data")


def test_a_lot_is_received_with_its_certificate_and_approved_under_a_signature(
    tech: Api, qa: Api
) -> None:
    made = receive(tech)
    assert made.status_code == 201, made.get_json()
    lot = made.get_json()
    assert (lot["state"], lot["certificate_sha256"]) == (
        "quarantine",
        hashlib.sha256(COA).hexdigest(),
    )
    signed = qa.post(
        f"/material-lots/{lot['number']}/inspection",
        {**SIGN, "meaning": "approved for use", "decision": "approved", "reason": "CoA ok"},
    )
    assert signed.status_code == 200, signed.get_json()
    body = signed.get_json()
    assert body["state"] == "approved"
    assert [(s["meaning"], s["signer"]) for s in body["signatures"]] == [("approved for use", "qa")]


def test_a_lot_without_its_certificate_is_refused_by_field_and_nothing_is_written(
    demo_app: Flask, tech: Api
) -> None:
    before = row_counts(demo_app)
    form = {"material": "FBS-01", "supplier_lot": "X", "received_on": "2025-07-01"}
    refused = tech.post(
        "/material-lots",
        data={**form, "expires_on": "2026-01-01"},
        content_type="multipart/form-data",
    )
    assert "certificate" in assert_problem(refused, 422)["fields"]
    late = receive(tech, expires_on="2025-06-30")
    assert "expires_on" in assert_problem(late, 422)["fields"]
    future = receive(tech, received_on="2099-01-01", expires_on="2099-12-31")
    assert "received_on" in assert_problem(future, 422)["fields"]
    assert row_counts(demo_app) == before


def test_the_inspection_meaning_must_be_the_decisions(tech: Api, qa: Api) -> None:
    number = receive(tech).get_json()["number"]
    wrong = qa.post(
        f"/material-lots/{number}/inspection",
        {**SIGN, "meaning": "approved for use", "decision": "rejected"},
    )
    assert "must be 'rejected'" in assert_problem(wrong, 422, "meaning")["fields"]["meaning"]


def test_a_run_using_a_quarantined_material_lot_is_refused_and_nothing_is_written(
    demo_app: Flask, tech: Api
) -> None:
    number = receive(tech).get_json()["number"]
    before = row_counts(demo_app)
    run = {"code": "RUN-M-1", "bank": "WCB-001-A", "vials": [5], "started_on": "2025-09-01"}
    refused = tech.post("/runs", {**run, "material_lots": [number]})
    problem = assert_problem(refused, 409, "material_lots")
    assert problem["message"] == f"Material lot {number} is quarantine, not approved for use."
    assert row_counts(demo_app) == before
    unknown = tech.post("/runs", {**run, "material_lots": ["MAT-1999-001"]})
    assert "no material lot MAT-1999-001" in assert_problem(unknown, 422)["fields"]["material_lots"]
    done = tech.post("/runs", {**run, "material_lots": ["MAT-2025-001", "MAT-2025-003"]})
    assert done.status_code == 201, done.get_json()
    uses = tech.get("/runs/RUN-M-1/material-uses").get_json()
    assert [(u["material_lot"], u["used_on"]) for u in uses] == [
        ("MAT-2025-001", "2025-09-01"),
        ("MAT-2025-003", "2025-09-01"),
    ]


def test_a_passage_after_its_serum_expired_is_refused(demo_app: Flask, tech: Api, qa: Api) -> None:
    number = receive(tech, expires_on="2025-09-21").get_json()["number"]
    qa.post(
        f"/material-lots/{number}/inspection",
        {**SIGN, "meaning": "approved for use", "decision": "approved"},
    )
    passage = {
        "seeded_on": "2025-09-22",
        "harvested_on": "2025-09-28",
        "cells_seeded": 2000000,
        "cells_harvested": 14000000,
        "viability_percent": "94.0",
        "material_lots": number,
    }
    before = row_counts(demo_app)
    refused = tech.post("/runs/RUN-2025-02/passages", passage)
    problem = assert_problem(refused, 409, "material_lots")
    assert "expired on 2025-09-21, before its use on 2025-09-22" in problem["message"]
    assert row_counts(demo_app) == before


def test_a_result_on_an_instrument_out_of_calibration_is_refused(
    demo_app: Flask, tech: Api
) -> None:
    assert tech.post("/instruments", {"code": "QPCR-01", "name": "qPCR"}).status_code == 201
    kept = tech.post(
        "/instruments/QPCR-01/events",
        {
            "kind": "calibration",
            "performed_on": "2025-01-10",
            "due_on": "2025-06-30",
            "passed": True,
        },
    )
    assert kept.status_code == 201, kept.get_json()
    before = row_counts(demo_app)
    result = {"test": "CD73", "value": "99.1", "unit": "%", "performed_on": "2025-11-20"}
    refused = tech.post("/lots/CFM-2025-0004/results", {**result, "instrument": "qpcr-01"})
    problem = assert_problem(refused, 409, "instrument")
    assert problem["message"] == (
        "Instrument QPCR-01 was out of calibration on 2025-11-20: its calibration was due on"
        " 2025-06-30."
    )
    assert row_counts(demo_app) == before
    # free text naming no registered instrument is kept as entered, as before
    free = tech.post("/lots/CFM-2025-0004/results", {**result, "instrument": "old reader"})
    assert free.status_code == 201, free.get_json()


def test_bad_instrument_records_are_refused_by_field(tech: Api) -> None:
    event = {"kind": "calibration", "performed_on": "2025-01-10", "due_on": "2025-01-09"}
    refused = tech.post("/instruments/FCM-01/events", {**event, "passed": True})
    assert "due_on" in assert_problem(refused, 422)["fields"]
    assert "passed" in assert_problem(tech.post("/instruments/FCM-01/events", event), 422)["fields"]
    assert (
        "kind"
        in assert_problem(
            tech.post("/instruments/FCM-01/events", {**event, "kind": "x", "passed": True}), 422
        )["fields"]
    )


def test_a_serum_recall_answers_every_product_lot_it_reached(qa: Api) -> None:
    body = {**SIGN, "meaning": "recalled", "reason": "supplier recall notice"}
    recalled = qa.post("/material-lots/MAT-2025-003/recall", body)
    assert recalled.status_code == 201, recalled.get_json()
    record = recalled.get_json()
    assert record["material_lot"] == "MAT-2025-003" and record["kind"] == "recall"
    assert [x["lot"] for x in record["lots"]] == [
        "CFM-2025-0001",
        "CFM-2025-0002",
        "CFM-2025-0003",
        "CFM-2025-0004",
    ]
    assert record["units"]
    again = qa.post("/material-lots/MAT-2025-003/recall", body)
    assert_problem(again, 409, "state")
    shown = qa.get("/material-lots/MAT-2025-003").get_json()
    assert shown["state"] == "recalled" and len(shown["lots_reached"]) == 4
