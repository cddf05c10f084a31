"""/api/v1/worklist: the work waiting on the caller's role, as the home page counts it (the same
service, the same counts; site users' at their own site)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, fields

from lotrack.api.common import Blueprint, permission
from lotrack.i18n import translate
from lotrack.request_scope import actor, db_session, setting
from lotrack.services import worklist as service

bp = Blueprint(
    "api_worklist",
    __name__,
    description="What waits on the caller: each kind of work, its count, where it is done.",
)


class EntryOut(Schema):
    label = fields.String(metadata={"description": "the record, as people name it"})
    detail = fields.String(metadata={"description": "why it waits, in a few words"})
    url = fields.String(metadata={"description": "the page where it is done"})


class ItemOut(Schema):
    kind = fields.String(metadata={"description": "a stable code, e.g. results_to_verify"})
    title = fields.String()
    count = fields.Integer(metadata={"description": "how many wait in all"})
    url = fields.String(allow_none=True, metadata={"description": "where the work is done"})
    oldest = fields.List(fields.Nested(EntryOut), metadata={"description": "the oldest few"})


class WorklistOut(Schema):
    role = fields.String()
    total = fields.Integer()
    work = fields.List(fields.Nested(ItemOut), metadata={"description": "one per kind of work"})


def _url(link: service.Link | None) -> str | None:
    return url_for(link.endpoint, **link.kwargs) if link is not None else None


@bp.route("/worklist")
@permission("worklist.read")
@bp.response(200, WorklistOut)
def get_worklist() -> dict[str, Any]:
    """The caller's worklist: the home page's counts, each with its page and oldest records"""
    rules = service.VisitRules(setting("VISIT_DAY"), setting("VISIT_WINDOW_DAYS"))
    work = service.worklist(db_session(), actor(), rules)
    return {
        "role": work.role,
        "total": work.total,
        "work": [
            {
                "kind": i.kind,
                "title": translate(i.title),
                "count": i.count,
                "url": _url(i.link),
                "oldest": [
                    {"label": e.label, "detail": translate(e.detail), "url": _url(e.link)}
                    for e in i.entries
                ],
            }
            for i in work.items
        ],
    }
