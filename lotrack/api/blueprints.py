"""The list of API blueprints, in the order they appear in the OpenAPI document."""

from __future__ import annotations

from flask_smorest import Blueprint

ALL: list[Blueprint] = []
