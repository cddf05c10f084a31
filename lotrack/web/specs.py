"""HTML pages: specs (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("specs", __name__)
