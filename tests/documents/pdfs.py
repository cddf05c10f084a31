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

from lotrack.domain.isbt128_structures import parse_001, structure_of

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


def code128_texts(codes: list[Code]) -> list[str]:
    """What every Code 128 symbol on a page carries."""
    return [c.text for c in codes if c.format == CODE128]


def isbt_codes(codes: list[Code]) -> dict[str, str]:
    """A label's ISBT 128 symbols by data structure ('001', '003', '005'), each exactly once."""
    texts = code128_texts(codes)
    found = {structure_of(t): t for t in texts}
    assert len(found) == len(texts) and None not in found, texts
    return found  # type: ignore[return-value]


def din_of(codes: list[Code]) -> str:
    """The DIN a label's 001 symbol carries, its type 3 flags checked (parse_001 refuses others)."""
    read = parse_001(isbt_codes(codes)["001"])
    assert read.checked, read
    return read.din


def previewed(codes: list[Code]) -> bool:
    """A preview's page: every Code 128 symbol carries "PREVIEW" and nothing else."""
    texts = code128_texts(codes)
    return bool(texts) and set(texts) == {"PREVIEW"}


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


def _cmap_chars(cmap: bytes) -> dict[int, str]:
    """A ToUnicode CMap's glyph code → text (its bfchar and bfrange entries)."""
    text = cmap.decode("latin-1")
    found: dict[int, str] = {}

    def utf16(hexes: str) -> str:
        return bytes.fromhex(hexes).decode("utf-16-be", errors="replace")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", text, re.S):
        for code, dest in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            found[int(code, 16)] = utf16(dest)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", text, re.S):
        for low, high, dest in re.findall(
            r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(<[0-9a-fA-F]*>|\[[^\]]*\])", block
        ):
            lo, hi = int(low, 16), int(high, 16)
            if dest.startswith("["):
                each_code = re.findall(r"<([0-9a-fA-F]*)>", dest)
                for code, each in zip(range(lo, hi + 1), each_code, strict=True):
                    found[code] = utf16(each)
            else:
                start = int(dest[1:-1], 16)
                for offset in range(hi - lo + 1):
                    found[lo + offset] = chr(start + offset)
    return found


def _embedded(font: pypdf.generic.DictionaryObject) -> bool:
    """Whether the font program itself is in the file (FontFile, FontFile2 or FontFile3)."""
    fonts = [font]
    if "/DescendantFonts" in font:
        fonts += [d.get_object() for d in font["/DescendantFonts"]]
    for each in fonts:
        descriptor = each.get("/FontDescriptor")
        if descriptor is not None and any(
            key in descriptor.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3")
        ):
            return True
    return False


def embedded_font_coverage(pdf: bytes) -> dict[str, set[str]]:
    """Each embedded font's name → the characters its ToUnicode CMap maps from a real glyph (glyph
    0 is .notdef, the empty box a missing character prints as). Fonts not embedded are left out:
    what they print depends on the reader's machine."""
    coverage: dict[str, set[str]] = {}
    for page in reader(pdf).pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        for ref in (fonts.get_object() if fonts is not None else {}).values():
            font = ref.get_object()
            if "/ToUnicode" not in font or not _embedded(font):
                continue
            chars = {
                ch
                for code, text in _cmap_chars(font["/ToUnicode"].get_object().get_data()).items()
                if code != 0
                for ch in text
            }
            coverage.setdefault(str(font["/BaseFont"]), set()).update(chars)
    return coverage


def cjk_characters(text: str) -> set[str]:
    """The Chinese (CJK ideograph and CJK punctuation or full-width) characters in `text`."""
    return {
        ch
        for ch in text
        if "\u3000" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
    }


def uncovered_cjk(pdf: bytes) -> set[str]:
    """The Chinese characters in the PDF's text that no embedded font maps from a real glyph."""
    printed = cjk_characters("".join(page_texts(pdf)))
    covered = set().union(*embedded_font_coverage(pdf).values())
    return printed - covered
