"""Chinese in every PDF: printed with an embedded CJK font (Noto Sans CJK, subset into the file),
never as empty boxes; the certificate and the labels in Chinese and English side by side, in the
configured order; the labels still within their stock."""

from __future__ import annotations

import dataclasses
import json

import pypdfium2
import pytest
from flask import Flask

from lotrack.documents.bilingual import Captions, parse_languages
from lotrack.request_scope import db_session, printing
from lotrack.services import containment, unit_labels
from lotrack.services import lot as lots
from tests.conftest import login, user
from tests.documents.conftest import LOCKOUT, QUARANTINED_LOT, RELEASED_LOT, Issued, qa_sign_in
from tests.documents.pdfs import (
    QR,
    _cmap_chars,
    cjk_characters,
    codes_per_page,
    din_of,
    embedded_font_coverage,
    only,
    page_texts,
    pdfa_claim,
    squeeze,
    uncovered_cjk,
)

REASON = "无菌检查结果待复核"  # "sterility result awaiting re-review"
MM = 72 / 25.4


def covered_by_cjk_fonts(pdf: bytes, chars: set[str]) -> bool:
    """Whether the embedded Noto Sans CJK fonts (regular and bold) map every one of `chars`."""
    cjk = [covered for name, covered in embedded_font_coverage(pdf).items() if "CJK" in name]
    return bool(cjk) and chars <= set().union(*cjk)


def test_a_chinese_reason_prints_in_the_timeline_pdf_with_an_embedded_cjk_font(
    demo_app: Flask,
) -> None:
    with demo_app.app_context():
        session = db_session()
        containment.contain(
            session,
            user(session, "qa"),
            kind="hold",
            sign_in=qa_sign_in("placed on hold", reason=REASON),
            lockout=LOCKOUT,
            lot=lots.get_lot(session, RELEASED_LOT),
        )
        session.commit()
    client = demo_app.test_client()
    login(client, "qa")
    answer = client.get(f"/lots/{RELEASED_LOT}/timeline.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert REASON in squeeze(" ".join(page_texts(answer.data)))
    assert uncovered_cjk(answer.data) == set()
    assert covered_by_cjk_fonts(answer.data, set(REASON)), embedded_font_coverage(answer.data)


def test_the_certificate_is_in_chinese_and_english_with_an_embedded_cjk_font(
    issued: Issued,
) -> None:
    text = squeeze(" ".join(page_texts(issued.coa_pdf)))
    for zh, en in (
        ("分析证书", "Certificate of analysis"),
        ("批号", "lot"),
        ("产品与谱系", "Product and lineage"),
        ("检验结果", "Results"),
        ("符合", "Conforms"),
        ("已放行", "RELEASED"),
        ("放行决定", "Release decision"),
    ):
        assert squeeze(zh) in text and squeeze(en) in text, (zh, en)
    # Chinese first, as LOTRACK_DOCUMENT_LANGUAGES says by default.
    assert text.index("分析证书") < text.index(squeeze("Certificate of analysis"))
    printed = cjk_characters(text)
    assert len(printed) > 40
    assert uncovered_cjk(issued.coa_pdf) == set()
    assert covered_by_cjk_fonts(issued.coa_pdf, printed)
    # Still PDF/A-3b: every font embedded (subset), the claim in the XMP metadata.
    part, conformance = pdfa_claim(issued.coa_pdf)
    assert (str(part), conformance) == ("3", "B")


def test_the_certificate_is_issued_in_the_facility_zone_named_in_both_languages(
    issued: Issued,
) -> None:
    snapshot = json.loads(issued.coa_snapshot)
    zone = issued.app.config["LOTRACK_SITE_TIME_ZONE"]
    assert snapshot["issued_at"].endswith(f"{zone} (UTC+08:00)"), snapshot["issued_at"]
    assert "UTC " not in snapshot["issued_at"]
    text = " ".join(page_texts(issued.coa_pdf))
    by = snapshot["issued_by"]
    assert f"{by} 签发于 {snapshot['issued_at']}" in text
    assert f"Issued {snapshot['issued_at']} by {by}" in text


def test_the_labels_carry_the_chinese_and_english_statements(issued: Issued) -> None:
    with issued.app.app_context():
        settings = printing()
    assert settings.statements_zh and settings.jurisdiction == "CN"
    assert settings.languages == ("zh_CN", "en")
    texts = page_texts(issued.labels_pdf)
    for text in texts:
        # China's GCP art. 44 statement, chosen by the jurisdiction (domain/label_statements.py).
        assert "仅用于临床试验" in text and "For clinical trial use only" in text
        assert text.index("仅用于临床试验") < text.index("For clinical trial use only")
        for statement in settings.statements_zh + settings.statements:
            assert statement in text, statement
        assert settings.storage_zh in text and settings.storage in text
        assert "批号 Lot" in text and "有效期至 Expires" in text
        assert text.index(settings.statements_zh[0]) < text.index(settings.statements[0])
    assert uncovered_cjk(issued.labels_pdf) == set()
    assert covered_by_cjk_fonts(issued.labels_pdf, set("".join(settings.statements_zh)))


@pytest.mark.parametrize(("languages", "chinese"), [("en,zh_CN", True), ("en", False)])
def test_the_order_of_languages_is_the_sites_setting(
    module_app: Flask, languages: str, chinese: bool
) -> None:
    with module_app.app_context():
        session = db_session()
        lot = lots.get_lot(session, RELEASED_LOT)
        settings = dataclasses.replace(printing(), languages=parse_languages(languages))
        sheet = unit_labels.preview_labels(session, user(session, "tech"), lot.units[:1], settings)
    text = page_texts(sheet.pdf)[0]
    assert settings.statements[0] in text
    assert bool(cjk_characters(text)) is chinese
    if chinese:
        assert text.index(settings.statements[0]) < text.index(settings.statements_zh[0])


def char_boxes_outside(pdf: bytes, margin_mm: float = 2) -> list[str]:
    """Characters drawn outside the label's printable area (its stock less the page margin)."""
    document = pypdfium2.PdfDocument(pdf)
    outside = []
    try:
        for index in range(len(document)):
            page = document[index]
            width, height = page.get_size()
            margin = margin_mm * MM - 0.5
            textpage = page.get_textpage()
            for i in range(textpage.count_chars()):
                char = textpage.get_text_range(i, 1)
                if not char.strip():
                    continue
                left, bottom, right, top = textpage.get_charbox(i)
                if (
                    left < margin
                    or bottom < margin
                    or right > width - margin
                    or top > height - margin
                ):
                    outside.append(char)
    finally:
        document.close()
    return outside


@pytest.mark.parametrize("stock", ["4x2in", "100x100mm"])
def test_the_fullest_label_stays_within_its_stock_and_its_codes_read(
    module_app: Flask, stock: str
) -> None:
    """A quarantined lot's label and preview: every line, the NOT FOR USE box, the stamp."""
    with module_app.app_context():
        session = db_session()
        lot = lots.get_lot(session, QUARANTINED_LOT)
        settings = dataclasses.replace(printing(), stock=stock)
        preview = unit_labels.preview_labels(
            session, user(session, "tech"), lot.units[:1], settings
        )
        sheet = unit_labels.print_labels(session, user(session, "tech"), lot.units[:1], settings)
        session.rollback()
        din = lot.units[0].din
    for pdf in (preview.pdf, sheet.pdf):
        assert len(page_texts(pdf)) == 1
        text = page_texts(pdf)[0]
        assert "待验 — 禁止使用" in text and "QUARANTINE — NOT FOR USE" in text
        assert char_boxes_outside(pdf) == []
        assert uncovered_cjk(pdf) == set()
    assert "预览 – 不得用作标签" in page_texts(preview.pdf)[0]
    codes = codes_per_page(sheet.pdf)[0]
    assert din_of(codes) == din
    assert "/v/" in only(codes, QR)


def test_document_languages_are_checked() -> None:
    assert parse_languages("zh_CN,en") == ("zh_CN", "en")
    assert parse_languages(" en ") == ("en",)
    for wrong in ("", "fr", "en,en", "zh-CN"):
        with pytest.raises(ValueError, match="LOTRACK_DOCUMENT_LANGUAGES"):
            parse_languages(wrong)
    assert Captions(("en",))("coa_title") == "Certificate of analysis"
    assert Captions()("coa_title") == "分析证书 Certificate of analysis"
    assert Captions(("en", "zh_CN")).value("QUARANTINE") == "QUARANTINE 待验"
    assert Captions().value("an unknown value") == "an unknown value"


def test_the_cmap_reader_reads_single_codes_and_ranges() -> None:
    cmap = (
        b"beginbfchar\n<0000> <4E2D>\n<0005> <6587>\nendbfchar\n"
        b"beginbfrange\n<0010> <0012> <0041>\n<0020> <0021> [<4E00> <4E8C>]\nendbfrange\n"
    )
    assert _cmap_chars(cmap) == {
        0: "中",
        5: "文",
        16: "A",
        17: "B",
        18: "C",
        32: "一",
        33: "二",
    }
