"""/api/v1 deviation (being built)."""

from __future__ import annotations

from lotrack.api.common import Blueprint

bp = Blueprint("deviations", __name__, description="deviation")
