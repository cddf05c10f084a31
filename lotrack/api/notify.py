"""/api/v1/notifications: the e-mail notices and their delivery, as the Notifications page shows
them (every notice to QA, the medical director and admins; anyone else their own)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from lotrack.api import schemas as out
from lotrack.api.common import Blueprint, permission
from lotrack.domain.mail import MailEvent, MailStatus
from lotrack.models import MailOutbox
from lotrack.request_scope import actor, db_session
from lotrack.schemas.base import Length, OneOf
from lotrack.schemas.paging import PageArgs
from lotrack.services import mail_log
from lotrack.services.common import Page

bp = Blueprint("api_notify", __name__, description="E-mail notices and their delivery.")


class NoticePageArgs(PageArgs):
    event = fields.String(validate=OneOf([e.value for e in MailEvent]))
    status = fields.String(validate=OneOf([s.value for s in MailStatus]))
    number = fields.String(
        validate=Length(min=1, max=40), metadata={"description": "the record's number or code"}
    )


class NoticeOut(Schema):
    id = fields.Integer()
    event = fields.String()
    number = fields.String()
    recipient = fields.Function(lambda n: n.recipient.username if n.recipient else None)
    address = fields.String()
    language = fields.String(allow_none=True)
    subject = fields.String()
    body = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)


@bp.route("/notifications")
@permission("notify.own")
@bp.arguments(NoticePageArgs, location="query")
@bp.response(200, out.page_of(NoticeOut, "NoticePage"))
def list_notices(args: dict[str, Any]) -> Page[MailOutbox]:
    """E-mail notices, newest first, with their delivery status"""
    filters = mail_log.Filters(
        event=args.get("event", ""), status=args.get("status", ""), number=args.get("number", "")
    )
    return mail_log.list_notices(db_session(), actor(), filters, args["page"], args["per_page"])
