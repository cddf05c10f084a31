"""HTML pages: investigation (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("investigation", __name__)
