"""HTML pages: trend (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("trend", __name__)
