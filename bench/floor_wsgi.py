"""The bedside floor's app: lotrack's own app (`wsgi:app`, every middleware, the same
request-scoped unit of work) with one bench-only endpoint, `POST /api/bench/floor`.

The floor authenticates the bearer token as every API request does (security._identify, the
token's last-use stamp included), checks the role may scan, writes one audited row and commits:
what any audited API write costs at least. The bedside check is measured against it in the same
gunicorn run (bench/load.py). Never served outside the bench.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from lotrack import create_app
from lotrack.api.common import authenticate
from lotrack.domain.permissions import require
from lotrack.request_scope import actor, db_session
from lotrack.security import csrf
from lotrack.services import audit

FLOOR_PATH = "/api/bench/floor"

floor = Blueprint("bench_floor", __name__, url_prefix="/api/bench")
floor.before_request(authenticate)
csrf.exempt(floor)  # a bearer token, as the API's blueprints


@floor.route("/floor", methods=["POST"])
def write_one() -> dict[str, Any]:
    """One audited row, committed by the request's unit of work."""
    who = actor()
    require(who.role, "bedside.scan")
    audit.event(db_session(), who, "bench_floor", ("bench", "floor"), {"by": who.username})
    return {"ok": True}


app = create_app()
app.register_blueprint(floor)
