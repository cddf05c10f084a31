"""Sending the mail outbox: right after the transaction that queued a notice commits (a session
hook, `install`), and again by `lotrack mail send` for what failed (cron or a systemd timer).

Each row is claimed by a guarded update (queued or failed → sending, in its own committed
transaction) before it is handed to the server, so two senders never send one notice; the result
(sent, or failed with the server's error and when to try again) is written back on the row."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import and_, event, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from lotrack.db import utcnow
from lotrack.domain.mail import RETRYABLE, STALE_CLAIM, MailStatus, SmtpServer, retry_at
from lotrack.models import MailOutbox
from lotrack.services.notify import NEW_KEY, MailSettings, settings

log = logging.getLogger(__name__)


@dataclass
class Sent:
    sent: int = 0
    failed: int = 0


def _claim(session: Session, row_id: int) -> MailOutbox | None:
    """Take one row for sending, or None when another sender has it or it is not due."""
    now = utcnow()
    due = and_(
        MailOutbox.status.in_([s.value for s in RETRYABLE]),
        or_(MailOutbox.next_attempt_at.is_(None), MailOutbox.next_attempt_at <= now),
    )
    stale = and_(
        MailOutbox.status == MailStatus.SENDING.value,
        MailOutbox.last_attempt_at < now - STALE_CLAIM,
    )
    done = session.execute(
        update(MailOutbox)
        .where(MailOutbox.id == row_id, or_(due, stale))
        .values(
            status=MailStatus.SENDING.value,
            attempts=MailOutbox.attempts + 1,
            last_attempt_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return session.get(MailOutbox, row_id) if done.rowcount == 1 else None


def _message(server: SmtpServer, row: MailOutbox) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = server.sender
    msg["To"] = row.address
    msg["Subject"] = row.subject
    msg["Message-ID"] = make_msgid(domain="lotrack")
    # The outbox key: a reader (or a mail filter) sees which notice this is.
    msg["X-Lotrack-Notice"] = row.key
    msg.set_content(row.body)
    return msg


def _connect(server: SmtpServer, timeout: float) -> smtplib.SMTP:
    if server.tls:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host, server.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=timeout)
        if server.starttls:
            smtp.starttls(context=ssl.create_default_context())
    if server.username:
        smtp.login(server.username, server.password)
    return smtp


def send(maker: sessionmaker[Session], config: MailSettings, ids: Iterable[int]) -> Sent:
    """Send these outbox rows that are due, over one connection; record each one's outcome."""
    outcome = Sent()
    server = config.server
    if server is None:
        return outcome
    smtp: smtplib.SMTP | None = None
    try:
        with maker() as session:
            for row_id in ids:
                row = _claim(session, row_id)
                if row is None:
                    continue
                try:
                    if smtp is None:
                        smtp = _connect(server, config.timeout)
                    smtp.send_message(_message(server, row))
                except (OSError, smtplib.SMTPException) as err:
                    smtp = None  # a broken conversation is not reused
                    now = utcnow()
                    row.status = MailStatus.FAILED
                    row.last_error = f"{type(err).__name__}: {err}"[:2000]
                    row.next_attempt_at = retry_at(row.attempts, now)
                    outcome.failed += 1
                else:
                    row.status = MailStatus.SENT
                    row.sent_at = utcnow()
                    row.last_error = ""
                    row.next_attempt_at = None
                    outcome.sent += 1
                session.commit()
    finally:
        if smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
    return outcome


def pending_ids(session: Session) -> list[int]:
    """The rows due for an attempt now, oldest first (failed ones after their wait)."""
    now = utcnow()
    return list(
        session.scalars(
            select(MailOutbox.id)
            .where(
                or_(
                    and_(
                        MailOutbox.status.in_([s.value for s in RETRYABLE]),
                        MailOutbox.next_attempt_at.is_not(None),
                        MailOutbox.next_attempt_at <= now,
                    ),
                    and_(
                        MailOutbox.status == MailStatus.SENDING.value,
                        MailOutbox.last_attempt_at < now - STALE_CLAIM,
                    ),
                )
            )
            .order_by(MailOutbox.id)
        )
    )


def install(maker: sessionmaker[Session]) -> None:
    """Send what a transaction queued once it commits; forget it when it rolls back."""

    @event.listens_for(maker, "after_commit")
    def _after_commit(session: Session) -> None:
        rows = session.info.pop(NEW_KEY, None)
        if not rows:
            return
        ids = [r.id for r in rows]
        try:
            send(maker, settings(session), ids)
        except Exception:
            log.exception(
                "sending notices %s after commit failed; `lotrack mail send` retries", ids
            )

    @event.listens_for(maker, "after_rollback")
    def _after_rollback(session: Session, *_args: Any) -> None:
        session.info.pop(NEW_KEY, None)
