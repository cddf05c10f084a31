"""Reading issued PDFs back the way a person or a scanner would: text (pypdf), the codes on each
rasterised page (pypdfium2 + zxing-cpp), embedded files and the PDF/A claim in the XMP metadata."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pypdf
import pypdfium2
import zxingcpp

QR = zxingcpp.BarcodeFormat.QRCode
CODE128 = zxingcpp.BarcodeFormat.Code128


def reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in reader(pdf).pages]


def squeeze(text: str) -> str:
    """Text without any whitespace: table cells wrap, so "PHA-\\ninduced" is compared as one."""
    return re.sub(r"\s+", "", text)


@dataclass(frozen=True)
class Code:
    format: zxingcpp.BarcodeFormat
    text: str


def codes_per_page(pdf: bytes, scale: float = 4) -> list[list[Code]]:
    """Every barcode zxing-cpp finds on each page, rendered at `scale` × 72 dpi."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        found = []
        for index in range(len(document)):
            image = document[index].render(scale=scale).to_pil()
            found.append([Code(b.format, b.text) for b in zxingcpp.read_barcodes(image)])
        return found
    finally:
        document.close()


def only(codes: list[Code], fmt: zxingcpp.BarcodeFormat) -> str:
    """The text of the single code of `fmt` (a page must carry exactly one)."""
    texts = [c.text for c in codes if c.format == fmt]
    assert len(texts) == 1, (fmt, codes)
    return texts[0]


def attachments(pdf: bytes) -> dict[str, bytes]:
    return {name: data[0] for name, data in reader(pdf).attachments.items()}


def pdfa_claim(pdf: bytes) -> tuple[str | None, str | None]:
    """(pdfaid:part, pdfaid:conformance) from the document's XMP metadata."""
    xmp = reader(pdf).xmp_metadata
    assert xmp is not None, "no XMP metadata"
    return xmp.pdfaid_part, xmp.pdfaid_conformance


def path_of(url: str) -> str:
    """The path a scanned URL names, to ask the test client (the host is the public base URL)."""
    return urlsplit(url).path
