"""Every bad input gets a 4xx JSON problem naming the field, and writes nothing: no row in any
table, no audit event. Never a 500, whatever the body."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_problem, row_counts

DONOR = {"code": "FD-0200", "consent_date": "2025-01-06"}
CLONE = {"code": "CL-0200", "donor": "FD-0001", "derived_on": "2025-05-01"}
MCB = {
    "code": "MCB-200",
    "tier": "MCB",
    "parent": "CL-0001",
    "passage_at_banking": 3,
    "pdl_at_banking": "12.50",
    "banked_on": "2025-06-01",
}
WCB = {**MCB, "code": "WCB-200", "tier": "WCB", "parent": "MCB-001", "passage_at_banking": 5}
VIALS = {"freezer": "LN2-7", "rack": "Q", "box": "1", "positions": ["A1", "A2"]}
RUN = {"code": "RUN-200", "bank": "WCB-001-A", "vials": [3], "started_on": "2025-11-01"}
PASSAGE = {
    "seeded_on": "2025-12-01",
    "harvested_on": "2025-12-07",
    "cells_seeded": 2_000_000,
    "cells_harvested": 14_000_000,
    "viability_percent": "95.0",
}
LOT = {"run": "RUN-2025-01", "harvested_on": "2025-12-01", "expires_on": "2026-12-01"}
FILL = {"container": "bag", "count": 2, "cells_per_unit": 72_000_000, "volume_ml": "18.00"}
SCREEN = {"marker": "CMV", "method": "NAT", "result": "non-reactive", "tested_on": "2025-03-12"}
PASSAGES = "/runs/RUN-2025-01/passages"
UNITS = "/lots/CFM-2025-0001/units"


def without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


# (path, body, status, field naming the reason)
CASES = {
    "missing consent date": ("/donors", without(DONOR, "consent_date"), 422, "consent_date"),
    "missing donor of clone": ("/clones", without(CLONE, "donor"), 422, "donor"),
    "missing harvested count": (
        PASSAGES,
        without(PASSAGE, "cells_harvested"),
        422,
        "cells_harvested",
    ),
    "missing positions": ("/banks/MCB-001/vials", without(VIALS, "positions"), 422, "positions"),
    "blank code": ("/donors", {**DONOR, "code": "  "}, 422, "code"),
    "code not text": ("/donors", {**DONOR, "code": 123}, 422, "code"),
    "bad code characters": ("/donors", {**DONOR, "code": "FD 0200!"}, 422, "code"),
    "date not a date": ("/donors", {**DONOR, "consent_date": "2025-13-01"}, 422, "consent_date"),
    "consent in the future": (
        "/donors",
        {**DONOR, "consent_date": "2999-01-01"},
        422,
        "consent_date",
    ),
    "passage not a number": (
        "/banks",
        {**MCB, "passage_at_banking": "three"},
        422,
        "passage_at_banking",
    ),
    "pdl not a number": ("/banks", {**MCB, "pdl_at_banking": "high"}, 422, "pdl_at_banking"),
    "pdl infinite": ("/banks", {**MCB, "pdl_at_banking": "Infinity"}, 422, "pdl_at_banking"),
    "tier unknown": ("/banks", {**MCB, "tier": "XCB"}, 422, "tier"),
    "cells not whole": (PASSAGES, {**PASSAGE, "cells_seeded": 1.5}, 422, "cells_seeded"),
    "cells a boolean": (PASSAGES, {**PASSAGE, "cells_seeded": True}, 422, "cells_seeded"),
    "vials not numbers": ("/runs", {**RUN, "vials": ["x"]}, 422, "vials"),
    "marker unknown": ("/donors/FD-0001/screening", {**SCREEN, "marker": "HIV-3"}, 422, "marker"),
    "unknown donor of clone": ("/clones", {**CLONE, "donor": "FD-9999"}, 422, "donor"),
    "unknown clone of MCB": ("/banks", {**MCB, "parent": "CL-9999"}, 422, "parent"),
    "unknown MCB of WCB": ("/banks", {**WCB, "parent": "MCB-999"}, 422, "parent"),
    "WCB as parent of WCB": ("/banks", {**WCB, "parent": "WCB-001-A"}, 422, "parent"),
    "unknown bank of run": ("/runs", {**RUN, "bank": "WCB-999"}, 422, "bank"),
    "run from an MCB": ("/runs", {**RUN, "bank": "MCB-001"}, 422, "bank"),
    "unknown vial of run": ("/runs", {**RUN, "vials": [99]}, 422, "vials"),
    "unknown run of lot": ("/lots", {**LOT, "run": "RUN-9999"}, 422, "run"),
    "harvested count of zero": (
        PASSAGES,
        {**PASSAGE, "cells_harvested": 0},
        422,
        "cells_harvested",
    ),
    "harvest before seeding": (
        PASSAGES,
        {**PASSAGE, "harvested_on": "2025-11-30"},
        422,
        "harvested_on",
    ),
    "viability over 100": (
        PASSAGES,
        {**PASSAGE, "viability_percent": "100.5"},
        422,
        "viability_percent",
    ),
    "expiry before harvest": ("/lots", {**LOT, "expires_on": "2025-11-01"}, 422, "expires_on"),
    "fill count of zero": (UNITS, {**FILL, "count": 0}, 422, "count"),
    "fill into a box": (UNITS, {**FILL, "container": "box"}, 422, "container"),
    "withdrawn vial withdrawn again": (
        "/banks/WCB-001-A/vials/1/withdraw",
        {"purpose": "QC"},
        409,
        "vial",
    ),
    "run from a withdrawn vial": ("/runs", {**RUN, "vials": [2]}, 409, "vials"),
    "occupied position": (
        "/banks/MCB-001/vials",
        {"freezer": "LN2-1", "rack": "A", "box": "1", "positions": ["A2"]},
        409,
        "positions",
    ),
    "duplicate donor code": ("/donors", {**DONOR, "code": "FD-0001"}, 409, "code"),
    "duplicate donor code, lower case": ("/donors", {**DONOR, "code": "fd-0001"}, 409, "code"),
    "duplicate clone code": ("/clones", {**CLONE, "code": "CL-0001"}, 409, "code"),
    "duplicate bank code": ("/banks", {**MCB, "code": "MCB-001"}, 409, "code"),
    "duplicate run code": ("/runs", {**RUN, "code": "RUN-2025-01"}, 409, "code"),
    "duplicate lot number": ("/lots", {**LOT, "lot_number": "CFM-2025-0001"}, 409, "lot_number"),
    "unknown field (a name)": ("/donors", {**DONOR, "name": "Jane Doe"}, 422, "name"),
    "unknown field on fill": (UNITS, {**FILL, "colour": "red"}, 422, "colour"),
    "unknown donor in path": ("/donors/FD-9999/screening", SCREEN, 404, "donor"),
    "unknown run in path": ("/runs/RUN-9999/passages", PASSAGE, 404, "run"),
    "unknown lot in path": ("/lots/CFM-9999-0001/units", FILL, 404, "lot"),
    "unknown vial in path": ("/banks/WCB-001-A/vials/99/withdraw", {"purpose": "QC"}, 404, "vial"),
    "huge cells": (PASSAGES, {**PASSAGE, "cells_harvested": 10**30}, 422, "cells_harvested"),
    "huge passage": ("/banks", {**MCB, "passage_at_banking": 10**12}, 422, "passage_at_banking"),
    "huge pdl": ("/banks", {**MCB, "pdl_at_banking": "123456789.5"}, 422, "pdl_at_banking"),
    "huge float pdl": ("/banks", {**MCB, "pdl_at_banking": 1e300}, 422, "pdl_at_banking"),
    "huge volume": (UNITS, {**FILL, "volume_ml": 10**9}, 422, "volume_ml"),
    "huge fill count": (UNITS, {**FILL, "count": 10**30}, 422, "count"),
    "huge cells per unit": (UNITS, {**FILL, "cells_per_unit": 10**19}, 422, "cells_per_unit"),
    "huge vial number": ("/runs", {**RUN, "vials": [10**20]}, 422, "vials"),
    "NUL in text": ("/donors/FD-0001/screening", {**SCREEN, "method": "NAT\x00"}, 422, "method"),
    "NUL in a position": (
        "/banks/MCB-001/vials",
        {**VIALS, "positions": ["B\x00"]},
        422,
        "positions",
    ),
    "body is a list": ("/donors", [DONOR], 422, "body"),
    "body is a string": ("/donors", "FD-0200", 422, "body"),
    "body is null": ("/donors", None, 422, "body"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(demo_app, tech, case) -> None:
    path, body, status, field = CASES[case]
    before = row_counts(demo_app)
    if body is None:
        resp = tech.post(path, data="null", content_type="application/json")
    else:
        resp = tech.post(path, body)
    assert_problem(resp, status, field)
    assert row_counts(demo_app) == before


RAW_BODIES = {
    "malformed JSON": ('{"code": "FD-0200", ', "application/json", 400, "body"),
    "not UTF-8": (b'{"code": "\xff\xfe"}', "application/json", 400, "body"),
    "integer of 5000 digits": (
        '{"code": "FD-0200", "consent_date": ' + "9" * 5000 + "}",
        "application/json",
        400,
        "body",
    ),
    "nested too deep": ("[" * 100_000 + "]" * 100_000, "application/json", 400, "body"),
    "empty JSON body": ("", "application/json", 422, "code"),
    "form instead of JSON": (
        "code=FD-0200&consent_date=2025-01-06",
        "application/x-www-form-urlencoded",
        422,
        "code",
    ),
    "NaN literal": (
        '{"code": "FD-0200", "consent_date": NaN}',
        "application/json",
        422,
        "consent_date",
    ),
}


@pytest.mark.parametrize("case", list(RAW_BODIES))
def test_bodies_that_are_not_a_json_object_are_refused_and_write_nothing(
    demo_app, tech, case
) -> None:
    data, content_type, status, field = RAW_BODIES[case]
    before = row_counts(demo_app)
    resp = tech.post("/donors", data=data, content_type=content_type)
    assert_problem(resp, status, field)
    assert row_counts(demo_app) == before


BAD_READS = {
    "unknown donor": ("/donors/FD-9999", 404, "donor"),
    "unknown clone": ("/clones/CL-9999", 404, "clone"),
    "unknown bank": ("/banks/XCB-1", 404, "bank"),
    "unknown run": ("/runs/RUN-1999-01", 404, "run"),
    "unknown lot": ("/lots/CFM-1999-0001", 404, "lot"),
    "not a DIN": ("/units/NOT-A-DIN", 404, "din"),
    "DIN with a wrong check character": ("/units/A99992500000 1Z", 404, "din"),
    "lot state unknown": ("/lots?state=LOST", 422, "state"),
    "page of zero": ("/lots?page=0", 422, "page"),
    "page huge": ("/donors?page=" + "9" * 30, 422, "page"),
    "per_page huge": ("/banks?per_page=100000", 422, "per_page"),
    "page not a number": ("/runs?page=two", 422, "page"),
    "trace back without a lot": ("/trace/back", 422, "lot"),
    "trace back, unknown lot": ("/trace/back?lot=CFM-1999-0001", 404, "lot"),
    "trace forward without a bank": ("/trace/forward", 422, "bank"),
    "trace forward, unknown bank": ("/trace/forward?bank=NOPE", 404, "bank"),
    "NUL in the query": ("/trace/back?lot=CFM%00", 422, "lot"),
    "NUL in the path": ("/donors/FD%000001", 404, "path"),
}


@pytest.mark.parametrize("case", list(BAD_READS))
def test_bad_reads_answer_a_json_problem(tech, case) -> None:
    path, status, field = BAD_READS[case]
    assert_problem(tech.get(path), status, field)


def test_no_route_and_wrong_method_answer_json_too(tech) -> None:
    assert_problem(tech.get("/nothing-here"), 404)
    assert_problem(tech.client.delete("/api/v1/donors/FD-0001", headers=tech.headers), 405)
    huge = "/banks/WCB-001-A/vials/" + "9" * 30 + "/withdraw"
    assert_problem(tech.post(huge, {"purpose": "QC"}), 404)


DETERMINATION = {"determination": "eligible", "responsible_person": "Dr. X", "reason": "reviewed"}
DETERMINATIONS = {
    "unknown determination": ({**DETERMINATION, "determination": "maybe"}, 422, "determination"),
    "no responsible person": (
        without(DETERMINATION, "responsible_person"),
        422,
        "responsible_person",
    ),
    "no reason": (without(DETERMINATION, "reason"), 422, "reason"),
    "eligible without screening": (DETERMINATION, 422, "determination"),
}


@pytest.mark.parametrize("case", list(DETERMINATIONS))
def test_a_determination_qa_cannot_make_is_refused_and_writes_nothing(demo_app, tech, qa, case):
    assert tech.post("/donors", DONOR).status_code == 201  # a donor with no screening yet
    body, status, field = DETERMINATIONS[case]
    before = row_counts(demo_app)
    assert_problem(qa.post("/donors/FD-0200/determination", body), status, field)
    assert row_counts(demo_app) == before
    assert tech.get("/donors/FD-0200").get_json()["determination"] == "incomplete"
