"""/api/v1 clinical (being built)."""

from __future__ import annotations

from lotrack.api.common import Blueprint

bp = Blueprint("patients_api", __name__, description="clinical")
