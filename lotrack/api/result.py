"""/api/v1 result (being built)."""

from __future__ import annotations

from lotrack.api.common import Blueprint

bp = Blueprint("results", __name__, description="result")
