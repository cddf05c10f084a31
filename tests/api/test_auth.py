"""Who may call the API: a bearer token is required (401), and the role decides (403). A refusal
writes nothing and is decided before the body is read."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from lotrack.db import utcnow
from lotrack.models import ApiToken
from tests.api.conftest import assert_problem, row_counts
from tests.conftest import login

SAMPLE = {
    "code": "FD-0001",
    "number": "3",
    "lot_number": "CFM-2025-0001",
    "din": "A999925000001",
    "result_id": "1",
    "version_id": "1",
    "wristband": "SZ-GIMI/SUBJ-001",
    "rx_id": "1",
    "event_id": "1",
    "use_id": "1",
}


def api_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every /api/v1 view, path parameters filled with demo values."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: SAMPLE[m.group(1)], rule.rule)
        routes += [(m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


def test_every_api_route_answers_401_json_without_a_valid_token(demo_app, client, tokens) -> None:
    routes = api_routes(demo_app)
    assert len(routes) >= 20
    before = row_counts(demo_app)
    for headers in (
        {},
        {"Authorization": "Bearer lt_not-a-token"},
        {"Authorization": "Basic eDp5"},
    ):
        for method, path in routes:
            resp = client.open(path, method=method, headers=headers, data="{not json")
            body = assert_problem(resp, 401)
            assert body["error"] == "unauthorized", (method, path)
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert row_counts(demo_app) == before


def test_a_revoked_token_is_refused(demo_app, as_user, tokens) -> None:
    tech = as_user("tech")
    assert tech.get("/lots").status_code == 200
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        s.execute(update(ApiToken).values(revoked_at=utcnow()))
        s.commit()
    body = assert_problem(tech.get("/lots"), 401)
    assert "revoked" in body["message"]


def test_a_browser_session_does_not_authenticate_the_api(client) -> None:
    assert login(client, "tech").status_code == 302
    assert_problem(client.get("/api/v1/lots"), 401)


READS = [
    "/donors",
    "/donors/FD-0001",
    "/clones/CL-0001",
    "/banks/MCB-001",
    "/runs/RUN-2025-01",
    "/lots",
    "/lots/CFM-2025-0001",
    "/trace/back?lot=CFM-2025-0001",
    "/trace/forward?bank=MCB-001",
]


@pytest.mark.parametrize("path", READS)
def test_clinical_staff_cannot_read_the_manufacturing_record(as_user, path) -> None:
    assert_problem(as_user("nurse").get(path), 403)
    for who in ("tech", "qa", "admin"):
        assert as_user(who).get(path).status_code == 200, who


WRITES = {
    "qa registers a donor": ("qa", "/donors", {"code": "FD-0300", "consent_date": "2025-01-06"}),
    "admin registers a donor": (
        "admin",
        "/donors",
        {"code": "FD-0300", "consent_date": "2025-01-06"},
    ),
    "nurse registers a donor": (
        "nurse",
        "/donors",
        {"code": "FD-0300", "consent_date": "2025-01-06"},
    ),
    "qa withdraws a vial": ("qa", "/banks/WCB-001-A/vials/3/withdraw", {"purpose": "QC"}),
    "qa fills units": (
        "qa",
        "/lots/CFM-2025-0001/units",
        {"container": "bag", "count": 1, "cells_per_unit": 1, "volume_ml": "1"},
    ),
    "technician determines eligibility": (
        "tech",
        "/donors/FD-0001/determination",
        {"determination": "ineligible", "responsible_person": "Tech", "reason": "r"},
    ),
    "qa sends a bad body": ("qa", "/donors", {"nonsense": True}),
}


@pytest.mark.parametrize("case", list(WRITES))
def test_a_role_that_may_not_write_gets_403_and_nothing_is_written(demo_app, as_user, case) -> None:
    who, path, body = WRITES[case]
    before = row_counts(demo_app)
    assert_problem(as_user(who).post(path, body), 403)
    assert row_counts(demo_app) == before
