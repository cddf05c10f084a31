"""An integrator builds a whole chain through the API, then traces the lot back and the bank
forward; every record is attributed in the audit trail and the chain still verifies."""

from __future__ import annotations

from sqlalchemy import select

from lotrack.domain.donor import MARKERS
from lotrack.domain.isbt128 import check_character
from lotrack.models import AuditEvent
from lotrack.services import audit
from tests.api.conftest import row_counts


def build_chain(tech, qa) -> dict:
    made: dict = {}
    r = tech.post("/donors", {"code": "fd-0100", "consent_date": "2025-01-06"})
    assert r.status_code == 201, r.get_json()
    made["donor"] = r.get_json()
    for marker in MARKERS:
        r = tech.post(
            "/donors/FD-0100/screening",
            {
                "marker": marker,
                "method": "NAT",
                "result": "non-reactive",
                "tested_on": "2025-01-08",
            },
        )
        assert r.status_code == 201, r.get_json()
    r = qa.post(
        "/donors/FD-0100/determination",
        {
            "determination": "eligible",
            "responsible_person": "Dr. Medical Director",
            "reason": "all screening non-reactive",
        },
    )
    assert r.status_code == 200, r.get_json()
    made["determined"] = r.get_json()
    r = tech.post("/clones", {"code": "CL-0100", "donor": "FD-0100", "derived_on": "2025-01-20"})
    assert r.status_code == 201, r.get_json()
    made["clone"] = r.get_json()
    mcb = {
        "code": "MCB-100",
        "tier": "MCB",
        "parent": "CL-0100",
        "passage_at_banking": 3,
        "pdl_at_banking": "12.25",
        "banked_on": "2025-02-01",
    }
    r = tech.post("/banks", mcb)
    assert r.status_code == 201, r.get_json()
    made["mcb"] = r.get_json()
    r = tech.post(
        "/banks/MCB-100/vials", {"freezer": "LN2-9", "rack": "Z", "box": "1", "positions": ["A1"]}
    )
    assert r.status_code == 201, r.get_json()
    wcb = {**mcb, "code": "WCB-100-A", "tier": "WCB", "parent": "MCB-100"}
    wcb.update(passage_at_banking=5, pdl_at_banking=18.5, banked_on="2025-03-01")
    r = tech.post("/banks", wcb)
    assert r.status_code == 201, r.get_json()
    made["wcb"] = r.get_json()
    r = tech.post(
        "/banks/WCB-100-A/vials",
        {"freezer": "LN2-9", "rack": "Z", "box": "2", "positions": ["A1", "A2", "A3"]},
    )
    assert r.status_code == 201, r.get_json()
    made["vials"] = r.get_json()
    r = tech.post(
        "/runs",
        {"code": "RUN-100", "bank": "WCB-100-A", "vials": [1, 2], "started_on": "2025-03-10"},
    )
    assert r.status_code == 201, r.get_json()
    made["run"] = r.get_json()
    made["passages"] = []
    for seeded, harvested, cells in (
        ("2025-03-10", "2025-03-16", 16_000_000),
        ("2025-03-17", "2025-03-23", 8_000_000),
    ):
        r = tech.post(
            "/runs/RUN-100/passages",
            {
                "seeded_on": seeded,
                "harvested_on": harvested,
                "cells_seeded": 2_000_000,
                "cells_harvested": cells,
                "viability_percent": "93.5",
            },
        )
        assert r.status_code == 201, r.get_json()
        made["passages"].append(r.get_json())
    r = tech.post(
        "/lots", {"run": "RUN-100", "harvested_on": "2025-03-24", "expires_on": "2026-03-24"}
    )
    assert r.status_code == 201, r.get_json()
    made["lot"] = r.get_json()
    lot = made["lot"]["lot_number"]
    r = tech.post(
        f"/lots/{lot}/units",
        {"container": "bag", "count": 3, "cells_per_unit": 72_000_000, "volume_ml": "18.00"},
    )
    assert r.status_code == 201, r.get_json()
    made["units"] = r.get_json()
    return made


def test_a_full_chain_built_through_the_api_traces_back_to_its_donor(demo_app, tech, qa) -> None:
    before = row_counts(demo_app)
    made = build_chain(tech, qa)

    assert made["donor"]["code"] == "FD-0100"  # codes are stored upper-case
    assert made["donor"]["determination"] == "incomplete"
    assert made["determined"]["determination"] == "eligible"
    assert made["determined"]["determined_by"] == "Dr. Medical Director"
    assert len(made["determined"]["screening"]) == len(MARKERS)
    assert made["mcb"]["parent"] == "CL-0100" and made["mcb"]["pdl_at_banking"] == "12.25"
    assert made["wcb"]["parent"] == "MCB-100" and made["wcb"]["pdl_at_banking"] == "18.50"
    assert [v["label"] for v in made["vials"]["vials"]] == [f"WCB-100-A-V00{i}" for i in (1, 2, 3)]
    assert made["run"]["vials"] == ["WCB-100-A-V001", "WCB-100-A-V002"]
    # Doublings log2(16e6/2e6) = 3 then log2(8e6/2e6) = 2, accumulated from the WCB's 18.50.
    p6, p7 = made["passages"]
    assert (p6["number"], p6["doublings"], p6["cumulative_pdl"]) == (6, "3.00", "21.50")
    assert (p7["number"], p7["doublings"], p7["cumulative_pdl"]) == (7, "2.00", "23.50")
    assert p7["flags"] == [] and p7["viability_percent"] == "93.50"
    assert made["lot"]["state"] == "QUARANTINE" and made["lot"]["units"] == []
    lot = made["lot"]["lot_number"]
    units = made["units"]["units"]
    assert len(units) == 3 and {u["lot"] for u in units} == {lot}

    back = tech.get(f"/trace/back?lot={lot}")
    assert back.status_code == 200
    tree = back.get_json()
    assert tree["donor"]["code"] == "FD-0100" and tree["donor"]["determination"] == "eligible"
    assert tree["clone"]["code"] == "CL-0100" and tree["clone"]["donor"] == "FD-0100"
    assert (tree["mcb"]["code"], tree["mcb"]["tier"]) == ("MCB-100", "MCB")
    assert (tree["wcb"]["code"], tree["wcb"]["parent"]) == ("WCB-100-A", "MCB-100")
    assert tree["run"]["code"] == "RUN-100" and tree["run"]["bank"] == "WCB-100-A"
    assert [p["cumulative_pdl"] for p in tree["run"]["passages"]] == ["21.50", "23.50"]
    assert tree["lot"]["lot_number"] == lot
    assert sorted(u["din"] for u in tree["lot"]["units"]) == sorted(u["din"] for u in units)

    forward = tech.get("/trace/forward?bank=MCB-100").get_json()
    assert forward["bank"]["code"] == "MCB-100"
    assert [w["code"] for w in forward["wcbs"]] == ["WCB-100-A"]
    [run] = forward["wcbs"][0]["runs"]
    assert run["code"] == "RUN-100" and [lo["lot_number"] for lo in run["lots"]] == [lot]
    assert (forward["lot_count"], forward["unit_count"]) == (1, 3)

    # The vials the run used are withdrawn, for that run; the third is still stored.
    bank = tech.get("/banks/WCB-100-A").get_json()
    states = [(v["number"], v["state"], (v["withdrawal"] or {}).get("run")) for v in bank["vials"]]
    assert states == [(1, "withdrawn", "RUN-100"), (2, "withdrawn", "RUN-100"), (3, "stored", None)]

    after = row_counts(demo_app)
    assert after["donor"] == before["donor"] + 1
    assert after["donor_screening"] == before["donor_screening"] + len(MARKERS)
    assert after["unit"] == before["unit"] + 3
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert audit.verify(s).ok
        actors = set(
            s.scalars(select(AuditEvent.actor).where(AuditEvent.seq > before["audit_event"]))
        )
        assert actors == {"tech", "qa"}


def test_units_carry_a_13_character_din_and_its_mod_37_2_check_character(demo_app, tech) -> None:
    lot = tech.get("/lots/CFM-2025-0001").get_json()
    assert lot["state"] == "RELEASED" and lot["run"] == "RUN-2025-01"  # released by the demo QA
    assert len(lot["units"]) == 4
    for unit in lot["units"]:
        assert len(unit["din"]) == 13 and " " not in unit["din"]
        assert unit["check_character"] == check_character(unit["din"])
        one = tech.get(f"/units/{unit['din']}")
        assert one.status_code == 200
        assert one.get_json()["din"] == unit["din"] and one.get_json()["lot"] == "CFM-2025-0001"
    din = lot["units"][0]["din"]
    # As read off a label: eye-readable spacing, with the check character.
    spaced = f"{din[:5]} {din[5:7]} {din[7:]} {check_character(din)}"
    assert tech.get(f"/units/{spaced}").get_json()["din"] == din
    assert tech.get("/units/A999925000999").status_code == 404


def test_lists_are_paginated_and_lots_filter_by_state(demo_app, tech) -> None:
    page = tech.get("/lots?per_page=2&page=2").get_json()
    assert (page["page"], page["per_page"], page["total"], page["pages"]) == (2, 2, 4, 2)
    assert len(page["items"]) == 2 and {"lot_number", "state"} <= set(page["items"][0])
    every = tech.get("/lots?per_page=500").get_json()["items"]
    for state in ("QUARANTINE", "RELEASED", "RECALLED"):
        filtered = tech.get(f"/lots?state={state}&per_page=500").get_json()["items"]
        assert {lo["state"] for lo in filtered} <= {state}
        assert len(filtered) == sum(lo["state"] == state for lo in every)
    assert [d["code"] for d in tech.get("/donors").get_json()["items"]] == ["FD-0001"]
    assert tech.get("/clones").get_json()["items"][0]["donor"] == "FD-0001"
    assert tech.get("/banks").get_json()["total"] == 3
    assert tech.get("/runs").get_json()["total"] == 4


def test_a_run_shows_its_passages_with_doublings_and_flags_beyond_the_limit(tech) -> None:
    run = tech.get("/runs/RUN-2025-03").get_json()
    assert run["bank"] == "WCB-001-B" and run["vials"] == ["WCB-001-B-V001"]
    numbers = [p["number"] for p in run["passages"]]
    assert numbers == [6, 7, 8, 9, 10, 11]
    last = run["passages"][-1]
    assert any("passage 11 exceeds" in f for f in last["flags"])
    assert run["passages"][0]["flags"] == []
    assert isinstance(last["doublings"], str) and isinstance(last["cumulative_pdl"], str)
