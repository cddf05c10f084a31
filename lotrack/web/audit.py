"""The audit trail for QA and administrators: a filterable log, chain verification, and the
history of one record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer

from lotrack.db import Base
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_
from lotrack.i18n import spoken, translate
from lotrack.request_scope import audit_anchor, db_session, setting
from lotrack.schemas import parse
from lotrack.schemas.admin import AuditFilterIn
from lotrack.services import audit, record_names
from lotrack.services.audit_verify import Resume, VerifyReport, chain_length
from lotrack.web.guard import permission

bp = Blueprint("audit", __name__, url_prefix="/audit")

FILTERS = ("actor", "entity_type", "entity_id", "since", "until")


@bp.app_context_processor
def _names() -> dict[str, Any]:
    """History panels on every page name the records their events refer to (one query per kind
    of record named, whatever the number of events)."""

    def names(events: list[Any], every_kind: bool = False) -> record_names.Names:
        return record_names.names_for(db_session(), events, every_kind=every_kind)

    return {"record_names": names}


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _criteria(data: dict[str, Any]) -> dict[str, Any]:
    """The form's values as `audit.search` takes them: UTC days become [since, until)."""
    since, until = data["since"], data["until"]
    if since and until and until < since:
        raise ValidationFailed(
            N_("The date range ends before it starts."), {"until": N_("on or after the start date")}
        )
    return {
        "actor": data["actor"],
        "entity_type": data["entity_type"],
        "entity_id": data["entity_id"],
        "since": _start_of(since) if since else None,
        "until": _start_of(until + dt.timedelta(days=1)) if until else None,
        "page": data["page"],
    }


def entity_types() -> list[str]:
    """Every kind of record the trail can name: the tables the models declare."""
    return sorted(t for t in Base.metadata.tables if not t.startswith("audit_"))


@bp.get("")
@permission("audit.read")
def audit_log() -> ResponseReturnValue:
    values = {k: request.args.get(k, "").strip() for k in FILTERS}
    errors: dict[str, str] = {}
    result = None
    try:
        criteria = _criteria(parse(AuditFilterIn(), request.args.to_dict()))
        result = audit.search(db_session(), per_page=setting("PAGE_SIZE"), **criteria)
    except ValidationFailed as err:
        message, fields = spoken(err.message, err.fields)
        errors = fields or {"_schema": message}
    query = {k: v for k, v in values.items() if v}
    return render_template(
        "audit/log.html",
        result=result,
        values=values,
        query=query,
        errors=errors,
        entity_types=entity_types(),
    ), (422 if errors else 200)


def _walks() -> URLSafeTimedSerializer:
    """Signs where a walk in steps stopped, so that a step resumes only where a step of ours
    left off (an edited URL cannot skip events and still be told "intact")."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="lotrack-audit-verify")


def _resume(token: str) -> Resume | None:
    """The walk's place from the URL; none (start again from event 1) if absent, altered or
    older than a day."""
    if not token:
        return None
    try:
        next_seq, prev_hash, agreed = _walks().loads(token, max_age=86400)
        return Resume(int(next_seq), str(prev_hash), int(agreed))
    except (BadSignature, TypeError, ValueError):
        return None


@bp.get("/verify")
@permission("audit.read")
def verify_chain() -> ResponseReturnValue:
    """One bounded step of the walk (AUDIT_VERIFY_EVENTS_PER_REQUEST events): the page reports
    how far it got and reloads itself to go on; the CLI walks the whole chain in one go."""
    session = db_session()
    start = _resume(request.args.get("walk", ""))
    report = audit.verify(
        session, audit_anchor(), start, setting("AUDIT_VERIFY_EVENTS_PER_REQUEST")
    )
    walk = None
    if report.resume is not None:
        at = report.resume
        walk = url_for(".verify_chain", walk=_walks().dumps([at.next_seq, at.prev_hash, at.agreed]))
    return render_template(
        "audit/verify.html",
        report=report,
        verdict=verdict(report),
        walk=walk,
        total=max(chain_length(session), report.checked),
    )


def verdict(report: VerifyReport) -> str:
    """The report's finding as a sentence in the reader's language."""
    return _("%(finding)s.", finding=translate(report.message))


@bp.get("/record/<entity_type>/<path:entity_id>")
@permission("audit.read")
def record(entity_type: str, entity_id: str) -> ResponseReturnValue:
    history = audit.history(db_session(), entity_type, entity_id)
    return render_template(
        "audit/record.html", entity_type=entity_type, entity_id=entity_id, history=history
    )
