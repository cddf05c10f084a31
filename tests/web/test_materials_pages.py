"""Materials and instruments in the browser: the lists, receiving a lot with its certificate, QA's
signed inspection, a recall from the lot's page landing on its impact list, and the refusals at
the moment of use shown on the form with nothing written."""

from __future__ import annotations

import html
import io

from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import row_counts
from tests.conftest import PASSWORDS, csrf_token, login

PAGES = ["/materials", "/material-lots/MAT-2025-003", "/instruments", "/instruments/FCM-01"]


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def test_the_pages_show_materials_lots_and_instruments(client: FlaskClient) -> None:
    login(client, "tech")
    shown = {path: client.get(path) for path in PAGES}
    assert {p: r.status_code for p, r in shown.items()} == dict.fromkeys(PAGES, 200)
    assert "Foetal bovine serum" in text(shown["/materials"])
    lot = text(shown["/material-lots/MAT-2025-003"])
    assert "AE28431987" in lot and "approved for use" in lot and "CFM-2025-0001" in lot
    assert "in calibration" in text(shown["/instruments"])
    certificate = client.get("/material-lots/MAT-2025-003/certificate")
    assert certificate.data.startswith(b"%PDF")


def test_a_lot_is_received_then_approved_by_qa_under_a_signature(client: FlaskClient) -> None:
    login(client, "tech")
    received = client.post(
        "/material-lots/new",
        data={
            "csrf_token": csrf_token(client, "/material-lots/new"),
            "material": "TRY-01",
            "supplier_lot": "2699001",
            "received_on": "2025-08-01",
            "expires_on": "2026-08-01",
            "certificate": (io.BytesIO(b"%PDF-1.4 coa"), "coa.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert received.status_code == 302, text(received)
    page = received.headers["Location"]
    client.post("/logout", data={"csrf_token": csrf_token(client, "/materials")})
    login(client, "qa")
    signed = client.post(
        page + "/inspection",
        data={
            "csrf_token": csrf_token(client, page),
            "decision": "approved",
            "username": "qa",
            "password": PASSWORDS["qa"],
            "meaning": "approved for use",
            "reason": "CoA reviewed",
        },
    )
    assert signed.status_code == 302, text(signed)
    shown = text(client.get(page))
    assert "approved for use" in shown and "CoA reviewed" in shown


def test_a_passage_with_a_quarantined_material_lot_is_refused_on_the_form(
    demo_app: Flask, client: FlaskClient
) -> None:
    login(client, "tech")
    client.post(
        "/material-lots/new",
        data={
            "csrf_token": csrf_token(client, "/material-lots/new"),
            "material": "FBS-01",
            "supplier_lot": "Q-1",
            "received_on": "2025-08-01",
            "expires_on": "2026-08-01",
            "certificate": (io.BytesIO(b"%PDF-1.4 coa"), "coa.pdf"),
        },
        content_type="multipart/form-data",
    )
    before = row_counts(demo_app)
    form = "/runs/RUN-2025-02/passages/new"
    refused = client.post(
        form,
        data={
            "csrf_token": csrf_token(client, form),
            "seeded_on": "2025-09-22",
            "harvested_on": "2025-09-28",
            "cells_seeded": "2000000",
            "cells_harvested": "14000000",
            "viability_percent": "94",
            "material_lots": "MAT-2025-003, MAT-2025-007",
        },
    )
    assert refused.status_code == 409
    assert "Material lot MAT-2025-007 is quarantine, not approved for use." in text(refused)
    assert row_counts(demo_app) == before


def test_a_recall_from_the_lot_page_lands_on_its_impact_list(client: FlaskClient) -> None:
    login(client, "qa")
    page = "/material-lots/MAT-2025-003"
    recalled = client.post(
        page + "/contain/recall",
        data={
            "csrf_token": csrf_token(client, page),
            "username": "qa",
            "password": PASSWORDS["qa"],
            "meaning": "recalled",
            "reason": "supplier recall notice",
        },
    )
    assert recalled.status_code == 302, text(recalled)
    impact = text(client.get(recalled.headers["Location"]))
    assert all(f"CFM-2025-000{i}" in impact for i in (1, 2, 3, 4))
    assert "SZ-GIMI" in impact


def test_a_calibration_record_is_kept_and_a_bad_one_refused_by_field(client: FlaskClient) -> None:
    login(client, "tech")
    page = "/instruments/CC-01"
    bad = client.post(
        page + "/events",
        data={
            "csrf_token": csrf_token(client, page),
            "kind": "calibration",
            "performed_on": "2025-03-01",
            "due_on": "2025-02-01",
            "passed": "true",
        },
    )
    assert bad.status_code == 422 and "before the date it was performed" in text(bad)
    kept = client.post(
        page + "/events",
        data={
            "csrf_token": csrf_token(client, page),
            "kind": "maintenance",
            "performed_on": "2025-03-01",
            "due_on": "2025-09-01",
            "passed": "true",
        },
    )
    assert kept.status_code == 302
    assert "2025-09-01" in text(client.get(page))


def test_the_run_page_lists_its_material_lots_and_a_use_is_struck_with_a_reason(
    client: FlaskClient,
) -> None:
    login(client, "tech")
    page = "/runs/RUN-2025-02"
    shown = text(client.get(page))
    assert "MAT-2025-003" in shown and "MAT-2025-004" in shown
    first = int(shown.split("/material-uses/", 1)[1].split("/", 1)[0])
    refused = client.post(
        f"/material-uses/{first}/strike", data={"csrf_token": csrf_token(client, page)}
    )
    assert refused.status_code == 422 and "Nothing was saved" in text(refused)
    struck = client.post(
        f"/material-uses/{first}/strike",
        data={"csrf_token": csrf_token(client, page), "reason": "entered on the wrong run"},
    )
    assert struck.status_code == 302 and struck.headers["Location"].endswith("#materials")
    assert f"strikes entry {first}: entered on the wrong run" in text(client.get(page))


def test_qa_lifts_a_material_hold_from_its_page(client: FlaskClient) -> None:
    login(client, "qa")
    page = "/material-lots/MAT-2025-004"
    sign = {"username": "qa", "password": PASSWORDS["qa"]}
    held = client.post(
        page + "/contain/hold",
        data={"csrf_token": csrf_token(client, page), **sign, "meaning": "placed on hold"}
        | {"reason": "supplier complaint"},
    )
    assert held.status_code == 302, text(held)
    shown = text(client.get(page))
    assert "Lift the hold of MAT-2025-004" in shown
    lifted = client.post(
        page + "/lift-hold",
        data={"csrf_token": csrf_token(client, page), **sign, "meaning": "hold lifted"}
        | {"reason": "complaint closed"},
    )
    assert lifted.status_code == 302, text(lifted)
    assert "complaint closed" in text(client.get(page))
