"""/api/v1 certificates and labels: the same rules as the lot documents page, as JSON problems."""

from __future__ import annotations

import hashlib

import pytest
from flask import Flask

from tests.api.conftest import Api, assert_problem, row_counts
from tests.documents.pdfs import (
    QR,
    codes_per_page,
    din_of,
    only,
    page_texts,
    path_of,
    previewed,
    reader,
)

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
    before = row_counts(demo_app)
    sheet = tech.post(f"/lots/{LOT}/labels.pdf", {})
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    pages = reader(sheet.data).pages
    assert len(pages) == 4
    dins = [din_of(codes) for codes in codes_per_page(sheet.data)]
    assert len(set(dins)) == 4
    printed = row_counts(demo_app)
    assert printed["label_print"] == before["label_print"] + 4
    assert printed["audit_event"] == before["audit_event"] + 4
    body = assert_problem(tech.post(f"/lots/{LOT}/labels.pdf", {}), 422, "reason")
    assert "reprint needs a reason" in body["message"]
    assert_problem(tech.post(f"/units/{dins[0]}/label.pdf"), 422, "reason")  # no body at all
    assert_problem(tech.post(f"/units/{dins[0]}/label.pdf", {"reason": "  "}), 422, "reason")
    assert_problem(tech.post(f"/units/{dins[0]}/label.pdf", {"reason": 7}), 422, "reason")
    assert row_counts(demo_app) == printed
    again = tech.post(f"/units/{dins[0]}/label.pdf", {"reason": "bag label torn"})
    assert again.status_code == 200 and len(reader(again.data).pages) == 1
    assert row_counts(demo_app)["label_print"] == printed["label_print"] + 1
    whole = tech.post(f"/lots/{LOT}/labels.pdf", {"reason": "printer jam"})
    assert whole.status_code == 200
    assert row_counts(demo_app)["label_print"] == printed["label_print"] + 5


def test_a_get_is_a_stamped_preview_that_writes_nothing(demo_app: Flask, tech: Api) -> None:
    before = row_counts(demo_app)
    # The old GET path, with or without the reason it once took, is the preview now.
    for path in (f"/lots/{LOT}/labels.pdf", f"/lots/{LOT}/labels.pdf?reason=printer jam"):
        sheet = tech.get(path)
        assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
        texts = page_texts(sheet.data)
        assert len(texts) == 4
        for text in texts:
            assert "PREVIEW – NOT FOR LABELLING" in text
        for codes in codes_per_page(sheet.data):
            assert previewed(codes)  # no DIN a scanner could take
            url = only(codes, QR)
            verdict = tech.client.get(path_of(url), headers={"Accept": "application/json"})
            assert verdict.get_json()["genuine"] is False
            assert "preview" in verdict.get_json()["reason"]
    assert row_counts(demo_app) == before
    din = din_of(codes_per_page(tech.post(f"/lots/{LOT}/labels.pdf", {}).data)[0])
    printed = row_counts(demo_app)
    one = tech.get(f"/units/{din}/label.pdf")  # printed before: a preview still needs no reason
    assert one.status_code == 200 and "PREVIEW – NOT FOR LABELLING" in page_texts(one.data)[0]
    assert row_counts(demo_app) == printed


@pytest.mark.parametrize("name", ["nurse", "admin"])
def test_who_may_print_labels(demo_app: Flask, as_user, name: str) -> None:
    before = row_counts(demo_app)
    for path in (f"/lots/{LOT}/labels.pdf", "/units/A999925000001/label.pdf"):
        assert_problem(as_user(name).get(path), 403)
        assert_problem(as_user(name).post(path, {}), 403)
    assert row_counts(demo_app) == before


def test_labels_of_unknown_lots_and_units(demo_app: Flask, tech: Api) -> None:
    before = row_counts(demo_app)
    for call in (tech.get, tech.post):
        assert_problem(call("/lots/CFM-1999-0001/labels.pdf"), 404, "lot")
        assert_problem(call("/units/A999999999999/label.pdf"), 404, "din")
        assert_problem(call("/units/not-a-din/label.pdf"), 404, "din")
    assert row_counts(demo_app) == before


def test_a_quarantined_lot_labels_print_and_say_so(qa: Api) -> None:
    sheet = qa.post(f"/lots/{QUARANTINED}/labels.pdf", {})
    assert sheet.status_code == 200
    for text in page_texts(sheet.data):
        assert "QUARANTINE — NOT FOR USE" in text
        assert "PREVIEW" not in text


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
    for path in ("/api/v1/lots/{lot_number}/labels.pdf", "/api/v1/units/{din}/label.pdf"):
        preview, printing = paths[path]["get"], paths[path]["post"]
        assert "preview" in preview["summary"].lower() and "PREVIEW" in preview["description"]
        assert "print" in printing["summary"].lower() and "reason" in printing["description"]
        assert "requestBody" not in preview
        assert "application/json" in printing["requestBody"]["content"]
        for operation in (preview, printing):
            assert "application/pdf" in operation["responses"]["200"]["content"]
        assert "422" in printing["responses"]  # a reprint without a reason
