"""What printing a document needs from configuration: the signing key, the public address
its QR codes point to, the label stock and statements, and the languages it prints."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lotrack.documents.bilingual import DEFAULT_LANGUAGES
from lotrack.domain.isbt128_structures import DEFAULT_PRODUCT_PATTERN

STOCKS = {"4x2in": ("101.6mm", "50.8mm"), "100x100mm": ("100mm", "100mm")}


def stock_mm(stock: str) -> tuple[float, float]:
    """A stock's width and height in millimetres (ZPL lays labels out in dots)."""
    width, height = STOCKS[stock]
    return float(width.removesuffix("mm")), float(height.removesuffix("mm"))


@dataclass(frozen=True)
class Printing:
    """What the edges pass in from configuration."""

    key: Ed25519PrivateKey
    base_url: str
    product_name: str = "cfMSC"
    stock: str = "4x2in"
    statements: tuple[str, ...] = ()
    storage: str = ""
    # The languages the certificate and labels print, in order; Chinese statements and storage
    # are printed when "zh_CN" is among them (English ones when "en" is).
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    statements_zh: tuple[str, ...] = ()
    storage_zh: str = ""
    max_labels: int = 100  # labels one PDF may hold (MAX_LABELS_PER_PDF); more come in parts
    # ISBT 128 product code (003) and the pattern its description code matches (config.py).
    product_code: str = "YA000000"
    product_pattern: str = DEFAULT_PRODUCT_PATTERN
    jurisdiction: str = "CN"  # which investigational statement (domain/label_statements.py)
    zpl_font: str = "E:ANMDS.TTF"  # the printer's font for ZPL labels' text (LOTRACK_ZPL_FONT)

    def verify_url(self, token: str) -> str:
        return f"{self.base_url.rstrip('/')}/v/{token}"
