"""Input schemas of the lot's documents: certificates of analysis and unit labels."""

from __future__ import annotations

from lotrack.domain.label_output import ZPL_DPIS
from lotrack.schemas.base import InputSchema, int_field, text_field


class ReasonOptional(InputSchema):
    """Why, when it must be said (a re-issue or a reprint); empty the first time."""

    reason = text_field(max=2000, required=False, load_default="")


class PartArgs(InputSchema):
    """Which part of a long document to render; none: the whole, when it fits in one."""

    part = int_field(
        required=False,
        load_default=None,
        metadata={"description": "1, 2, ...: needed when the document is longer than one part"},
    )


class ZplPrint(ReasonOptional):
    """A print of labels as ZPL II: the printer's resolution, and why when it is a reprint."""

    dpi = int_field(
        metadata={
            "enum": list(ZPL_DPIS),
            "description": "the thermal printer's resolution: 203 (8 dots/mm) or 300 (12 dots/mm)",
        }
    )
