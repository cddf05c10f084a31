"""QR codes (qrcode) and Code 128 barcodes (python-barcode) as SVG `data:` URIs for the PDFs.

Both are drawn as vector SVG that WeasyPrint embeds as it is: no raster image, no image library."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import qrcode
import qrcode.constants
from barcode import Code128
from barcode.writer import SVGWriter
from qrcode.image.svg import SvgPathFillImage

QR_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M  # recovers about 15% of a damaged code
QR_QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def qr_svg(text: str) -> str:
    """A QR code of `text` (error correction M, quiet zone of 4 modules) as a data: URI: one SVG
    path of square modules on a white square, sized by the page that shows it."""
    code = qrcode.QRCode(
        error_correction=QR_ERROR_CORRECTION,
        border=QR_QUIET_ZONE,
        box_size=10,  # 1 mm per module in the SVG's own units; the <img> scales it
        image_factory=SvgPathFillImage,
    )
    code.add_data(text)
    code.make(fit=True)  # the smallest version that holds `text` at level M
    out = io.BytesIO()
    code.make_image().save(out)
    return _data_uri(out.getvalue())


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
    own size: 0.25 mm modules and a quiet zone of ten modules each side."""
    code = Code128(text, writer=SVGWriter())
    out = io.BytesIO()
    code.write(
        out,
        options={
            "write_text": False,
            "module_width": MODULE_MM,
            "module_height": bar_height_mm,
            "quiet_zone": QUIET_MODULES * MODULE_MM,
            "margin_top": 0,  # the page places it; no white band above or below the bars
            "margin_bottom": 0,
        },
    )
    modules = len(code.build()[0])
    width = (modules + 2 * QUIET_MODULES) * MODULE_MM
    return Drawn(_data_uri(out.getvalue()), round(width, 3), bar_height_mm)
