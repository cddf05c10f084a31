"""Input schemas of the lot's documents: certificates of analysis and unit labels."""

from __future__ import annotations

from lotrack.schemas.base import InputSchema, text_field


class ReasonOptional(InputSchema):
    """Why, when it must be said (a re-issue or a reprint); empty the first time."""

    reason = text_field(max=2000, required=False, load_default="")
