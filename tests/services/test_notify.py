"""E-mail notices reach a real SMTP server (aiosmtpd, on a free local port) once each, after the
transaction that raised them commits: holds and recalls (QA, the medical director, the sites the
units went to), an OOS opened (QA), an exceptional release requested (the medical director and
QA) and signed (the requester and the patient's site), adverse-event reports due and overdue (the
site's investigator and QA) and calibrations due (technicians and QA). A rolled-back transaction
sends nothing; a server that is down leaves the notice failed with its error, and a later retry
sends it once; without LOTRACK_SMTP_URL nothing is sent and the notice is shown in the app."""

from __future__ import annotations

import datetime as dt
import email
import socket
from collections.abc import Iterator
from email.message import Message
from email.policy import default
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack import create_app
from lotrack.db import utcnow
from lotrack.domain.mail import MailStatus
from lotrack.models import MailOutbox
from lotrack.services import equipment, mail_sender, notify_due
from lotrack.services import lot as lots
from tests.conftest import FACILITY, Backend, user
from tests.services.test_clinical import enrol
from tests.services.test_exceptional_release import ask, sign
from tests.services.test_investigations import failed
from tests.services.test_release import qa_contains

TODAY = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
DAY = dt.timedelta(days=1)
SZ_STAFF = {"nurse", "nurse2", "doctor"}  # the demo's SZ-GIMI site, where its units went


class Inbox:
    """What the test SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = email.message_from_bytes(envelope.content, policy=default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, about: str = "") -> list[str]:
        """Each message's recipient's user name (the demo's addresses are user@example.org), of
        the messages whose subject names `about`."""
        return sorted(
            r.split("@")[0] for rcpts, m in self.messages if about in m["Subject"] for r in rcpts
        )

    def clear(self) -> None:
        self.messages.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def mail_app(backend: Backend, template: str, tmp_path: Path, smtp_url: str) -> Iterator[Flask]:
    url = backend.clone(template)
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_OWNER_DATABASE_URL": backend.owner_url(url),
            "LOTRACK_FACILITY_ID": FACILITY,
            "LOTRACK_SMTP_URL": smtp_url,
            "LOTRACK_PUBLIC_BASE_URL": "https://lotrack.example.org",
            "LOTRACK_SMTP_TIMEOUT": 5,
        }
    )
    yield app
    app.extensions["lotrack_db"].engine.dispose()
    backend.drop(url)


@pytest.fixture
def app_and_inbox(backend, demo_template, tmp_path, smtp) -> Iterator[tuple[Flask, Inbox, int]]:
    inbox, port = smtp
    yield from (
        (app, inbox, port)
        for app in mail_app(backend, demo_template, tmp_path, f"smtp://127.0.0.1:{port}")
    )


@pytest.fixture
def s(app_and_inbox) -> Iterator[Session]:
    app, _inbox, _port = app_and_inbox
    with app.extensions["lotrack_db"].sessionmaker() as session:
        yield session


@pytest.fixture
def inbox(app_and_inbox) -> Inbox:
    return app_and_inbox[1]


def outbox(s: Session, event: str, number: str = "") -> list[MailOutbox]:
    """The outbox rows of an event (of one record's number), beyond the demo's own."""
    s.expire_all()
    stmt = select(MailOutbox).where(MailOutbox.event == event)
    return list(s.scalars(stmt.where(MailOutbox.number == number) if number else stmt))


def test_a_recall_reaches_qa_the_medical_director_and_the_sites_staff_once_after_commit(s, inbox):
    lot = lots.get_lot(s, "CFM-2025-0001")
    record = qa_contains(s, "recall", reason="serum lot contaminated", lot=lot)
    assert inbox.messages == []  # not before the commit
    s.commit()
    assert inbox.to() == sorted({"qa", "md", *SZ_STAFF})
    _rcpts, msg = inbox.messages[0]
    assert record.number in msg["Subject"] and "召回" in msg["Subject"]
    body = msg.get_content()
    assert body.index("召回") < body.index("recalled")  # Chinese first, then English
    assert f"https://lotrack.example.org/containments/{record.number}" in body
    assert "serum lot contaminated" in body
    rows = outbox(s, "recall", record.number)
    assert {r.status for r in rows} == {MailStatus.SENT} and all(r.sent_at for r in rows)
    # A later retry finds nothing to send: each notice once.
    app_sent = mail_sender.pending_ids(s)
    assert app_sent == []
    assert len(inbox.messages) == len(rows)


def test_a_reader_who_chose_english_gets_english_only(s, inbox):
    md = user(s, "md")
    md.language = "en"  # type: ignore[assignment]
    s.commit()
    qa_contains(s, "hold", reason="complaint: bag leaking", lot=lots.get_lot(s, "CFM-2025-0001"))
    s.commit()
    (msg,) = [m for r, m in inbox.messages if r == ["md@example.org"]]
    assert msg["Subject"].startswith("Hold HLD-") and "暂停" not in msg.get_content()


def test_a_hold_of_a_lot_never_shipped_tells_qa_and_the_medical_director_only(s, inbox):
    from tests.services.test_release import new_lot

    lot = new_lot(s)
    qa_contains(s, "hold", reason="investigating", lot=lot)
    s.commit()
    assert inbox.to() == ["md", "qa"]


def test_an_oos_opened_tells_qa(s, inbox):
    _lot, inv = failed(s)
    s.commit()
    assert inbox.to(inv.number) == ["qa"]


def test_an_exceptional_release_requested_then_signed(s, inbox):
    lot = lots.get_lot(s, "CFM-2025-0003")
    er = ask(s, lot)
    s.commit()
    assert inbox.to() == ["md", "qa"]
    inbox.clear()
    sign(s, er, user(s, "qa"))
    s.commit()
    assert inbox.messages == []  # one signature: not yet signed
    sign(s, er, user(s, "md"))
    s.commit()
    # The requester (QA) and the patient's site.
    assert inbox.to() == sorted({"qa", *SZ_STAFF})
    assert all(er.number in m["Subject"] for _r, m in inbox.messages)


def test_adverse_event_reports_due_and_overdue_tell_the_investigator_and_qa_once(s, inbox):
    from lotrack.services import adverse

    notify_due.queue_due(s)  # the demo's own serious fever: its notices are not this test's
    s.commit()
    inbox.clear()
    nurse = user(s, "nurse")
    patient = enrol(s, nurse, "P-AE1")
    adverse.record_adverse_event(
        s,
        user(s, "doctor"),
        patient,
        term="Hypotension",
        grade=3,
        onset_on=TODAY - 3 * DAY,
        aware_on=TODAY - 3 * DAY,
        attribution="probable",
        seriousness=["hospitalization"],
        outcome="recovering",
    )
    s.commit()
    inbox.clear()  # an event recorded tells no one by itself; the calendar does
    queued = notify_due.queue_due(s)
    s.commit()
    assert queued.reports == 4  # sponsor overdue, regulatory due; each to doctor and qa
    assert inbox.to() == ["doctor", "doctor", "qa", "qa"]
    subjects = sorted(m["Subject"] for _r, m in inbox.messages)
    assert any("已逾期" in x and "overdue" in x for x in subjects)
    assert any("即将到期" in x for x in subjects)
    inbox.clear()
    assert notify_due.queue_due(s).reports == 0  # the next scan queues nothing again
    s.commit()
    assert inbox.messages == []


def test_a_calibration_due_tells_the_technicians_and_qa_once(s, inbox):
    notify_due.queue_due(s)  # the demo's own due adverse-event reports: not this test's
    s.commit()
    inbox.clear()
    tech = user(s, "tech")
    instrument = equipment.register_instrument(s, tech, code="PH-09", name="pH meter")
    s.flush()
    equipment.record_event(
        s,
        tech,
        instrument,
        kind="calibration",
        performed_on=TODAY - 360 * DAY,
        due_on=TODAY + 5 * DAY,
        passed=True,
    )
    s.commit()
    queued = notify_due.queue_due(s)
    s.commit()
    assert queued.calibrations == 3
    assert inbox.to() == ["qa", "tech", "tech2"]
    assert notify_due.queue_due(s).calibrations == 0


def test_a_rolled_back_transaction_sends_nothing(s, inbox):
    record = qa_contains(s, "recall", reason="recall", lot=lots.get_lot(s, "CFM-2025-0001"))
    number = record.number
    s.rollback()
    assert inbox.messages == [] and outbox(s, "recall", number) == []


def test_smtp_down_fails_with_the_error_and_a_retry_sends_once(
    backend, demo_template, tmp_path, smtp
):
    inbox, port = smtp
    down = free_port()  # nothing listens there
    for app in mail_app(backend, demo_template, tmp_path, f"smtp://127.0.0.1:{down}"):
        maker = app.extensions["lotrack_db"].sessionmaker
        with maker() as s:
            _lot, inv = failed(s)
            number = inv.number
            s.commit()  # the commit stands although the server is down
            (row,) = outbox(s, "oos_opened", number)
            assert (row.status, row.attempts) == (MailStatus.FAILED, 1)
            assert "ConnectionRefusedError" in row.last_error and row.next_attempt_at
            assert mail_sender.pending_ids(s) == []  # waits before the next attempt
            for failed_row in s.scalars(select(MailOutbox).where(MailOutbox.status == "failed")):
                failed_row.next_attempt_at = utcnow() - DAY  # its wait is over
            s.commit()
        # The server is back (the same database, the working server): the retry sends once.
        config = s.info["mail"]
        working = type(config)(type(config.server)(host="127.0.0.1", port=port), config.base_url, 5)
        with maker() as s:
            ids = mail_sender.pending_ids(s)
        assert mail_sender.send(maker, working, ids).sent == len(ids)
        assert mail_sender.send(maker, working, ids).sent == 0  # claimed and sent: never again
        assert inbox.to(number) == ["qa"]
        with maker() as s:
            (row,) = outbox(s, "oos_opened", number)
            assert (row.status, row.attempts, row.last_error) == (MailStatus.SENT, 2, "")


def test_without_an_smtp_url_nothing_is_sent_and_the_notice_is_in_the_app(session, smtp):
    inbox, _port = smtp
    lot = lots.get_lot(session, "CFM-2025-0001")
    record = qa_contains(session, "recall", reason="recall", lot=lot)
    session.commit()
    rows = outbox(session, "recall", record.number)
    assert rows and {r.status for r in rows} == {MailStatus.IN_APP}
    assert mail_sender.pending_ids(session) == [] and inbox.messages == []


def test_a_person_without_an_address_is_told_in_the_app(s, inbox):
    user(s, "md").email = None
    s.commit()
    record = qa_contains(s, "recall", reason="recall", lot=lots.get_lot(s, "CFM-2025-0001"))
    s.commit()
    assert "md" not in inbox.to()
    rows = outbox(s, "recall", record.number)
    (row,) = [r for r in rows if r.recipient_id == user(s, "md").id]
    assert row.status == MailStatus.NO_ADDRESS
