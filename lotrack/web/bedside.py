"""HTML pages: bedside (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bedside", __name__)
