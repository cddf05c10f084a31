"""Printing is a write, a preview a read: POST prints (and logs) a label; GET of the same path
serves the label stamped "PREVIEW – NOT FOR LABELLING", with no signed token and no DIN in its bar
code, and writes nothing: no print, no audit event, no number."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from lotrack.documents import tokens
from lotrack.domain import bedside as rules
from lotrack.request_scope import db_session, printing
from lotrack.services import bedside, unit_labels
from lotrack.services import lot as lots
from tests.api.conftest import row_counts
from tests.conftest import csrf_token, login, user
from tests.documents.conftest import QUARANTINED_LOT, RELEASED_LOT
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

STAMP = "PREVIEW – NOT FOR LABELLING"


def dins_of(app: Flask, lot_number: str) -> list[str]:
    with app.app_context():
        return [u.din for u in lots.get_lot(db_session(), lot_number).units]


def signed_in(app: Flask, name: str = "tech") -> tuple[FlaskClient, str]:
    client = app.test_client()
    login(client, name)
    return client, csrf_token(client, f"/lots/{RELEASED_LOT}/documents")


def assert_preview(client: FlaskClient, pdf: bytes, dins: list[str]) -> None:
    """Every page stamped, its QR code naming a preview that /v/ refuses, no DIN bar code."""
    texts = page_texts(pdf)
    assert len(texts) == len(dins)
    for text in texts:
        assert STAMP in text
    for din, codes in zip(dins, codes_per_page(pdf), strict=True):
        assert previewed(codes)
        url = only(codes, QR)
        assert path_of(url) == f"/v/{tokens.PREVIEW_PREFIX}{din}"
        body = client.get(path_of(url), headers={"Accept": "application/json"}).get_json()
        assert body["genuine"] is False and body["status"] == "NOT GENUINE", body
        assert "preview" in body["reason"] and body["unit"] is None
        page = client.get(path_of(url)).get_data(as_text=True)
        assert "NOT GENUINE" in page and STAMP in page


def test_a_preview_of_a_lots_labels_is_stamped_and_writes_nothing(demo_app: Flask) -> None:
    client, _ = signed_in(demo_app)
    dins = dins_of(demo_app, RELEASED_LOT)
    before = row_counts(demo_app)
    sheet = client.get(f"/lots/{RELEASED_LOT}/labels.pdf")
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    assert "PREVIEW" in sheet.headers["Content-Disposition"]
    assert row_counts(demo_app) == before  # no print, no audit event, no number
    assert_preview(client, sheet.data, dins)
    assert row_counts(demo_app) == before  # nor did scanning it at /v/


def test_a_preview_needs_no_reason_after_a_print_and_still_writes_nothing(
    demo_app: Flask,
) -> None:
    client, token = signed_in(demo_app)
    din = dins_of(demo_app, RELEASED_LOT)[0]
    before = row_counts(demo_app)
    printed = client.post(f"/units/{din}/label.pdf", data={"csrf_token": token})
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    after_print = row_counts(demo_app)
    changed = {t: after_print[t] - before[t] for t in before if after_print[t] != before[t]}
    assert changed == {"label_print": 1, "audit_event": 1}  # exactly one print, audited
    text = page_texts(printed.data)[0]
    assert "PREVIEW" not in text
    codes = codes_per_page(printed.data)[0]
    assert din_of(codes) == din
    verdict = client.get(path_of(only(codes, QR)), headers={"Accept": "application/json"})
    assert verdict.get_json()["genuine"] is True

    for path in (f"/units/{din}/label.pdf", f"/lots/{RELEASED_LOT}/labels.pdf"):
        preview = client.get(path)  # printed before, yet a preview asks for no reason
        assert preview.status_code == 200, path
        assert all(STAMP in t for t in page_texts(preview.data))
    assert row_counts(demo_app) == after_print


def test_a_reprint_without_a_reason_is_refused_naming_it_and_writes_nothing(
    demo_app: Flask,
) -> None:
    client, token = signed_in(demo_app)
    din = dins_of(demo_app, RELEASED_LOT)[0]
    assert client.post(f"/units/{din}/label.pdf", data={"csrf_token": token}).status_code == 200
    before = row_counts(demo_app)
    refused = client.post(f"/units/{din}/label.pdf", data={"csrf_token": token})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "reason: required for a reprint" in page
    assert row_counts(demo_app) == before


def test_the_documents_page_offers_preview_links_and_print_forms(demo_app: Flask) -> None:
    client, token = signed_in(demo_app)
    dins = dins_of(demo_app, RELEASED_LOT)
    page = client.get(f"/lots/{RELEASED_LOT}/documents").get_data(as_text=True)
    assert f'href="/lots/{RELEASED_LOT}/labels.pdf"' in page  # the preview: a plain link
    assert f'<form method="post" action="/lots/{RELEASED_LOT}/labels.pdf"' in page
    for din in dins:
        assert f'href="/units/{din}/label.pdf">Preview</a>' in page
        assert f'<form method="post" action="/units/{din}/label.pdf"' in page
    assert 'name="reason" maxlength="2000" required' not in page  # nothing printed yet
    client.post(f"/units/{dins[0]}/label.pdf", data={"csrf_token": token})
    page = client.get(f"/lots/{RELEASED_LOT}/documents").get_data(as_text=True)
    assert page.count('name="reason" maxlength="2000" required') == 1  # the printed unit's form
    assert ">Reprint</button>" in page


def test_who_may_preview_is_who_may_print(demo_app: Flask) -> None:
    din = dins_of(demo_app, RELEASED_LOT)[0]
    clients = {name: demo_app.test_client() for name in ("nurse", "admin")}
    for name, client in clients.items():
        login(client, name)
    tech, _ = signed_in(demo_app)
    before = row_counts(demo_app)  # after the logins, which are audited
    for name, client in clients.items():
        for path in (f"/lots/{RELEASED_LOT}/labels.pdf", f"/units/{din}/label.pdf"):
            assert client.get(path).status_code == 403, (name, path)
    anonymous = demo_app.test_client().get(f"/units/{din}/label.pdf")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    client = tech
    assert client.get("/units/A999999999999/label.pdf").status_code == 404
    assert client.get("/lots/CFM-1999-0001/labels.pdf").status_code == 404
    assert row_counts(demo_app) == before


def test_a_preview_of_a_quarantined_lot_says_both(demo_app: Flask) -> None:
    client, _ = signed_in(demo_app, "qa")
    sheet = client.get(f"/lots/{QUARANTINED_LOT}/labels.pdf")
    assert sheet.status_code == 200
    for text in page_texts(sheet.data):
        assert STAMP in text and "QUARANTINE — NOT FOR USE" in text


@pytest.mark.parametrize("stock", ["4x2in", "100x100mm"])
def test_the_service_preview_on_each_stock_logs_nothing(module_app: Flask, stock: str) -> None:
    with module_app.app_context():
        session = db_session()
        lot = lots.get_lot(session, QUARANTINED_LOT)
        settings = dataclasses.replace(printing(), stock=stock)
        sheet = unit_labels.preview_labels(
            session, user(session, "tech"), list(lot.units), settings
        )
        assert not session.new and not session.dirty and not session.deleted
        assert unit_labels.prints_of(session, lot) == []
        dins = [u.din for u in lot.units]
    assert sheet.units == dins and len(reader(sheet.pdf).pages) == len(dins)
    for codes in codes_per_page(sheet.pdf):
        assert previewed(codes)
        assert tokens.PREVIEW_PREFIX in only(codes, QR)


def test_a_preview_token_is_never_genuine_nor_a_unit_at_the_bedside() -> None:
    key = Ed25519PrivateKey.generate()
    token = tokens.preview_token("A999925000001")
    check = tokens.check_token(key.public_key(), token)
    assert (check.genuine, check.kind, check.subject) == (False, None, None)
    assert check.reason == tokens.PREVIEW_REASON and tokens.PREVIEW_STAMP in check.reason
    for scanned in (token, f"http://127.0.0.1:5000/v/{token}", "PREVIEW"):
        read = bedside.read_label(key, scanned, "wedge")
        assert (read.accepted, read.problem) == (False, rules.NOT_GENUINE), scanned
    assert "preview" in bedside.read_label(key, f"https://x/v/{token}", "camera").reason
    # No signed token begins as a preview does: each is the base64 of "U:" or "C:".
    assert not tokens.is_preview(tokens.make_token(key, "U", "A999925000001"))
