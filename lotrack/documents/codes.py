"""QR codes (qrcode) and Code 128 barcodes (python-barcode) as SVG `data:` URIs for the PDFs.

Both are drawn as vector SVG that WeasyPrint embeds as it is: no raster image, no image library.
The libraries encode; the SVG is written here, a white box and one black `<path>` on it, because
WeasyPrint parses every path command and draws every element in Python: a label's QR code as
qrcode writes it (a square subpath per module) cost more than laying out the rest of the label,
and python-barcode writes an element per bar. Here a QR code is lines one module wide through the
modules' centres, a Code 128 symbol one rectangle per bar."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import qrcode
import qrcode.constants
from barcode import Code128

QR_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M  # recovers about 15% of a damaged code
QR_QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("ascii")).decode("ascii")


def _svg(width: float, height: float, path: str, stroked: bool = False) -> str:
    """A white `width` × `height` box (in the SVG's own units) and `path` on it in black: filled,
    or `stroked` one unit wide with square ends cut at the path's ends (butt caps)."""
    stroke = 'fill="none" stroke="#000" stroke-width="1" stroke-linecap="butt"'
    paint = stroke if stroked else 'fill="#000"'
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1"'
        f' viewBox="0 0 {width:g} {height:g}" width="{width:g}" height="{height:g}">'
        f'<rect width="{width:g}" height="{height:g}" fill="#fff"/>'
        f'<path {paint} d="{path}"/></svg>'
    )


def _runs(row: Sequence[bool]) -> list[tuple[int, int]]:
    """The dark runs of one row of modules, as (start, length)."""
    runs, start = [], None
    for x, dark in enumerate([*row, False]):
        if dark and start is None:
            start = x
        elif not dark and start is not None:
            runs.append((start, x - start))
            start = None
    return runs


def _lines(rows: Sequence[Sequence[bool]], at: int) -> list[str]:
    """The dark modules as lines one module wide, through the modules' centres: each row's runs
    of two modules or more across, then what is left of each column down. A line from x to
    x + w at y + ½, stroked one unit wide with butt caps, covers exactly the modules x … x + w − 1
    of row y; a rectangle would take twice the path commands. Module (0, 0) is drawn at (at, at)."""
    left = [list(row) for row in rows]
    lines = []
    for y, row in enumerate(rows):
        for x, w in _runs(row):
            if w > 1:
                lines.append(f"M{x + at} {y + at}.5h{w}")
                left[y][x : x + w] = [False] * w
    for x in range(len(rows)):
        for y, h in _runs([row[x] for row in left]):
            lines.append(f"M{x + at}.5 {y + at}v{h}")
    return lines


def qr_svg(text: str) -> str:
    """A QR code of `text` (error correction M, quiet zone of 4 modules) as a data: URI: one SVG
    path of the dark modules on a white square, one unit per module, sized by the page."""
    code = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, border=QR_QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)  # the smallest version that holds `text` at level M, its best mask
    side = code.modules_count + 2 * QR_QUIET_ZONE
    path = "".join(_lines(code.modules, QR_QUIET_ZONE))  # type: ignore[arg-type]
    return _data_uri(_svg(side, side, path, stroked=True))


@dataclass(frozen=True)
class Drawn:
    """An SVG `data:` URI and the size it is drawn at, in millimetres."""

    uri: str
    width_mm: float
    height_mm: float


MODULE_MM = 0.25  # about 3 dots of a 300 dpi printer, 2 of a 203 dpi one
QUIET_MODULES = 10  # the least quiet zone Code 128 asks, each side


def code128_svg(text: str, bar_height_mm: float = 10.0) -> Drawn:
    """A Code 128 barcode of `text` without the human-readable line (printed separately), at its
    own size: 0.25 mm modules and a quiet zone of ten modules each side. python-barcode encodes
    (start, code sets, check character, stop); each bar is one rectangle of the path, in modules."""
    modules = Code128(text).build()[0]
    bars = _runs([m == "1" for m in modules])
    path = "".join(f"M{x + QUIET_MODULES} 0h{w}v1h-{w}z" for x, w in bars)
    width = len(modules) + 2 * QUIET_MODULES
    # One unit per module across, one unit high: the <img> stretches it to `bar_height_mm`.
    svg = _svg(width, 1, path).replace("<svg ", '<svg preserveAspectRatio="none" ', 1)
    return Drawn(_data_uri(svg), round(width * MODULE_MM, 3), bar_height_mm)
