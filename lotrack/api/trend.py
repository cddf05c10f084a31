"""/api/v1 trend (being built)."""

from __future__ import annotations

from lotrack.api.common import Blueprint

bp = Blueprint("trends", __name__, description="trend")
