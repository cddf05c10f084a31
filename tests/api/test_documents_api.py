"""/api/v1 certificates and labels: the same rules as the lot documents page, as JSON problems."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask

from tests.api.conftest import Api, assert_problem, row_counts
from tests.documents.pdfs import CODE128, QR, codes_per_page, only, page_texts, path_of, reader

LOT = "CFM-2025-0001"  # RELEASED, 4 units
QUARANTINED = "CFM-2025-0002"


def test_issue_read_and_reissue_a_certificate(demo_app: Flask, qa: Api, tech: Api) -> None:
    assert_problem(tech.get(f"/lots/{LOT}/coa.pdf"), 404, "lot")  # none issued yet
    issued = qa.post(f"/lots/{LOT}/coa", {})
    assert issued.status_code == 201, issued.get_json()
    first = issued.get_json()
    assert (first["document_number"], first["version"], first["issued_by"]) == (
        f"COA-{LOT}",
        1,
        "qa",
    )
    assert first["superseded_at"] is None
    served = tech.get(f"/lots/{LOT}/coa.pdf")
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert hashlib.sha256(served.data).hexdigest() == first["pdf_sha256"]
    assert only(codes_per_page(served.data, scale=3)[0], QR) == first["verify_url"]
    verdict = tech.client.get(path_of(first["verify_url"]), headers={"Accept": "application/json"})
    assert verdict.get_json()["status"] == "RELEASED"

    before = row_counts(demo_app)
    assert_problem(qa.post(f"/lots/{LOT}/coa", {}), 422, "reason")
    assert_problem(qa.post(f"/lots/{LOT}/coa", {"reason": "   "}), 422, "reason")
    assert row_counts(demo_app) == before

    again = qa.post(f"/lots/{LOT}/coa", {"reason": "signature time zone corrected"})
    assert again.status_code == 201
    assert again.get_json()["version"] == 2
    listed = tech.get(f"/lots/{LOT}/certificates").get_json()
    assert [c["version"] for c in listed] == [1, 2]
    assert listed[0]["superseded_at"] is not None and listed[1]["superseded_at"] is None
    assert listed[1]["reason"] == "signature time zone corrected"
    old = tech.get(f"/lots/{LOT}/coa.pdf?version=1")
    assert hashlib.sha256(old.data).hexdigest() == first["pdf_sha256"]
    assert "version 2" in page_texts(tech.get(f"/lots/{LOT}/coa.pdf").data)[0]
    assert_problem(tech.get(f"/lots/{LOT}/coa.pdf?version=9"), 404, "lot")


def test_who_may_issue_a_certificate(demo_app: Flask, as_user) -> None:
    before = row_counts(demo_app)
    for name in ("tech", "nurse", "admin"):
        assert_problem(as_user(name).post(f"/lots/{LOT}/coa", {}), 403)
    assert as_user(None).post(f"/lots/{LOT}/coa", {}).status_code == 401
    assert row_counts(demo_app) == before


def test_no_certificate_for_a_lot_not_released(demo_app: Flask, qa: Api) -> None:
    before = row_counts(demo_app)
    body = assert_problem(qa.post(f"/lots/{QUARANTINED}/coa", {}), 409, "lot")
    assert "QUARANTINE" in body["message"]
    assert_problem(qa.post("/lots/CFM-1999-0001/coa", {}), 404, "lot")
    assert_problem(qa.post(f"/lots/{LOT}/coa", {"reason": "x" * 2001}), 422, "reason")
    assert_problem(qa.post(f"/lots/{LOT}/coa", {"reason": 7}), 422, "reason")
    assert row_counts(demo_app) == before


def test_lot_labels_print_once_then_reprint_with_a_reason(demo_app: Flask, tech: Api) -> None:
    sheet = tech.get(f"/lots/{LOT}/labels.pdf")
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    pages = reader(sheet.data).pages
    assert len(pages) == 4
    dins = [only(codes, CODE128) for codes in codes_per_page(sheet.data)]
    assert len(set(dins)) == 4
    before = row_counts(demo_app)
    assert_problem(tech.get(f"/lots/{LOT}/labels.pdf"), 422, "reason")
    assert_problem(tech.post(f"/units/{dins[0]}/label.pdf", data={}), 422, "reason")
    assert row_counts(demo_app) == before
    again = tech.post(f"/units/{dins[0]}/label.pdf", data={"reason": "bag label torn"})
    assert again.status_code == 200 and len(reader(again.data).pages) == 1
    assert row_counts(demo_app)["label_print"] == before["label_print"] + 1
    whole = tech.get(f"/lots/{LOT}/labels.pdf?reason=printer jam")
    assert whole.status_code == 200


@pytest.mark.parametrize("name", ["nurse", "admin"])
def test_who_may_print_labels(demo_app: Flask, as_user, name: str) -> None:
    before = row_counts(demo_app)
    assert_problem(as_user(name).get(f"/lots/{LOT}/labels.pdf"), 403)
    assert_problem(as_user(name).get("/units/A999925000001/label.pdf"), 403)
    assert row_counts(demo_app) == before


def test_labels_of_unknown_lots_and_units(demo_app: Flask, tech: Api) -> None:
    before = row_counts(demo_app)
    assert_problem(tech.get("/lots/CFM-1999-0001/labels.pdf"), 404, "lot")
    assert_problem(tech.get("/units/A999999999999/label.pdf"), 404, "din")
    assert_problem(tech.get("/units/not-a-din/label.pdf"), 404, "din")
    assert row_counts(demo_app) == before


def test_a_quarantined_lot_labels_print_and_say_so(qa: Api) -> None:
    sheet = qa.get(f"/lots/{QUARANTINED}/labels.pdf")
    assert sheet.status_code == 200
    for text in page_texts(sheet.data):
        assert "QUARANTINE — NOT FOR USE" in text


def test_the_openapi_document_names_the_document_routes(client) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/lots/{lot_number}/coa",
        "/api/v1/lots/{lot_number}/certificates",
        "/api/v1/lots/{lot_number}/coa.pdf",
        "/api/v1/lots/{lot_number}/labels.pdf",
        "/api/v1/units/{din}/label.pdf",
    ):
        assert path in paths, path
