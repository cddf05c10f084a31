"""E-mail notices: the events that send them, a delivery's states, the SMTP URL and the retry
rule. Pure: the outbox and the sending are services/notify.py's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, unquote, urlsplit

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import said


class MailEvent(StrEnum):
    HOLD = "hold"  # a hold by QA, or a lookback hold
    RECALL = "recall"
    OOS_OPENED = "oos_opened"
    EXCEPTIONAL_REQUESTED = "exceptional_requested"
    EXCEPTIONAL_SIGNED = "exceptional_signed"  # both signatures given: the lot is released
    AE_REPORT_DUE = "ae_report_due"
    AE_REPORT_OVERDUE = "ae_report_overdue"
    CALIBRATION_DUE = "calibration_due"
    COLD_CHAIN_EXCURSION = "cold_chain_excursion"  # a logger file showed one: units held
    EXCURSION_AFTER_INFUSION = "excursion_after_infusion"  # ... and some were infused already


class MailStatus(StrEnum):
    QUEUED = "queued"  # waits for the sender (after commit, or `lotrack mail send`)
    SENDING = "sending"  # claimed by one sender: no other sends it
    SENT = "sent"
    FAILED = "failed"  # the last attempt failed; retried until MAX_ATTEMPTS
    IN_APP = "in_app"  # no SMTP server configured: shown in the app only
    NO_ADDRESS = "no_address"  # the person has no e-mail address: shown in the app only


RETRYABLE = (MailStatus.QUEUED, MailStatus.FAILED)
MAX_ATTEMPTS = 6
# A claim older than this is a sender that died mid-send: the row may be sent again (at least
# once beats never for a recall).
STALE_CLAIM = dt.timedelta(minutes=15)


def retry_at(attempts: int, failed_at: dt.datetime) -> dt.datetime | None:
    """When a delivery that failed `attempts` times is tried again: 1, 2, 4 ... minutes later,
    at most an hour; None after MAX_ATTEMPTS (it stays failed, visible to QA)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return failed_at + dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


@dataclass(frozen=True)
class SmtpServer:
    """Where to send: smtp://[user:password@]host[:port][?starttls], or smtps:// (TLS from the
    start) and a sender address (?from=)."""

    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    username: str = ""
    password: str = ""
    sender: str = "lotrack@localhost"


def parse_smtp_url(url: str) -> SmtpServer:
    """The server an SMTP URL names; a bad one is refused with what is expected."""
    expected = "smtp://[user:password@]host[:port][?starttls] or smtps://..."
    bad = ValidationFailed(
        # Never the URL itself in the message: it may hold a password.
        said("LOTRACK_SMTP_URL: %(expected)s is expected.", expected=expected),
        {"LOTRACK_SMTP_URL": expected},
    )
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise bad from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or parts.path not in ("", "/"):
        raise bad
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"starttls", "from"}:
        raise bad
    tls = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        tls=tls,
        starttls="starttls" in query and not tls,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        sender=(query.get("from") or ["lotrack@localhost"])[0],
    )
