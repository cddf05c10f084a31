"""The SMTP URL a site configures, refused at start when malformed (without echoing a password);
the retry rule: waits that double from a minute up to an hour, then no more attempts; and each
notice's words, Chinese first for a reader who chose no language."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.config import build_config
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.mail import MAX_ATTEMPTS, MailEvent, SmtpServer, parse_smtp_url, retry_at
from lotrack.domain.mail_text import compose

T0 = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "url, server",
    [
        ("smtp://mail.example.org", SmtpServer("mail.example.org", 25)),
        ("smtp://127.0.0.1:2525", SmtpServer("127.0.0.1", 2525)),
        (
            "smtp://qa%40lab:p%3Ass@mail.example.org:587?starttls",  # pragma: allowlist secret
            SmtpServer(
                "mail.example.org",
                587,
                starttls=True,
                username="qa@lab",
                password="p:ss",  # pragma: allowlist secret
            ),
        ),
        ("smtps://mail.example.org", SmtpServer("mail.example.org", 465, tls=True)),
        (
            "smtp://mail.example.org?from=lotrack@example.org",
            SmtpServer("mail.example.org", 25, sender="lotrack@example.org"),
        ),
    ],
)
def test_an_smtp_url_names_its_server(url, server):
    assert parse_smtp_url(url) == server


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example.org",
        "smtp://",
        "smtp://mail.example.org:notaport",
        "smtp://mail.example.org:99999",
        "smtp://mail.example.org/path",
        "smtp://mail.example.org?tls=maybe",
        "mail.example.org:25",
    ],
)
def test_a_bad_smtp_url_is_refused_at_start_without_its_password(url, tmp_path: Path):
    with pytest.raises(ValidationFailed) as refused:
        build_config(tmp_path, {"LOTRACK_SMTP_URL": url.replace("//", "//u:secret@", 1)})
    assert "LOTRACK_SMTP_URL" in refused.value.fields
    assert "secret" not in str(refused.value.message)


def test_no_smtp_url_is_the_default_notices_in_the_app_only(tmp_path: Path):
    assert build_config(tmp_path)["LOTRACK_SMTP_URL"] == ""


def test_retries_wait_one_two_four_minutes_then_stop():
    waits = [retry_at(n, T0) for n in range(1, MAX_ATTEMPTS + 1)]
    assert [w - T0 for w in waits[:3] if w] == [dt.timedelta(minutes=m) for m in (1, 2, 4)]
    assert waits[-1] is None


@given(st.integers(min_value=0, max_value=MAX_ATTEMPTS - 1))
def test_a_retry_is_always_later_and_within_an_hour(attempts):
    at = retry_at(attempts, T0)
    assert at is not None and T0 < at <= T0 + dt.timedelta(hours=1)


def test_a_notice_is_bilingual_chinese_first_unless_a_language_was_chosen():
    both = compose(MailEvent.RECALL, None, number="RCL-2026-001", detail="x", link="https://h/c")
    assert both.subject == "召回 RCL-2026-001 / Recall RCL-2026-001"
    assert both.body.index("打开记录：https://h/c") < both.body.index(
        "Open the record: https://h/c"
    )
    english = compose(MailEvent.RECALL, "en", number="RCL-2026-001", detail="x", link="l")
    assert english.subject == "Recall RCL-2026-001" and "召回" not in english.body
