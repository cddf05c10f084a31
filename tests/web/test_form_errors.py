"""Every bad input of issue 2 through the HTML forms: the field is named with its reason beside
it, the answer is a 4xx, "Nothing was saved" is said, and the database is left unchanged."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lotrack.models import (
    AuditEvent,
    CellBank,
    Clone,
    Donor,
    DonorScreening,
    Lot,
    Passage,
    ProductionRun,
    Unit,
    Vial,
    VialWithdrawal,
)
from lotrack.services import donor
from tests.conftest import csrf_token, login, user

TABLES = (
    Donor,
    DonorScreening,
    Clone,
    CellBank,
    Vial,
    VialWithdrawal,
    ProductionRun,
    Passage,
    Lot,
    Unit,
    AuditEvent,
)


def snapshot(app: Flask) -> dict[str, Any]:
    """Row counts of the manufacturing record and the audit trail, and every mutable state."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        out: dict[str, Any] = {
            m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in TABLES
        }
        out["vial_states"] = [
            tuple(r) for r in s.execute(select(Vial.id, Vial.state).order_by(Vial.id))
        ]
        out["donors"] = [
            tuple(r)
            for r in s.execute(select(Donor.code, Donor.determination).order_by(Donor.code))
        ]
    return out


def field_error(page: str, name: str) -> str | None:
    """The reason shown inside the label of input `name`, if that field is marked invalid."""
    m = re.search(
        rf'(?s)<label class="field invalid">[^<]*<(?:input|select|textarea) name="{name}"'
        r'.*?<small class="error"[^>]*>(.*?)</small>',
        page,
    )
    return html.unescape(m.group(1)) if m else None


def post(client: FlaskClient, path: str, data: dict[str, str]):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


DONOR = {"code": "FD-0002", "consent_date": "2025-03-01"}
SCREEN = {"marker": "HBV", "method": "NAT", "result": "non-reactive", "tested_on": "2025-03-12"}
CLONE = {"code": "CL-0002", "donor": "FD-0001", "derived_on": "2025-04-05"}
MCB = {
    "code": "MCB-002",
    "tier": "MCB",
    "parent": "CL-0001",
    "passage_at_banking": "3",
    "pdl_at_banking": "12.00",
    "banked_on": "2025-05-20",
}
VIALS = {"freezer": "LN2-9", "rack": "Z", "box": "9", "positions": "A1, A2"}
RUN = {"code": "RUN-2025-09", "bank": "WCB-001-B", "vials": "2", "started_on": "2025-12-01"}
PASSAGE = {
    "seeded_on": "2025-08-18",
    "harvested_on": "2025-08-24",
    "cells_seeded": "2000000",
    "cells_harvested": "14000000",
    "viability_percent": "95",
}
LOT = {"run": "RUN-2025-01", "harvested_on": "2025-08-20", "expires_on": "2026-08-20"}
FILL = {"container": "bag", "count": "2", "cells_per_unit": "72000000", "volume_ml": "18.00"}


def without(data: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in data.items() if k != key}


CASES = [
    # missing field
    ("/donors/new", without(DONOR, "consent_date"), "consent_date", "required", 422),
    ("/donors/FD-0001/screening", without(SCREEN, "method"), "method", "required", 422),
    ("/donors/FD-0001/screening", without(SCREEN, "marker"), "marker", "required", 422),
    ("/clones/new", without(CLONE, "donor"), "donor", "required", 422),
    ("/banks/new", without(MCB, "pdl_at_banking"), "pdl_at_banking", "required", 422),
    ("/banks/MCB-001/vials/new", without(VIALS, "positions"), "positions", "required", 422),
    ("/banks/WCB-001-B/vials/5/withdraw", {}, "purpose", "required", 422),
    ("/runs/new", without(RUN, "started_on"), "started_on", "required", 422),
    (
        "/runs/RUN-2025-01/passages/new",
        without(PASSAGE, "viability_percent"),
        "viability_percent",
        "required",
        422,
    ),
    ("/lots/new", without(LOT, "expires_on"), "expires_on", "required", 422),
    ("/lots/CFM-2025-0001/fill", without(FILL, "count"), "count", "required", 422),
    # wrong type
    (
        "/lots/CFM-2025-0001/fill",
        {**FILL, "cells_per_unit": "abc"},
        "cells_per_unit",
        "a whole number",
        422,
    ),
    ("/lots/CFM-2025-0001/fill", {**FILL, "volume_ml": "lots"}, "volume_ml", "a number", 422),
    (
        "/runs/RUN-2025-01/passages/new",
        {**PASSAGE, "cells_seeded": "abc"},
        "cells_seeded",
        "a whole number",
        422,
    ),
    (
        "/banks/new",
        {**MCB, "passage_at_banking": "three"},
        "passage_at_banking",
        "a whole number",
        422,
    ),
    ("/donors/new", {**DONOR, "consent_date": "yesterday"}, "consent_date", "a date", 422),
    # unknown parent
    ("/banks/new", {**MCB, "parent": "CL-9999"}, "parent", "no clone with code CL-9999", 422),
    (
        "/banks/new",
        {**MCB, "code": "WCB-009", "tier": "WCB", "parent": "MCB-404", "passage_at_banking": "5"},
        "parent",
        "no cell bank with code MCB-404",
        422,
    ),
    (
        "/banks/new",
        {
            **MCB,
            "code": "WCB-009",
            "tier": "WCB",
            "parent": "WCB-001-A",
            "passage_at_banking": "7",
            "pdl_at_banking": "20",
        },
        "parent",
        "a WCB's parent is an MCB",
        422,
    ),
    ("/clones/new", {**CLONE, "donor": "FD-9999"}, "donor", "no donor with code FD-9999", 422),
    ("/runs/new", {**RUN, "bank": "WCB-404"}, "bank", "no cell bank with code WCB-404", 422),
    ("/runs/new", {**RUN, "bank": "MCB-001"}, "bank", "production starts from a WCB", 422),
    ("/lots/new", {**LOT, "run": "RUN-9999"}, "run", "no run RUN-9999", 422),
    # harvested count of zero, and other values out of range
    (
        "/runs/RUN-2025-01/passages/new",
        {**PASSAGE, "cells_harvested": "0"},
        "cells_harvested",
        "must be greater than zero",
        422,
    ),
    (
        "/runs/RUN-2025-01/passages/new",
        {**PASSAGE, "viability_percent": "101"},
        "viability_percent",
        "between 0 and 100",
        422,
    ),
    (
        "/lots/CFM-2025-0001/fill",
        {**FILL, "cells_per_unit": "0"},
        "cells_per_unit",
        "must be greater than zero",
        422,
    ),
    ("/lots/new", {**LOT, "expires_on": "2025-08-01"}, "expires_on", "after the harvest", 422),
    ("/donors/new", {**DONOR, "consent_date": "2999-01-01"}, "consent_date", "future", 422),
    # a vial already withdrawn (WCB-001-A vial 1 started RUN-2025-01)
    ("/runs/new", {**RUN, "bank": "WCB-001-A", "vials": "1"}, "vials", "already withdrawn", 409),
    ("/runs/new", {**RUN, "vials": "99"}, "vials", "not in WCB-001-B: 99", 422),
    # a storage position already holding a vial
    (
        "/banks/MCB-001/vials/new",
        {**VIALS, "freezer": "LN2-1", "rack": "A", "box": "1"},
        "positions",
        "occupied: A1",
        409,
    ),
    # a duplicate code
    ("/donors/new", {**DONOR, "code": "FD-0001"}, "code", "already used", 409),
    ("/clones/new", {**CLONE, "code": "CL-0001"}, "code", "already used", 409),
    ("/banks/new", {**MCB, "code": "MCB-001"}, "code", "already used", 409),
    ("/runs/new", {**RUN, "code": "RUN-2025-01"}, "code", "already used", 409),
    ("/lots/new", {**LOT, "lot_number": "CFM-2025-0001"}, "lot_number", "already used", 409),
    ("/donors/new", {**DONOR, "code": "x"}, "code", "2-32 letters", 422),
]


@pytest.mark.parametrize(("path", "data", "field", "reason", "status"), CASES)
def test_bad_input_names_the_field_and_saves_nothing(
    client, demo_app, path, data, field, reason, status
) -> None:
    login(client, "tech")
    before = snapshot(demo_app)
    resp = post(client, path, data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == status, page[:3000]
    assert "Nothing was saved." in page
    shown = field_error(page, field)
    assert shown is not None, f"no error beside {field}"
    assert reason in shown, shown
    assert snapshot(demo_app) == before


def test_the_refused_form_keeps_what_was_entered(client) -> None:
    login(client, "tech")
    resp = post(client, "/lots/CFM-2025-0001/fill", {**FILL, "cells_per_unit": "abc"})
    page = resp.get_data(as_text=True)
    assert 'name="cells_per_unit" type="text" value="abc"' in page
    assert 'name="volume_ml" type="text" value="18.00"' in page


def test_withdrawing_a_vial_already_withdrawn_is_refused_and_saves_nothing(
    client, demo_app
) -> None:
    login(client, "tech")
    before = snapshot(demo_app)
    resp = post(client, "/banks/WCB-001-A/vials/1/withdraw", {"purpose": "stability study"})
    page = html.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 409
    assert "Nothing was saved." in page
    assert "<b>vial</b>: WCB-001-A-V001 is already withdrawn" in page
    assert snapshot(demo_app) == before


def test_a_vial_number_that_is_not_a_number_is_named_beside_the_field(client) -> None:
    login(client, "tech")
    resp = post(client, "/runs/new", {**RUN, "vials": "one"})
    assert resp.status_code == 422
    assert (
        field_error(resp.get_data(as_text=True), "vials")
        == "item 1: vial numbers are whole numbers"
    )


def test_eligible_is_refused_with_the_services_reason(client, demo_app) -> None:
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        donor.register_donor(s, user(s, "tech"), code="FD-0002", consent_date=dt.date(2025, 3, 1))
        s.commit()
    login(client, "qa")
    before = snapshot(demo_app)
    resp = post(
        client,
        "/donors/FD-0002/determination",
        {"determination": "eligible", "responsible_person": "Dr Q", "reason": "screened"},
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Nothing was saved." in page
    assert "cannot be determined eligible" in page
    shown = field_error(page, "determination")
    assert shown is not None and "HIV-1/2: no screening result recorded" in shown
    assert snapshot(demo_app) == before


def test_a_reactive_marker_blocks_eligible(client, demo_app) -> None:
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        fd = donor.get_donor(s, "FD-0001")
        donor.record_screening(
            s,
            user(s, "tech"),
            fd,
            marker="HBV",
            method="NAT",
            result="reactive",
            tested_on=dt.date(2025, 3, 20),
        )
        s.commit()
    login(client, "qa")
    data = {"determination": "eligible", "responsible_person": "Dr Q", "reason": "re-review"}
    resp = post(client, "/donors/FD-0001/determination", data)
    assert resp.status_code == 422
    assert "HBV: reactive" in (field_error(resp.get_data(as_text=True), "determination") or "")


def test_a_post_without_csrf_token_is_refused_and_writes_nothing(client, demo_app) -> None:
    login(client, "tech")
    before = snapshot(demo_app)
    resp = client.post("/donors/new", data=DONOR)
    assert resp.status_code == 400
    resp = client.post("/banks/WCB-001-B/vials/5/withdraw", data={"purpose": "no token"})
    assert resp.status_code == 400
    assert snapshot(demo_app) == before
