"""`lotrack mail due` (run from a timer) queues the calendar's notices once and sends them;
`lotrack mail send` retries what failed, once its wait is over."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from lotrack.db import utcnow
from lotrack.models import MailOutbox
from lotrack.services import equipment
from tests.conftest import user
from tests.services.test_notify import (  # noqa: F401 — fixtures
    DAY,
    TODAY,
    app_and_inbox,
    free_port,
    mail_app,
    smtp,
)


def due_instrument(app) -> None:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        tech = user(s, "tech")
        instrument = equipment.register_instrument(s, tech, code="BAL-07", name="balance")
        s.flush()
        equipment.record_event(
            s,
            tech,
            instrument,
            kind="calibration",
            performed_on=TODAY - 300 * DAY,
            due_on=TODAY - DAY,  # overdue already
            passed=True,
        )
        s.commit()


def test_mail_due_queues_and_sends_once(app_and_inbox):  # noqa: F811
    app, inbox, _port = app_and_inbox
    due_instrument(app)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["lotrack", "mail", "due"])
    assert first.exit_code == 0 and "3 calibration notice(s)" in first.output
    assert inbox.to("BAL-07") == ["qa", "tech", "tech2"]
    again = runner.invoke(args=["lotrack", "mail", "due"])
    assert "0 calibration notice(s)" in again.output and len(inbox.to("BAL-07")) == 3


def test_mail_send_retries_what_failed(backend, demo_template, tmp_path, smtp):  # noqa: F811
    inbox, port = smtp
    down = free_port()
    for app in mail_app(backend, demo_template, tmp_path, f"smtp://127.0.0.1:{down}"):
        due_instrument(app)
        runner = app.test_cli_runner()
        assert runner.invoke(args=["lotrack", "mail", "due"]).exit_code == 0
        assert "sent 0, failed 0" in runner.invoke(args=["lotrack", "mail", "send"]).output
        with app.extensions["lotrack_db"].sessionmaker() as s:
            s.execute(update(MailOutbox).values(next_attempt_at=utcnow() - dt.timedelta(hours=1)))
            s.commit()
            # The calibration's three and the demo's own due report notices, all failed once.
            failed = s.scalar(
                select(func.count()).select_from(MailOutbox).where(MailOutbox.status == "failed")
            )
        assert failed >= 3
        # The same database, now with the server up (a new app, as after a restart).
        for back_up in mail_app_on(app, tmp_path, f"smtp://127.0.0.1:{port}"):
            sent = back_up.test_cli_runner().invoke(args=["lotrack", "mail", "send"])
            assert f"sent {failed}, failed 0" in sent.output
            assert inbox.to("BAL-07") == ["qa", "tech", "tech2"]


def mail_app_on(app, tmp_path, smtp_url):
    from lotrack import create_app

    other = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOTRACK_DATABASE_URL": app.config["LOTRACK_DATABASE_URL"],
            "LOTRACK_OWNER_DATABASE_URL": app.config["LOTRACK_OWNER_DATABASE_URL"],
            "LOTRACK_SMTP_URL": smtp_url,
        }
    )
    yield other
    other.extensions["lotrack_db"].engine.dispose()
