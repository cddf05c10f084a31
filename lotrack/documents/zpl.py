"""Unit labels as ZPL II, for thermal label printers at 203 or 300 dpi, from the very label dicts
the PDF prints (services/unit_labels._label): this module lays them out, it decides no content.

One ^XA…^XZ format per label, sized in dots from the stock's millimetres. The three ISBT 128
symbols are Code 128 in subset B (ZPL II Programming Guide, ^BC, "Code 128 Invocation
Characters"), the verification URL a QR code at error correction M as on the PDF. Every field's
data goes through ^FH, so that no `^` or `~` (ZPL's command prefixes) ever reaches a printer raw.
Text is printed in one TrueType font the printer must hold (LOTRACK_ZPL_FONT): the printer's
built-in fonts have no Chinese.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import qrcode
import qrcode.util

from lotrack.documents.bilingual import Captions
from lotrack.documents.codes import QR_ERROR_CORRECTION, QUIET_MODULES
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_

# No media type is registered for ZPL. Not text/plain: a browser would show it and a proxy or
# client might transcode it, while these bytes are a printer's program, UTF-8 as ^CI28 says.
MEDIA_TYPE = "application/zpl"
DOTS_PER_MM = {203: 8, 300: 12}
# Code 128 modules of about 0.25 mm, as on the PDF (codes.MODULE_MM): 2 dots at 8 dots/mm, 3 at 12.
MODULE_DOTS = {203: 2, 300: 3}
MARGIN_MM = 2.0
# At most, the QR code being square: the largest whole magnification that fits; 0.33 mm modules
# or more for a URL of some 150 characters (the PDF draws 18 mm with its quiet zone).
QR_MM = 20.0
# Andale Mono (Zebra's CJK font) advances Latin glyphs 0.6 em, CJK ones 1 em; a little spare.
LATIN_ADVANCE = 0.62
TEXT_MM = (2.4, 2.2, 2.0, 1.8)  # text heights tried, largest first, until the text fits
LINE_SPACING = 1.2
HEX = "_"  # ^FH's indicator: the only character in field data that means "two hex digits follow"
ESCAPED = {"^", "~", HEX}


def hex_escaped(text: str) -> str:
    """`text` for a ^FH field: ZPL's prefixes, the indicator itself and every control character
    as _XX (one per UTF-8 byte); everything else as it is (^CI28: the printer reads UTF-8)."""
    out = []
    for char in text:
        if char in ESCAPED or unicodedata.category(char) == "Cc":
            out.append("".join(f"{HEX}{byte:02X}" for byte in char.encode("utf-8")))
        else:
            out.append(char)
    return "".join(out)


def code128_data(data: str) -> str:
    """Field data of a ^BC symbol in subset B: the Start Code B invocation `>:`, then `data`
    with `>` as `><` (its invocation code in ZPL II's ^BC table), ^FH-escaped."""
    if not all(32 <= ord(c) <= 126 for c in data):
        raise ValueError(f"Code 128 subset B holds printable ASCII only: {data!r}")
    if "^" in data or "~" in data:
        # ISBT 128 data never holds them, and ZPL needs invocation codes for them whose table
        # reads ambiguously: refused rather than printed as a guess.
        raise ValueError(f"Code 128 data with ^ or ~ is not printed in ZPL: {data!r}")
    return ">:" + hex_escaped(data.replace(">", "><"))


def code128_modules(data: str) -> int:
    """Modules of `data` in subset B: start, one symbol per character, check (11 each), stop."""
    return 11 * (len(data) + 2) + 13


def qr_modules(text: str) -> int:
    """Modules across the QR code of `text` at level M in byte mode: the most a printer choosing
    its own encoding can need."""
    code = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, border=0)
    code.add_data(qrcode.util.QRData(text.encode("utf-8"), mode=qrcode.util.MODE_8BIT_BYTE))
    code.make(fit=True)
    return int(code.modules_count)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def text_width(text: str, height: int) -> int:
    """The dots `text` takes at `height` (^A@N,height,height) in the monospaced CJK font, at most:
    ASCII at the Latin advance, anything else (Chinese, ×, °, ·, —) a full em, as a CJK font may
    draw it."""
    return math.ceil(sum(height * LATIN_ADVANCE if c.isascii() else height for c in text))


def _pieces(word: str) -> list[str]:
    """A word's unbreakable pieces: each Chinese character alone, Latin runs whole."""
    pieces, run = [], ""
    for char in word:
        if _wide(char):
            pieces += [run, char] if run else [char]
            run = ""
        else:
            run += char
    return [*pieces, run] if run else pieces


def _fitting(text: str, width: int, height: int) -> int:
    """How many leading characters of `text` fit in `width` (at least one)."""
    n = len(text)
    while n > 1 and text_width(text[:n], height) > width:
        n -= 1
    return n


def wrap(text: str, width: int, height: int) -> list[str]:
    """`text` in lines of at most `width` dots: broken at spaces, and between Chinese characters
    (which have none); a word longer than a line is broken where it must."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        for i, piece in enumerate(_pieces(word)):
            joined = f"{line} {piece}" if line and i == 0 else line + piece
            if text_width(joined, height) <= width:
                line = joined
                continue
            if line:
                lines.append(line)
            line = piece
            while text_width(line, height) > width:
                cut = _fitting(line, width, height)
                lines.append(line[:cut])
                line = line[cut:]
    return [*lines, line] if line else lines


@dataclass(frozen=True)
class Field:
    """One field of a format: where it starts, what it covers (in dots) and its commands."""

    x: int
    y: int
    width: int
    height: int
    zpl: str


class _Format:
    def __init__(self, width: int, height: int, dpi: int, font: str) -> None:
        self.width, self.height, self.dpi, self.font = width, height, dpi, font
        self.fields: list[Field] = []

    def dots(self, mm: float) -> int:
        return round(mm * DOTS_PER_MM[self.dpi])

    def text(self, x: int, y: int, text: str, height: int) -> Field:
        command = f"^A@N,{height},{height},{self.font}^FH{HEX}^FD{hex_escaped(text)}"
        return self.add(Field(x, y, text_width(text, height), height, command))

    def code128(self, x: int, y: int, data: str, height: int) -> Field:
        module = MODULE_DOTS[self.dpi]
        command = f"^BY{module}^BCN,{height},N,N,N^FH{HEX}^FD{code128_data(data)}"
        return self.add(Field(x, y, code128_modules(data) * module, height, command))

    def box(self, x: int, y: int, width: int, height: int, thickness: int) -> Field:
        return self.add(Field(x, y, width, height, f"^GB{width},{height},{thickness}"))

    def qr(self, x_right: int, y: int, url: str) -> Field:
        modules = qr_modules(url)
        magnification = max(2, min(10, self.dots(QR_MM) // modules))  # 1 dot: unreadable
        size = modules * magnification
        command = f"^BQN,2,{magnification}^FH{HEX}^FDMA,{hex_escaped(url)}"
        return self.add(Field(x_right - size, y, size, size, command))

    def add(self, field: Field) -> Field:
        self.fields.append(field)
        return field

    def zpl(self) -> str:
        body = "\n".join(f"^FO{f.x},{f.y}{f.zpl}^FS" for f in self.fields)
        return f"^XA\n^CI28\n^PW{self.width}\n^LL{self.height}\n^LH0,0\n{body}\n^XZ\n"


def _paragraphs(label: dict[str, Any], t: Captions) -> list[tuple[list[str], bool]]:
    """The label's text below its codes as the PDF prints it: paragraphs of items (each kept
    whole on a line when it can be), each paragraph (items, framed)."""
    cells = t.each("cells", cells=label["cells"], volume=label["volume"])
    cells[-1] += f" ({label['container']})"
    out = [
        ([f"{t('expires', sep=' / ')} {label['expiry']}"], False),
        ([label["product"], f"{t('label_lot')} {label['lot']}", *cells], False),
    ]
    out += [(texts, False) for texts in label["warnings"]]
    out += [(texts, False) for texts in label["statements"]]
    if not label["usable"]:
        out.append((t.each("not_for_use", state=t.word(label["state"])), True))
    return out


def wrap_items(items: list[str], width: int, height: int, sep: str = " · ") -> list[str]:
    """`items` one after another, separated by `sep`, each whole on its line when it fits on one
    (as the PDF keeps a statement whole), broken as `wrap` breaks it when it does not."""
    lines: list[str] = []
    for item in items:
        if lines and text_width(lines[-1] + sep + item, height) <= width:
            lines[-1] += sep + item
        elif text_width(item, height) <= width:
            lines.append(item)
        else:
            lines += wrap(item, width, height)
    return lines


def _does_not_fit(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"stock": N_("too small for this label")})


def label_zpl(
    label: dict[str, Any], t: Captions, stock_mm: tuple[float, float], dpi: int, font: str
) -> str:
    """One label as one ^XA…^XZ format on a stock of `stock_mm` (width, height). Never a
    preview's: a preview must not be printable as a label."""
    if label["preview"]:
        raise ValueError("a label preview is a PDF, never ZPL")
    mm = DOTS_PER_MM[dpi]
    fmt = _Format(round(stock_mm[0] * mm), round(stock_mm[1] * mm), dpi, font)
    margin, quiet = fmt.dots(MARGIN_MM), QUIET_MODULES * MODULE_DOTS[dpi]
    din, product, expiry = label["symbols"]
    qr = fmt.qr(fmt.width - margin, margin, label["url"])
    x, y = margin + quiet, margin
    # The DIN as people read it, its check character boxed beside it.
    big, pad = fmt.dots(3.2), fmt.dots(0.4)
    eye = fmt.text(x, y + pad, din["eye"], big)
    check_x = eye.x + eye.width + fmt.dots(1.5)
    fmt.box(check_x, y, text_width(din["check"], big) + 2 * pad, big + 2 * pad, 2)
    fmt.text(check_x + pad, y + pad, din["check"], big)
    y += big + 2 * pad + fmt.dots(0.8)
    # 001, then 003 with its eye-readable code beside it, then 005: a row apart each, so that a
    # scan line across one code never crosses another.
    code = fmt.code128(x, y, din["data"], fmt.dots(6.0))
    y += code.height + fmt.dots(1.2)
    code = fmt.code128(x, y, product["data"], fmt.dots(4.5))
    small = fmt.dots(2.2)
    fmt.text(code.x + code.width + quiet, y + code.height - small, product["eye"], small)
    y += code.height + fmt.dots(1.2)
    code = fmt.code128(x, y, expiry["data"], fmt.dots(4.5))
    y += code.height + fmt.dots(1.2)
    if any(f.x + f.width + quiet > qr.x and f.y < qr.y + qr.height for f in fmt.fields[1:]):
        raise _does_not_fit(
            N_("The label's bar codes do not fit the label stock: choose a larger stock.")
        )
    _text_block(fmt, _paragraphs(label, t), margin, max(y, qr.y + qr.height + margin))
    if any(f.x + f.width > fmt.width or f.y + f.height > fmt.height for f in fmt.fields):
        raise _does_not_fit(
            N_("The label's bar codes do not fit the label stock: choose a larger stock.")
        )
    return fmt.zpl()


def _text_block(fmt: _Format, paragraphs: list[tuple[list[str], bool]], x: int, top: int) -> None:
    """The paragraphs from `top` down, wrapped to the stock, at the largest text height at which
    all of them fit; refused when none does (a statement is never cut off)."""
    width, bottom = fmt.width - 2 * x, fmt.height - x
    for mm in TEXT_MM:
        height, pad = fmt.dots(mm), fmt.dots(0.4)
        pitch = math.ceil(height * LINE_SPACING)
        inner = width - 2 * pad
        laid = [
            (wrap_items(items, inner if framed else width, height), framed)
            for items, framed in paragraphs
        ]
        needed = sum(len(lines) * pitch + (2 * pad if framed else 0) for lines, framed in laid)
        if top + needed <= bottom:
            break
    else:
        raise _does_not_fit(
            N_("The label's text does not fit the label stock: choose a larger stock.")
        )
    y = top
    for lines, framed in laid:
        indent = pad if framed else 0
        start = y
        for line in lines:
            fmt.text(x + indent, y + indent, line, height)
            y += pitch
        if framed:
            widest = max(text_width(line, height) for line in lines)
            fmt.box(x, start, widest + 2 * pad, y - start + 2 * pad, 2)
            y += 2 * pad


def labels_zpl(
    labels: Sequence[dict[str, Any]],
    t: Captions,
    stock_mm: tuple[float, float],
    dpi: int,
    font: str,
) -> str:
    """Every label, one format each, in order."""
    return "".join(label_zpl(label, t, stock_mm, dpi, font) for label in labels)
