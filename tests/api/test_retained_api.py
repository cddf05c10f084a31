"""Retained samples through /api/v1: laid down for a lot and a bank, withdrawn for a retest
(naming the result) and an investigation (naming the OOS record), what is left answered with
each sample; more than is left refused naming `quantity` with nothing written; a role that may
not lay down or withdraw is refused (403)."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from tests.api.conftest import Api, assert_problem, row_counts

DAY = str(dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))
OOS_LOT = "CFM-2025-0003"


def lay(tech: Api, **over: object):
    body = {
        "lot": OOS_LOT,
        "sample_type": "cells",
        "container": "cryovial",
        "quantity": "3",
        "unit": "vial",
        "freezer": "LN2-RET",
        "rack": "R2",
        "box": "B1",
        "position": "C4",
        "laid_down_on": DAY,
        **over,
    }
    return tech.post("/retained-samples", body)


def viab_id(qa: Api) -> int:
    results = qa.get(f"/lots/{OOS_LOT}/results").get_json()
    rows = results["items"] if isinstance(results, dict) else results
    return next(r["id"] for r in rows if r["test"] == "VIAB")


def oos_number(qa: Api) -> str:
    rows = qa.get("/investigations?status=open").get_json()["items"]
    return next(r["number"] for r in rows if r["lot"] == OOS_LOT)


def test_samples_of_a_lot_and_a_bank_are_withdrawn_for_a_retest_and_an_investigation(
    tech: Api, qa: Api
) -> None:
    made = lay(tech)
    assert made.status_code == 201, made.get_json()
    sample = made.get_json()
    assert (sample["lot"], sample["bank"], sample["remaining"]) == (OOS_LOT, None, "3")
    assert sample["retain_until"] and sample["laid_down_by"] == "tech"
    bank = lay(tech, lot=None, bank="MCB-001", quantity="1.5", unit="mL", container="tube")
    assert bank.status_code == 201, bank.get_json()
    assert (bank.get_json()["bank"], bank.get_json()["retain_until"]) == ("MCB-001", None)
    number = sample["number"]
    retest = tech.post(
        f"/retained-samples/{number}/withdrawals",
        {"quantity": "1", "reason": "retest", "result": viab_id(qa)},
    )
    assert retest.status_code == 201, retest.get_json()
    assert retest.get_json()["result"] == viab_id(qa)
    inv = qa.post(
        f"/retained-samples/{number}/withdrawals",
        {"quantity": "1", "reason": "investigation", "investigation": oos_number(qa)},
    )
    assert inv.status_code == 201, inv.get_json()
    now = qa.get(f"/retained-samples/{number}").get_json()
    assert now["remaining"] == "1" and now["quantity"] == "3"
    assert [(w["reason"], w["withdrawn_by"]) for w in now["withdrawals"]] == [
        ("retest", "tech"),
        ("investigation", "qa"),
    ]
    assert now["withdrawals"][1]["investigation"] == oos_number(qa)
    listed = qa.get(f"/retained-samples?lot={OOS_LOT}").get_json()
    assert [s["number"] for s in listed["items"]] == [number]


def test_more_than_is_left_is_refused_naming_the_quantity_and_nothing_is_written(
    demo_app: Flask, tech: Api, qa: Api
) -> None:
    number = lay(tech, quantity="2").get_json()["number"]
    before = row_counts(demo_app)
    refused = tech.post(
        f"/retained-samples/{number}/withdrawals",
        {"quantity": "3", "reason": "retest", "result": viab_id(qa)},
    )
    problem = assert_problem(refused, 422, "quantity")
    assert "2 vial left" in problem["fields"]["quantity"]
    assert row_counts(demo_app) == before


def test_a_bad_lot_or_link_is_a_bad_field_and_writes_nothing(demo_app: Flask, tech: Api) -> None:
    before = row_counts(demo_app)
    assert_problem(lay(tech, lot="CFM-1999-0001"), 422, "lot")
    assert_problem(lay(tech, bank="MCB-001"), 422, "lot")  # both named
    assert_problem(lay(tech, quantity="0.5"), 422, "quantity")
    assert row_counts(demo_app) == before
    number = lay(tech).get_json()["number"]
    before = row_counts(demo_app)
    missing = tech.post(
        f"/retained-samples/{number}/withdrawals", {"quantity": "1", "reason": "retest"}
    )
    assert_problem(missing, 422, "result")
    assert_problem(tech.get("/retained-samples/RS-1999-999"), 404)
    assert row_counts(demo_app) == before


def test_roles_that_may_not_are_refused(as_user) -> None:
    tech = as_user("tech")
    assert_problem(lay(as_user("qa")), 403)
    assert_problem(lay(as_user("nurse")), 403)
    number = lay(tech).get_json()["number"]
    body = {"quantity": "1", "reason": "other", "note": "training"}
    assert_problem(as_user("nurse").post(f"/retained-samples/{number}/withdrawals", body), 403)
    assert_problem(as_user("admin").post(f"/retained-samples/{number}/withdrawals", body), 403)
    assert as_user("nurse").get("/retained-samples").status_code == 403
    assert as_user("admin").get("/retained-samples").status_code == 200
