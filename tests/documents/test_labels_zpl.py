"""Unit labels as ZPL II for thermal printers: the PDF's label, read back from the ZPL by a reader
written from the ZPL II Programming Guide; logged and refused exactly as a PDF print is."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lotrack.documents import zpl
from lotrack.domain import isbt128
from lotrack.domain.errors import Forbidden, ValidationFailed
from lotrack.domain.isbt128_structures import structure_of
from lotrack.domain.label_output import ZPL_DPIS
from lotrack.request_scope import db_session, printing
from lotrack.services import lot as lots
from lotrack.services import unit_labels
from tests.api.conftest import row_counts
from tests.conftest import csrf_token, login, owner_engine, user
from tests.documents.conftest import QUARANTINED_LOT, RELEASED_LOT, Issued
from tests.documents.pdfs import codes_per_page, isbt_codes, path_of
from tests.documents.zpl_reader import Format, assert_inside, read

STOCK_DOTS = {203: (813, 406), 300: (1219, 610)}  # 101.6 × 50.8 mm at 8 and 12 dots/mm
REASON = "thermal printer at the bench"


@pytest.fixture(scope="module")
def printed(issued: Issued) -> Iterator[dict[int, list[Format]]]:
    """The released lot's labels, printed as a PDF by `issued`, then as ZPL at both dpis."""
    out = {}
    with issued.app.app_context():
        session = db_session()
        units = list(lots.get_lot(session, RELEASED_LOT).units)
        for dpi in ZPL_DPIS:
            sheet = unit_labels.print_zpl_labels(
                session, user(session, "tech"), units, printing(), dpi, REASON
            )
            assert (sheet.dpi, sheet.units) == (dpi, issued.dins)
            out[dpi] = read(sheet.zpl)
        session.commit()
    yield out


def test_one_format_per_unit_sized_to_the_stock_at_each_dpi(
    issued: Issued, printed: dict[int, list[Format]]
) -> None:
    assert set(zpl.DOTS_PER_MM) == set(zpl.MODULE_DOTS) == set(ZPL_DPIS) == {203, 300}
    for dpi, formats in printed.items():
        assert len(formats) == len(issued.dins)
        for fmt in formats:
            assert (fmt.width, fmt.height) == STOCK_DOTS[dpi] and fmt.utf8
            assert_inside(fmt)
            assert len(fmt.of("code128")) == 3 and len(fmt.of("qr")) == 1
            assert {f.module for f in fmt.of("code128")} == {zpl.MODULE_DOTS[dpi]}
            assert {f.font for f in fmt.of("text")} == {printing_font(issued.app)}


def printing_font(app: Flask) -> str:
    return str(app.config["LOTRACK_ZPL_FONT"])


def test_the_code_128_data_are_the_pdfs_decoded_codes(
    issued: Issued, printed: dict[int, list[Format]]
) -> None:
    """Per unit, the three ISBT 128 symbols the ZPL encodes are what zxing reads off the PDF."""
    pdf_pages = codes_per_page(issued.labels_pdf)
    for formats in printed.values():
        for fmt, codes in zip(formats, pdf_pages, strict=True):
            data = [f.data for f in fmt.of("code128")]
            assert {structure_of(d): d for d in data} == isbt_codes(codes)
            assert [structure_of(d) for d in data] == ["001", "003", "005"]
            assert ">:&><" in fmt.of("code128")[2].raw  # 005's "&>" with its > escaped


def test_the_qr_code_verifies_as_genuine_for_the_same_unit(
    issued: Issued, printed: dict[int, list[Format]]
) -> None:
    client = issued.app.test_client()
    for formats in printed.values():
        for din, fmt in zip(issued.dins, formats, strict=True):
            (qr,) = fmt.of("qr")
            assert qr.params[:2] == ["N", "2"]
            body = client.get(path_of(qr.data), headers={"Accept": "application/json"}).get_json()
            assert body["genuine"] is True, body
            assert (body["status"], body["kind"], body["unit"]) == ("RELEASED", "unit", din)
            assert body["coa_sha256"] == issued.coa_sha256


def test_the_text_is_the_pdfs_in_both_languages(
    issued: Issued, printed: dict[int, list[Format]]
) -> None:
    with issued.app.app_context():
        lot = lots.get_lot(db_session(), RELEASED_LOT)
        settings, expires_on = printing(), lot.expires_on.isoformat()
    for formats in printed.values():
        for din, fmt in zip(issued.dins, formats, strict=True):
            texts = fmt.texts()
            assert texts[:2] == [isbt128.eye_readable(din), isbt128.check_character(din)]
            assert len(fmt.of("box")) == 1  # the boxed check character; no NOT FOR USE frame
            one = " ".join(texts)
            assert f"有效期至 / Expires {expires_on} 23:59" in one
            assert f"{settings.product_name} · 批号 Lot {RELEASED_LOT}" in one
            assert "72.0 × 10⁶ cells in 18.00 mL" in one
            for statement in (*settings.statements, *settings.statements_zh, settings.storage):
                assert statement in one or statement in "".join(texts), statement
            assert "NOT FOR USE" not in one


def test_each_print_is_logged_with_its_output_and_dpi(
    issued: Issued, printed: dict[int, list[Format]]
) -> None:
    with issued.app.app_context():
        session = db_session()
        log = unit_labels.prints_of(session, lots.get_lot(session, RELEASED_LOT))
        seen = sorted((p.output, p.dpi, p.reprint, p.reason) for p in log)
    n = len(issued.dins)
    assert seen == sorted(
        [("pdf", None, False, "")] * n
        + [("zpl", 203, True, REASON)] * n
        + [("zpl", 300, True, REASON)] * n
    )


def test_a_quarantined_lot_says_not_for_use_and_the_bag_stock_fits(module_app: Flask) -> None:
    with module_app.app_context():
        session = db_session()
        units = list(lots.get_lot(session, QUARANTINED_LOT).units)
        bag = dataclasses.replace(printing(), stock="100x100mm")
        for settings, size in ((printing(), (1219, 610)), (bag, (1200, 1200))):
            sheet = unit_labels.print_zpl_labels(
                session, user(session, "qa"), units, settings, 300, "test"
            )
            for fmt in read(sheet.zpl):
                assert (fmt.width, fmt.height) == size
                assert_inside(fmt)
                assert "QUARANTINE — NOT FOR USE" in " ".join(fmt.texts())
                assert len(fmt.of("box")) == 2  # the check character's and the state's frame
        session.rollback()


def test_text_that_cannot_fit_is_refused_not_cut_off(module_app: Flask) -> None:
    with module_app.app_context():
        session = db_session()
        units = list(lots.get_lot(session, QUARANTINED_LOT).units)
        wordy = dataclasses.replace(printing(), statements=("Keep frozen " * 40,) * 3)
        with pytest.raises(ValidationFailed) as refused:
            unit_labels.print_zpl_labels(session, user(session, "qa"), units, wordy, 203, "x")
        assert "stock" in refused.value.fields
        session.rollback()


def test_the_dpi_stock_and_permission_are_checked_before_anything(module_app: Flask) -> None:
    with module_app.app_context():
        session = db_session()
        units = list(lots.get_lot(session, QUARANTINED_LOT).units)
        tech = user(session, "tech")
        for dpi in (0, 200, 600):
            with pytest.raises(ValidationFailed) as refused:
                unit_labels.print_zpl_labels(session, tech, units, printing(), dpi, "x")
            assert list(refused.value.fields) == ["dpi"]
        a4 = dataclasses.replace(printing(), stock="A4")
        with pytest.raises(ValidationFailed, match="stock"):
            unit_labels.print_zpl_labels(session, tech, units, a4, 203, "x")
        with pytest.raises(Forbidden):
            unit_labels.print_zpl_labels(
                session, user(session, "nurse"), units, printing(), 203, "x"
            )
        assert not session.new


def test_the_database_keeps_output_and_dpi_together_and_never_rewrites_them(
    issued: Issued, printed: dict[int, list[Format]]
) -> None:
    """As the tables' owner (who bypasses every grant): a dpi without ZPL, ZPL at another dpi or
    an output of another name is refused; a logged print's output or dpi never changes."""
    columns = "unit_id, printed_by_id, printed_at, reprint, reason, stock, lot_state"
    with owner_engine(issued.app) as engine:
        for output, dpi in (("pdf", 203), ("zpl", None), ("zpl", 250), ("png", None)):
            with pytest.raises(DBAPIError, match="ck_label_print"), engine.begin() as conn:
                conn.execute(
                    text(
                        f"INSERT INTO label_print ({columns}, output, dpi)"
                        f" SELECT {columns}, :output, :dpi FROM label_print LIMIT 1"
                    ),
                    {"output": output, "dpi": dpi},
                )
        for change in ("output = 'pdf', dpi = NULL", "dpi = 300"):
            with pytest.raises(DBAPIError, match="never overwritten"), engine.begin() as conn:
                conn.execute(text(f"UPDATE label_print SET {change} WHERE output = 'zpl'"))


# ---- the web page and the API ----------------------------------------------------------------


def test_the_web_routes_print_refuse_and_never_preview(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "tech")
    token = csrf_token(client, f"/lots/{RELEASED_LOT}/documents")
    page = client.get(f"/lots/{RELEASED_LOT}/documents").get_data(as_text=True)
    assert f"/lots/{RELEASED_LOT}/labels.zpl" in page and 'name="dpi"' in page
    with demo_app.app_context():
        din = lots.get_lot(db_session(), RELEASED_LOT).units[0].din
    before = row_counts(demo_app)
    bad = client.post(f"/units/{din}/label.zpl", data={"csrf_token": token, "dpi": "600"})
    assert bad.status_code == 422 and "dpi" in bad.get_data(as_text=True)
    assert row_counts(demo_app) == before
    first = client.post(f"/units/{din}/label.zpl", data={"csrf_token": token, "dpi": "203"})
    assert first.status_code == 200 and first.mimetype == "application/zpl"
    disposition = first.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="label-{din}-203dpi.zpl"'
    assert [f.of("code128")[0].data[1:14] for f in read(first.get_data(as_text=True))] == [din]
    before = row_counts(demo_app)
    for path in (f"/units/{din}/label.zpl", f"/lots/{RELEASED_LOT}/labels.zpl"):
        refused = client.post(path, data={"csrf_token": token, "dpi": "300"})
        assert refused.status_code == 422, path
        assert "reprint needs a reason" in refused.get_data(as_text=True)
        assert client.get(path).status_code == 405, path  # no preview in ZPL
    assert row_counts(demo_app) == before
    again = client.post(
        f"/lots/{RELEASED_LOT}/labels.zpl",
        data={"csrf_token": token, "dpi": "300", "reason": "ribbon ran out"},
    )
    assert again.status_code == 200
    assert f'filename="labels-{RELEASED_LOT}-300dpi.zpl"' in again.headers["Content-Disposition"]
    assert len(read(again.get_data(as_text=True))) == 4
    page = client.get(f"/lots/{RELEASED_LOT}/documents").get_data(as_text=True)
    assert "ribbon ran out" in page and "ZPL, 300 dpi" in page


def test_a_nurse_cannot_print_zpl(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "nurse")
    token = csrf_token(client, "/")
    with demo_app.app_context():
        din = lots.get_lot(db_session(), RELEASED_LOT).units[0].din
    before = row_counts(demo_app)
    for path in (f"/lots/{RELEASED_LOT}/labels.zpl", f"/units/{din}/label.zpl"):
        answer = client.post(path, data={"csrf_token": token, "dpi": "203"})
        assert answer.status_code == 403, path
    assert row_counts(demo_app) == before
