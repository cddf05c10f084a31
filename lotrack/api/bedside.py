"""/api/v1 bedside (being built)."""

from __future__ import annotations

from lotrack.api.common import Blueprint

bp = Blueprint("bedside_api", __name__, description="bedside")
