"""/api/v1 specs (being built)."""

from __future__ import annotations

from lotrack.api.common import Blueprint

bp = Blueprint("spec_versions", __name__, description="specs")
