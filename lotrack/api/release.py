"""/api/v1 release (being built)."""

from __future__ import annotations

from lotrack.api.common import Blueprint

bp = Blueprint("decisions", __name__, description="release")
