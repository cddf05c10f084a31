"""Site scoping: a clinical user of one trial site never sees another site's patients, shipments
or outcomes, in pages, API answers or CSV. Site A (SZ-GIMI) has the demo's two participants, one
infused with a related grade-3 adverse event, and the demo shipment; site B (BJ-CIP) has a nurse,
one participant and a shipment of its own, so its lists are not simply empty."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lotrack.models import BedsideScan, Shipment, Site
from tests import clinical_setup as cs
from tests.conftest import Backend, _app, csrf_token, login

SITE_B = "BJ-CIP"
NURSE_B = "nurse-bj"
SITE_A_SUBJECTS = ("SUBJ-001", "SUBJ-002")  # the demo's participants at SZ-GIMI
SITE_B_SUBJECT = "BJ-101"


@dataclass(frozen=True)
class Sites:
    app: Flask
    token_b: str  # nurse-bj's API token
    wristband_b: str
    shipment_a: str  # the demo shipment, received at SZ-GIMI
    shipment_b: str
    din_a: str  # the unit infused into SZ-GIMI/SUBJ-001


@pytest.fixture(scope="module")
def sites(
    backend: Backend, demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sites]:
    for app in _app(backend, demo_template, tmp_path_factory.mktemp("scoping")):
        token_b = cs.site_user(app, NURSE_B, SITE_B)
        din_a, _check = cs.ready_din(app)
        cs.infuse(app, cs.READY, din_a)
        cs.adverse_event(app, cs.READY, grade=3, attribution="probable")
        wristband_b = cs.enrol(app, SITE_B_SUBJECT, nurse=NURSE_B)
        din_b, _check = cs.free_din(app)
        cs.allocate(app, wristband_b, din_b)
        shipment_b = cs.ship(app, din_b, SITE_B)
        with cs.db(app) as s:
            site_a = s.scalars(select(Site.id).where(Site.code == "SZ-GIMI")).one()
            shipment_a = s.scalars(select(Shipment.number).where(Shipment.site_id == site_a)).one()
        yield Sites(app, token_b, wristband_b, shipment_a, shipment_b, din_a)


@pytest.fixture
def nurse_b(sites: Sites) -> FlaskClient:
    """Site B's nurse, logged in to the pages."""
    client = sites.app.test_client()
    assert login(client, NURSE_B, f"demo-{NURSE_B}-password").status_code == 302
    return client


def api_b(sites: Sites, client: FlaskClient, method: str, path: str, **kw: object):
    headers = {"Authorization": f"Bearer {sites.token_b}"}
    return client.open("/api/v1" + path, method=method, headers=headers, **kw)


def assert_nothing_of_site_a(sites: Sites, body: str, asked: tuple[str, ...] = ()) -> None:
    """No subject code, shipment or infused unit of site A; what the user typed or asked for
    (`asked`) may be echoed back."""
    for text in asked:
        body = body.replace(text, "")
    for subject in SITE_A_SUBJECTS:
        assert subject not in body, f"site B is shown site A's participant {subject}"
    assert sites.shipment_a not in body, "site B is shown site A's shipment"
    assert sites.din_a not in body, "site B is shown the unit infused at site A"


def last_scan_patient(app: Flask) -> tuple[str, int | None]:
    """(wristband text as scanned, the patient it was linked to) of the latest bedside check."""
    with cs.db(app) as s:
        scan = s.scalars(select(BedsideScan).order_by(BedsideScan.id.desc())).first()
        assert scan is not None
        return scan.patient_text, scan.patient_id


@pytest.mark.parametrize(
    "path", ["/", "/patients", "/shipments", "/reports", "/reports/primary-outcome.csv", "/bedside"]
)
def test_site_b_pages_show_nothing_of_site_a(sites: Sites, nurse_b: FlaskClient, path: str) -> None:
    resp = nurse_b.get(path)
    assert resp.status_code == 200
    assert_nothing_of_site_a(sites, resp.get_data(as_text=True))


def test_site_b_lists_its_own_patient_and_shipment(sites: Sites, nurse_b: FlaskClient) -> None:
    assert SITE_B_SUBJECT in nurse_b.get("/patients").get_data(as_text=True)
    assert sites.shipment_b in nurse_b.get("/shipments").get_data(as_text=True)


def test_site_a_records_are_not_found_for_site_b(sites: Sites, nurse_b: FlaskClient) -> None:
    for path in (f"/patients/{cs.READY}", f"/patients/{cs.NOT_ASSESSED}"):
        resp = nurse_b.get(path)
        assert resp.status_code == 404, path
        assert_nothing_of_site_a(sites, resp.get_data(as_text=True), (path,))
    resp = nurse_b.get(f"/shipments/{sites.shipment_a}")
    assert resp.status_code == 404
    assert_nothing_of_site_a(sites, resp.get_data(as_text=True), (sites.shipment_a,))


def test_site_b_report_and_csv_count_only_site_b(sites: Sites, nurse_b: FlaskClient) -> None:
    """Site A has one participant infused, with a related grade-3 event; site B has none."""
    csv_b = nurse_b.get("/reports/primary-outcome.csv").get_data(as_text=True).splitlines()
    assert csv_b[1] == "all,,0,0"
    assert not [row for row in csv_b if row.startswith(("lot,", "cohort,"))]
    nurse_a = sites.app.test_client()
    login(nurse_a, "nurse")
    csv_a = nurse_a.get("/reports/primary-outcome.csv").get_data(as_text=True).splitlines()
    assert csv_a[1] == "all,,1,1"  # the same report, read at site A, counts site A
    assert f"lot,{cs.DEMO_LOT},1,1" in csv_a


def test_bedside_check_of_site_a_patient_is_no_go_without_their_record(
    sites: Sites, nurse_b: FlaskClient
) -> None:
    """Site B scanning site A's wristband (with site A's unit) gets NO-GO; the check is recorded
    without linking it to site A's patient, and the page shows nothing of site A beyond what was
    scanned (the label itself carries the DIN and lot)."""
    form = {
        "patient": cs.READY,
        "scan": cs.label(sites.app, sites.din_a),
        "csrf_token": csrf_token(nurse_b, "/bedside"),
    }
    resp = nurse_b.post("/bedside/check", data=form)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "NO-GO" in body and "does not match a patient of this site" in body
    assert last_scan_patient(sites.app) == (cs.READY, None)
    assert_nothing_of_site_a(sites, body, (cs.READY, form["scan"], sites.din_a))


def test_api_lists_for_site_b_hold_nothing_of_site_a(sites: Sites, nurse_b: FlaskClient) -> None:
    for path in (
        "/patients",
        "/shipments",
        "/infusions",
        "/adverse-events",
        "/reports/primary-outcome",
        "/reports/primary-outcome?format=csv",
    ):
        resp = api_b(sites, nurse_b, "GET", path)
        assert resp.status_code == 200, path
        assert_nothing_of_site_a(sites, resp.get_data(as_text=True))
    patients = api_b(sites, nurse_b, "GET", "/patients").get_json()["items"]
    assert sites.wristband_b in [p["wristband"] for p in patients]  # beside the demo's own
    assert {p["site"] for p in patients} == {sites.wristband_b.split("/")[0]}
    report = api_b(sites, nurse_b, "GET", "/reports/primary-outcome").get_json()
    assert (report["participants"], report["with_related"], report["by_lot"]) == (0, 0, [])


def test_api_site_a_records_are_404_for_site_b(sites: Sites, nurse_b: FlaskClient) -> None:
    for path in (f"/patients/{cs.READY}", f"/shipments/{sites.shipment_a}"):
        resp = api_b(sites, nurse_b, "GET", path)
        assert resp.status_code == 404, path
        assert_nothing_of_site_a(sites, resp.get_data(as_text=True), (path.split("/", 2)[2],))


def test_api_bedside_check_and_thaw_of_site_a_refused(sites: Sites, nurse_b: FlaskClient) -> None:
    scan = cs.label(sites.app, sites.din_a)
    resp = api_b(sites, nurse_b, "POST", "/bedside/check", json={"patient": cs.READY, "scan": scan})
    assert resp.status_code == 200
    answer = resp.get_json()
    assert (answer["go"], answer["patient"]) == (False, None)
    assert last_scan_patient(sites.app) == (cs.READY, None)
    assert_nothing_of_site_a(sites, resp.get_data(as_text=True), (cs.READY, sites.din_a))
    resp = api_b(sites, nurse_b, "POST", "/thaws", json={"din": sites.din_a})
    assert 400 <= resp.status_code < 500
    assert_nothing_of_site_a(sites, resp.get_data(as_text=True), (sites.din_a,))
