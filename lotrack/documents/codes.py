"""QR codes (segno) and Code 128 barcodes (python-barcode) as SVG `data:` URIs for the PDFs."""

from __future__ import annotations

import base64
import io

import segno
from barcode import Code128
from barcode.writer import SVGWriter


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def qr_svg(text: str) -> str:
    """A QR code of `text` (error correction M, quiet zone of 4 modules) as a data: URI."""
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="svg", border=4, scale=4, xmldecl=False)
    return _data_uri(out.getvalue())


def code128_svg(text: str) -> str:
    """A Code 128 barcode of `text` without the human-readable line (printed separately)."""
    out = io.BytesIO()
    Code128(text, writer=SVGWriter()).write(
        out,
        options={"write_text": False, "module_width": 0.25, "module_height": 10.0, "quiet_zone": 3},
    )
    return _data_uri(out.getvalue())
