"""QR codes (qrcode) and Code 128 barcodes (python-barcode) as SVG `data:` URIs for the PDFs.

Both are drawn as vector SVG that WeasyPrint embeds as it is: no raster image, no image library."""

from __future__ import annotations

import base64
import io

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


def code128_svg(text: str) -> str:
    """A Code 128 barcode of `text` without the human-readable line (printed separately)."""
    out = io.BytesIO()
    Code128(text, writer=SVGWriter()).write(
        out,
        options={"write_text": False, "module_width": 0.25, "module_height": 10.0, "quiet_zone": 3},
    )
    return _data_uri(out.getvalue())
