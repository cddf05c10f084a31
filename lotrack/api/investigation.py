"""/api/v1 investigation (being built)."""

from __future__ import annotations

from lotrack.api.common import Blueprint

bp = Blueprint("investigations", __name__, description="investigation")
