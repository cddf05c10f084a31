"""HTML pages: result (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("result", __name__)
