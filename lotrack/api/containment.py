"""/api/v1 containment (being built)."""

from __future__ import annotations

from lotrack.api.common import Blueprint

bp = Blueprint("containments", __name__, description="containment")
