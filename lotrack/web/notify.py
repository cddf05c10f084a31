"""Notifications: every e-mail notice and its delivery (QA, the medical director, admins), or a
person's own notices; with no SMTP server configured this page is where notices are read."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from lotrack.domain.mail import MailEvent, MailStatus
from lotrack.domain.permissions import may
from lotrack.request_scope import actor, db_session, setting
from lotrack.services import mail_log
from lotrack.web.guard import permission

bp = Blueprint("notify", __name__)

EVENT_NAMES = {
    MailEvent.HOLD: _l("Hold"),
    MailEvent.RECALL: _l("Recall"),
    MailEvent.OOS_OPENED: _l("OOS investigation opened"),
    MailEvent.EXCEPTIONAL_REQUESTED: _l("Exceptional release requested"),
    MailEvent.EXCEPTIONAL_SIGNED: _l("Exceptional release signed"),
    MailEvent.AE_REPORT_DUE: _l("Adverse event report due"),
    MailEvent.AE_REPORT_OVERDUE: _l("Adverse event report overdue"),
    MailEvent.CALIBRATION_DUE: _l("Calibration due"),
    MailEvent.COLD_CHAIN_EXCURSION: _l("Temperature excursion in transit"),
    MailEvent.EXCURSION_AFTER_INFUSION: _l("Temperature excursion on infused units"),
}
STATUS_NAMES = {
    MailStatus.QUEUED: _l("queued"),
    MailStatus.SENDING: _l("sending"),
    MailStatus.SENT: _l("sent"),
    MailStatus.FAILED: _l("failed"),
    MailStatus.IN_APP: _l("in the app only"),
    MailStatus.NO_ADDRESS: _l("no e-mail address"),
}


@bp.get("/notifications")
@permission("notify.own")
def list_notices() -> ResponseReturnValue:
    filters = mail_log.Filters(
        event=request.args.get("event", "").strip()[:40],
        status=request.args.get("status", "").strip()[:40],
        number=request.args.get("number", "").strip()[:41],
    )
    page = mail_log.list_notices(
        db_session(),
        actor(),
        filters,
        request.args.get("page", 1, type=int),
        setting("PAGE_SIZE"),
    )
    kept = {k: v for k, v in vars(filters).items() if v}
    return render_template(
        "notify/list.html",
        page=page,
        filters=filters,
        kept=kept,
        everyone=may(actor().role, "notify.read"),
        smtp=bool(setting("SMTP_URL")),
        events=EVENT_NAMES,
        statuses=STATUS_NAMES,
    )
