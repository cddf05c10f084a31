"""Unit labels: one page per unit on real label stock, readable by eye and by any scanner, and a
print log in which every reprint carries its reason."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from lotrack.domain import isbt128
from lotrack.domain.errors import Forbidden, ValidationFailed
from lotrack.domain.isbt128_expiry import expiry_disagrees, expiry_local, parse_005
from lotrack.domain.isbt128_structures import parse_001, parse_003
from lotrack.request_scope import db_session, printing
from lotrack.services import lot as lots
from lotrack.services import unit_labels
from tests.api.conftest import row_counts
from tests.conftest import csrf_token, login, user
from tests.documents.conftest import QUARANTINED_LOT, RELEASED_LOT, Issued
from tests.documents.pdfs import (
    QR,
    codes_per_page,
    din_of,
    isbt_codes,
    only,
    page_texts,
    path_of,
    reader,
)

MM = 72 / 25.4


@pytest.fixture(scope="module")
def texts(issued: Issued) -> list[str]:
    return page_texts(issued.labels_pdf)


def test_one_page_per_unit_on_the_default_4x2_inch_stock(issued: Issued) -> None:
    pages = reader(issued.labels_pdf).pages
    with issued.app.app_context():
        session = db_session()
        dins = [u.din for u in lots.get_lot(session, RELEASED_LOT).units]
    assert len(dins) == 4 and issued.dins == dins
    assert len(pages) == len(dins)
    for page in pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == (288, 144)


def test_each_label_reads_as_its_unit(issued: Issued, texts: list[str]) -> None:
    with issued.app.app_context():
        session = db_session()
        lot = lots.get_lot(session, RELEASED_LOT)
        settings = printing()
        for unit, text in zip(lot.units, texts, strict=True):
            assert isbt128.eye_readable(unit.din) in text
            assert unit.check_character in text
            assert lot.lot_number in text
            assert settings.product_name in text
            assert "72.0 × 10⁶ cells in 18.00 mL" in text
            zone = issued.app.config["LOTRACK_SITE_TIME_ZONE"]
            one_line = " ".join(text.split())  # the eye-readable expiry beside its bar code wraps
            assert f"Expires {lot.expires_on.isoformat()} 23:59 ({zone})" in one_line
            assert settings.storage and settings.storage in text
            assert len(settings.statements) == 3
            assert "For clinical trial use only" in text  # the jurisdiction's (CN)
            for statement in settings.statements:
                assert statement in text
            assert "NOT FOR USE" not in text


def test_each_label_carries_a_code_128_of_its_din_and_a_qr_that_verifies_it(
    issued: Issued,
) -> None:
    client = issued.app.test_client()
    pages = codes_per_page(issued.labels_pdf)
    assert len(pages) == len(issued.dins)
    for din, codes in zip(issued.dins, pages, strict=True):
        assert din_of(codes) == din
        answer = client.get(path_of(only(codes, QR)), headers={"Accept": "application/json"})
        body = answer.get_json()
        assert body["genuine"] is True, body
        assert (body["status"], body["kind"], body["unit"]) == ("RELEASED", "unit", din)
        assert body["lot"] == RELEASED_LOT
        assert body["coa_sha256"] == issued.coa_sha256


def test_the_isbt_128_symbols_decode_to_the_units_din_product_code_and_expiry(
    issued: Issued,
) -> None:
    """isbt128.md: 001 "=" + DIN + flags (type 3: 60 + checksum), 003 "=<" + 8 characters,
    005 "&>cyyjjjhhmm"; each read back from the printed page by zxing-cpp and parsed."""
    with issued.app.app_context():
        session = db_session()
        lot = lots.get_lot(session, RELEASED_LOT)
        settings, expires_on = printing(), lot.expires_on
    zone = issued.app.config["LOTRACK_SITE_TIME_ZONE"]
    for din, codes in zip(issued.dins, codes_per_page(issued.labels_pdf), strict=True):
        found = isbt_codes(codes)
        assert sorted(found) == ["001", "003", "005"]
        assert found["001"] == f"={din}{isbt128.type3_flags(din)}"
        read = parse_001(found["001"])
        assert (read.din, read.checked) == (din, True)
        assert parse_003(found["003"], settings.product_pattern).code == settings.product_code
        expiry = parse_005(found["005"], zone).local
        assert expiry == expiry_local(expires_on, zone)  # 23:59 of the recorded date, there
        assert expiry_disagrees(expiry, expires_on, zone) is None


def test_the_first_print_is_logged_as_such(issued: Issued) -> None:
    with issued.app.app_context():
        session = db_session()
        log = unit_labels.prints_of(session, lots.get_lot(session, RELEASED_LOT))
        assert sorted(p.unit.din for p in log) == issued.dins
        for entry in log:
            assert entry.reprint is False and entry.reason == ""
            assert entry.printed_by.username == "tech"
            assert (entry.stock, entry.lot_state) == ("4x2in", "RELEASED")


def test_the_100mm_bag_label_stock(module_app: Flask) -> None:
    with module_app.app_context():
        session = db_session()
        lot = lots.get_lot(session, QUARANTINED_LOT)
        bag = dataclasses.replace(printing(), stock="100x100mm")
        sheet = unit_labels.print_labels(session, user(session, "qa"), list(lot.units), bag)
        session.rollback()
        dins = [u.din for u in lot.units]
    pages = reader(sheet.pdf).pages
    assert len(pages) == len(dins)
    for page in pages:
        assert float(page.mediabox.width) == pytest.approx(100 * MM, abs=0.01)
        assert float(page.mediabox.height) == pytest.approx(100 * MM, abs=0.01)
    assert [din_of(codes) for codes in codes_per_page(sheet.pdf)] == dins


def test_an_unknown_stock_is_refused_by_name(module_app: Flask) -> None:
    with module_app.app_context():
        session = db_session()
        lot = lots.get_lot(session, QUARANTINED_LOT)
        with pytest.raises(ValidationFailed) as refused:
            unit_labels.print_labels(
                session,
                user(session, "tech"),
                list(lot.units),
                dataclasses.replace(printing(), stock="A4"),
            )
        assert "stock" in refused.value.fields
        with pytest.raises(ValidationFailed) as empty:
            unit_labels.print_labels(session, user(session, "tech"), [], printing())
        assert "units" in empty.value.fields
        with pytest.raises(Forbidden):
            unit_labels.print_labels(session, user(session, "nurse"), list(lot.units), printing())


def test_a_reprint_needs_a_reason_and_is_logged_as_a_reprint(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "tech")
    token = csrf_token(client, f"/lots/{RELEASED_LOT}/documents")
    with demo_app.app_context():
        din = lots.get_lot(db_session(), RELEASED_LOT).units[0].din
    first = client.post(f"/units/{din}/label.pdf", data={"csrf_token": token})
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert len(reader(first.data).pages) == 1
    before = row_counts(demo_app)
    for path in (f"/units/{din}/label.pdf", f"/lots/{RELEASED_LOT}/labels.pdf"):
        refused = client.post(path, data={"csrf_token": token, "reason": "  "})
        assert refused.status_code == 422, path
        assert "reprint needs a reason" in refused.get_data(as_text=True)
    assert row_counts(demo_app) == before
    again = client.post(
        f"/units/{din}/label.pdf", data={"csrf_token": token, "reason": "label smudged"}
    )
    assert again.status_code == 200
    with demo_app.app_context():
        session = db_session()
        log = unit_labels.prints_of(session, lots.get_lot(session, RELEASED_LOT))
        assert [(p.unit.din, p.reprint, p.reason) for p in log] == [
            (din, True, "label smudged"),
            (din, False, ""),
        ]
    page = client.get(f"/lots/{RELEASED_LOT}/documents").get_data(as_text=True)
    assert "label smudged" in page
    # The print log names the unit as its label does: eye-readable DIN, boxed check character.
    log_table = page.split('aria-label="Print log"', 1)[1].split("</table>", 1)[0]
    assert f">{isbt128.eye_readable(din)}</a>" in log_table and '<span class="check"' in log_table


def test_a_quarantined_lot_prints_labels_that_say_not_for_use(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "tech")
    token = csrf_token(client, f"/lots/{QUARANTINED_LOT}/documents")
    sheet = client.post(f"/lots/{QUARANTINED_LOT}/labels.pdf", data={"csrf_token": token})
    assert sheet.status_code == 200
    texts = page_texts(sheet.data)
    with demo_app.app_context():
        session = db_session()
        lot = lots.get_lot(session, QUARANTINED_LOT)
        assert len(texts) == len(lot.units)
        assert {p.lot_state for p in unit_labels.prints_of(session, lot)} == {"QUARANTINE"}
    for text in texts:
        assert "QUARANTINE — NOT FOR USE" in text
    url = only(codes_per_page(sheet.data)[0], QR)
    body = client.get(path_of(url), headers={"Accept": "application/json"}).get_json()
    assert (body["genuine"], body["status"], body["coa_sha256"]) == (True, "QUARANTINE", None)


def test_a_nurse_cannot_print_labels(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "nurse")
    token = csrf_token(client, "/")
    before = row_counts(demo_app)
    with demo_app.app_context():
        din = lots.get_lot(db_session(), RELEASED_LOT).units[0].din
    for path in (f"/lots/{RELEASED_LOT}/labels.pdf", f"/units/{din}/label.pdf"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert row_counts(demo_app) == before
