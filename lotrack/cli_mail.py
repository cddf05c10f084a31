"""`flask --app wsgi lotrack mail ...`: e-mail notices (services/notify.py). Run `mail due` and
`mail send` from cron or a systemd timer (README): the first queues the notices the calendar
raises, the second retries what failed."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lotrack.request_scope import database
from lotrack.services import mail_sender, notify_due
from lotrack.services.notify import settings

mail_cli = AppGroup("mail", help="E-mail notices.")


@mail_cli.command("due")
def mail_due_command() -> None:
    """Queue the adverse-event report and calibration notices due today (each once), then send."""
    with database().sessionmaker() as session:
        queued = notify_due.queue_due(session)
        session.commit()  # the sender runs after this commit (services/mail_sender.py)
    click.echo(
        f"queued {queued.reports} adverse-event report notice(s) and"
        f" {queued.calibrations} calibration notice(s)."
    )


@mail_cli.command("send")
def mail_send_command() -> None:
    """Send every queued notice, and every failed one whose wait is over (up to 6 attempts)."""
    db = database()
    with db.sessionmaker() as session:
        config = settings(session)
        ids = mail_sender.pending_ids(session)
    if config.server is None:
        click.echo("LOTRACK_SMTP_URL is not set: notices are shown in the app only.")
        return
    outcome = mail_sender.send(db.sessionmaker, config, ids)
    click.echo(f"sent {outcome.sent}, failed {outcome.failed}.")
