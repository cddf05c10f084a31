"""What a label print produced: a PDF sheet, or ZPL II for a thermal label printer at one of the
two resolutions such printers come in. Recorded with each print (label_print.output, .dpi)."""

from __future__ import annotations

from enum import StrEnum


class LabelOutput(StrEnum):
    PDF = "pdf"
    ZPL = "zpl"


# Thermal printers print at 8 dots/mm (203 dpi) or 12 dots/mm (300 dpi); ZPL is laid out in dots,
# so a format made for one is the wrong size on the other.
ZPL_DPIS = (203, 300)
