"""HTML pages: clinical (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("clinical", __name__)
