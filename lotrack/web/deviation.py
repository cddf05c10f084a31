"""HTML pages: deviation (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("deviation", __name__)
