"""The codes as documents/codes.py draws them are the codes the libraries encode, module for module:
a QR code's lines cover exactly qrcode's dark modules, a Code 128 symbol's rectangles exactly
python-barcode's bars, each inside its quiet zone."""

from __future__ import annotations

import base64
import re

import pypdfium2
import pytest
import qrcode
import weasyprint
from barcode import Code128

from lotrack.documents import codes

PX = 10  # pixels per module in the rasterised page


def svg_of(uri: str) -> str:
    return base64.b64decode(uri.removeprefix("data:image/svg+xml;base64,")).decode("ascii")


def rasterised(uri: str, width: int, height: int) -> list[list[bool]]:
    """The SVG drawn `width` × `height` pixels by WeasyPrint, read back by pdfium: dark or not."""
    html = (
        f"<style>@page {{ size: {width}px {height}px; margin: 0 }} body {{ margin: 0 }}"
        " img { display: block }</style>"
        f'<img src="{uri}" style="width: {width}px; height: {height}px">'
    )
    page = pypdfium2.PdfDocument(weasyprint.HTML(string=html).write_pdf())[0]
    image = page.render(scale=96 / 72).to_pil().convert("L")
    assert image.size == (width, height)
    return [[image.getpixel((x, y)) < 128 for x in range(width)] for y in range(height)]


@pytest.mark.parametrize("text", ["x", "http://127.0.0.1:5000/v/" + "Qz_-9" * 30])
def test_a_qr_code_is_drawn_module_for_module(text: str) -> None:
    code = qrcode.QRCode(error_correction=codes.QR_ERROR_CORRECTION, border=codes.QR_QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    expected = code.get_matrix()  # with its quiet zone
    side = len(expected)
    pixels = rasterised(codes.qr_svg(text), side * PX, side * PX)
    for y, row in enumerate(expected):
        for x, dark in enumerate(row):
            # Each module's centre and its four corners, one pixel in: the whole module, no more.
            for dx, dy in ((PX // 2, PX // 2), (1, 1), (PX - 2, 1), (1, PX - 2), (PX - 2, PX - 2)):
                assert pixels[y * PX + dy][x * PX + dx] is bool(dark), (x, y, dx, dy)
    assert svg_of(codes.qr_svg(text)) == svg_of(codes.qr_svg(text))  # the same bytes each time


def test_a_code_128_symbol_is_drawn_bar_for_bar_at_its_size() -> None:
    data = "=A99992600001500"
    drawn = codes.code128_svg(data, 6.0)
    modules = Code128(data).build()[0]
    quiet = codes.QUIET_MODULES
    assert drawn.width_mm == (len(modules) + 2 * quiet) * codes.MODULE_MM
    assert drawn.height_mm == 6.0
    pixels = rasterised(drawn.uri, (len(modules) + 2 * quiet) * PX, 3 * PX)
    expected = "0" * quiet + modules + "0" * quiet
    for row in (pixels[1], pixels[3 * PX // 2], pixels[-2]):  # top, middle, bottom: full height
        read = "".join("1" if row[i * PX + PX // 2] else "0" for i in range(len(expected)))
        assert read == expected
        edges = "".join(
            "1" if row[i * PX + 1] and row[i * PX + PX - 2] else "0" for i in range(len(expected))
        )
        assert edges == expected
    assert len(re.findall(r"M\d+ 0h\d+", svg_of(drawn.uri))) == expected.count("01")
