"""HTML pages: containment (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("containment", __name__)
