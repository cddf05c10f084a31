"""The ISBT 128 data structures survive a Code 128 symbol: printed with python-barcode (as
documents/codes.py prints the DIN) and read back by zxing-cpp, each gives back its data."""

from __future__ import annotations

import datetime as dt

import pytest
import zxingcpp
from barcode import Code128
from barcode.writer import ImageWriter

from lotrack.domain.isbt128_expiry import expiry_symbol, parse_005
from lotrack.domain.isbt128_structures import (
    Symbol,
    din_symbol,
    parse_001,
    parse_003,
    product_symbol,
)

ZONE = "Asia/Shanghai"


def read_back(data: str) -> str:
    """`data` as a Code 128 image, as a scanner reads it."""
    image = Code128(data, writer=ImageWriter()).render({"write_text": False, "dpi": 300})
    found = [b for b in zxingcpp.read_barcodes(image) if b.format == zxingcpp.BarcodeFormat.Code128]
    assert len(found) == 1, found
    return found[0].text


@pytest.mark.parametrize(
    "symbol",
    [
        din_symbol("G123417654321"),  # isbt128.md ST-001 example: "=G12341765432170"
        product_symbol("YA000000"),  # isbt128.md 003: "=<" + 8, YA000-YZ999 clinical trial
        expiry_symbol(dt.date(2026, 12, 31), ZONE),  # isbt128.md 005: "&>0263652359"
    ],
)
def test_each_structure_reads_back_from_its_code_128(symbol: Symbol) -> None:
    assert read_back(symbol.data) == symbol.data


def test_what_a_scanner_reads_parses_to_the_values_printed() -> None:
    assert parse_001(read_back(din_symbol("G123417654321").data)).din == "G123417654321"
    assert parse_003(read_back(product_symbol("YA000000").data)).code == "YA000000"
    read = parse_005(read_back(expiry_symbol(dt.date(2026, 12, 31), ZONE).data), ZONE).local
    assert (read.date(), read.hour, read.minute) == (dt.date(2026, 12, 31), 23, 59)
