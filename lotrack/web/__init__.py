"""HTML edge: one blueprint per concept."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lotrack.web import auth, home

    app.register_blueprint(home.bp)
    app.register_blueprint(auth.bp)
