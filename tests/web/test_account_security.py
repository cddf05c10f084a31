"""ASVS level 2 for accounts: the password policy at its edges (length only, long passphrases,
any Unicode, common passwords refused), throttling per client address, idle and absolute session
limits against a fake clock, cookie flags (Secure over TLS) and a fresh session at login."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import lotrack.security
from lotrack import create_app
from lotrack.domain.errors import ValidationFailed
from lotrack.models import AuditHead
from lotrack.services import accounts, lockout, passwords
from lotrack.web import auth
from tests.conftest import PASSWORDS, csrf_token, login

PAGE = "/account/password"
MIN, MAX = 12, passwords.MAX_PASSWORD_LENGTH


def _counted(text: str) -> int:
    return len(re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)))


def _refused(password: str, username: str = "") -> str | None:
    try:
        passwords.check_password_rules(password, MIN, username=username)
    except ValidationFailed as err:
        assert set(err.fields) == {"password"}
        return err.fields["password"]
    return None


# --- the password policy ----------------------------------------------------------------------

printable = st.characters(blacklist_categories=("Cc", "Cs"))


@settings(max_examples=300, deadline=None)
@given(st.text(printable, min_size=0, max_size=MAX + 20))
def test_only_length_and_guessability_decide(password):
    """No composition rule: any printable text of 12 to 128 characters passes unless guessable."""
    why = _refused(password)
    if _counted(password) < MIN:
        assert why == f"at least {MIN} characters"
    elif len(unicodedata.normalize("NFKC", password)) > MAX:
        assert why == f"at most {MAX} characters"
    elif passwords.is_guessable(password):
        assert why is not None and "guess" in why
    else:
        assert why is None


@pytest.mark.parametrize(
    "alphabet", ["bdfhjkmnpqrtvxz", "0123456789", "éüßøñ", "密码安全长句子", "🙂🐢🌵"]
)
def test_one_kind_of_character_is_enough(alphabet):
    """Letters only, digits only, accents only, CJK only or emoji only: all count."""
    # A shuffle of the alphabet long enough: not a run, not a word, not one character repeated.
    text = (alphabet[::2] + alphabet[1::2]) * (MIN // len(alphabet) + 2)
    for size in (MIN, 64):
        password = text[:size] if len(text) >= size else (text * size)[:size]
        assert _refused(password) is None, password


@pytest.mark.parametrize(
    "password, refused",
    [
        ("elevenchars", True),
        ("twelve chars", False),
        ("a" + " " * 10 + "b", True),  # ASVS 2.1.1: runs of spaces count once
        ("x" * 64 + " passphrase", False),  # 64 and more allowed
        ("long phrase " * 10 + "12345678", False),  # exactly 128
        ("long phrase " * 10 + "123456789", True),  # 129
        ("tab\tinside the password", True),
        ("nul\x00inside the password", True),
        ("Password123!", True),
        ("p@ssw0rd2024", True),
        ("passwordpassword", True),
        ("123456789012", True),
        ("qwertyuiopas", True),
        ("1qaz2wsx3edc", True),
        ("ｐａｓｓｗｏｒｄ１２３４", True),  # full-width: NFKC makes it "password1234"
        ("Lotrack2024!!", True),
        ("  spaces around it  ", False),
        ("correct horse battery staple", True),
        ("gentle otter under a copper moon", False),
    ],
)
def test_the_policy_at_its_edges(password, refused):
    assert (_refused(password) is not None) is refused


def test_the_username_is_not_a_password():
    assert _refused("nurse2024!!!", username="nurse") is not None
    assert _refused("nurse2024!!!", username="tech") is None


def test_a_unicode_passphrase_matches_however_the_keyboard_composes_it(session):
    """Stored and checked after NFKC: precomposed or combining accents, full-width or not."""
    composed = "crème brûlée au café"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    accounts.create_user(
        session,
        None,
        username="chef",
        full_name="Chef",
        role="technician",
        password=decomposed,
        must_change_password=False,
    )
    session.commit()
    limits = {"max_failures": 5, "lockout_minutes": 15}
    assert accounts.authenticate(session, "chef", composed, **limits).user is not None
    wide = "ｇｒｅｅｎ ｔｅａ ａｔ ｍｉｄｎｉｇｈｔ"
    chef = accounts.find_user(session, "chef")
    accounts.change_password(session, chef, composed, wide, min_length=MIN)
    session.commit()
    assert accounts.authenticate(session, "chef", "green tea at midnight", **limits).user


def client_logged_in(client, username: str = "nurse"):
    assert login(client, username).status_code == 302
    return client


def _change(client, new: str):
    return client.post(
        PAGE,
        data={
            "csrf_token": csrf_token(client, PAGE),
            "current": PASSWORDS["nurse"],
            "new": new,
            "confirm": new,
        },
    )


def test_a_long_passphrase_is_accepted_through_the_form_and_logs_in(client, demo_app):
    phrase = "the quick brown fox jumps over the lazy dog while the kettle sings gently"
    assert len(phrase) >= 64
    assert _change(client_logged_in(client), phrase).status_code == 302
    assert login(demo_app.test_client(), "nurse", phrase).status_code == 302


def test_a_common_password_is_refused_through_the_form_naming_the_field(client):
    resp = _change(client_logged_in(client), "Password1234")
    assert resp.status_code == 422
    assert b'id="err-new"' in resp.data and b"too easy to guess" in resp.data
    assert login(client, "nurse").status_code == 302  # the old password still works


# --- throttling per client address ------------------------------------------------------------


def _login_from(app, address: str, username: str, password: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return login(client, username, password)


@pytest.fixture
def later(monkeypatch) -> list[dt.timedelta]:
    """The time the login throttle (kept in the database) reads: now + the list's one entry."""
    shift = [dt.timedelta(0)]
    real = lockout.utcnow

    def now() -> dt.datetime:
        return real() + shift[0]

    for module in (lockout, auth, accounts):
        monkeypatch.setattr(module, "utcnow", now)
    return shift


def test_one_address_spraying_many_usernames_is_made_to_wait(demo_app, later):
    demo_app.config["LOTRACK_LOGIN_FAILURES_PER_ADDRESS"] = 3
    for name in ("tech", "qa", "md"):  # one guess each: no account reaches its own lockout
        assert _login_from(demo_app, "203.0.113.7", name, "Summer2024 guess").status_code == 401
    throttled = _login_from(demo_app, "203.0.113.7", "nurse", PASSWORDS["nurse"])
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    assert b"Too many failed logins from this address" in throttled.data
    # Another address is not affected, and the sprayer may try again once the window has passed.
    assert _login_from(demo_app, "198.51.100.2", "nurse", PASSWORDS["nurse"]).status_code == 302
    later[0] = dt.timedelta(minutes=15, seconds=1)
    assert _login_from(demo_app, "203.0.113.7", "nurse", PASSWORDS["nurse"]).status_code == 302


def test_every_worker_and_host_counts_the_same_failures(demo_app, backend, tmp_path):
    """The count is in the database: a second app on the same database (another host) sees the
    failures the first one counted and refuses the address too."""
    demo_app.config["LOTRACK_LOGIN_FAILURES_PER_ADDRESS"] = 2
    other = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "other-host"),
            "LOTRACK_DATABASE_URL": demo_app.config["LOTRACK_DATABASE_URL"],
            "LOTRACK_LOGIN_FAILURES_PER_ADDRESS": 2,
        }
    )
    try:
        assert _login_from(demo_app, "203.0.113.8", "tech", "guess one").status_code == 401
        assert _login_from(other, "203.0.113.8", "qa", "guess two").status_code == 401
        assert _login_from(demo_app, "203.0.113.8", "md", PASSWORDS["md"]).status_code == 429
        assert _login_from(other, "203.0.113.8", "md", PASSWORDS["md"]).status_code == 429
    finally:
        other.extensions["lotrack_db"].engine.dispose()


def test_a_throttled_attempt_checks_no_password_and_writes_nothing(demo_app):
    demo_app.config["LOTRACK_LOGIN_FAILURES_PER_ADDRESS"] = 1
    _login_from(demo_app, "203.0.113.9", "tech", "not the password")
    head = select(AuditHead.seq).where(AuditHead.id == 1)
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        before = (accounts.find_user(s, "qa").failed_logins, s.scalar(head))
    assert _login_from(demo_app, "203.0.113.9", "qa", "wrong again").status_code == 429
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert (accounts.find_user(s, "qa").failed_logins, s.scalar(head)) == before


# --- idle and absolute limits -----------------------------------------------------------------


class FakeClock:
    """Stands in for the `time` module inside lotrack.security: now = real time + offset."""

    def __init__(self) -> None:
        import time

        self.real, self.offset = time.time, 0.0

    def time(self) -> float:
        return self.real() + self.offset


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(lotrack.security, "time", fake)
    return fake


def _in(client) -> bool:
    return client.get(PAGE).status_code == 200


def test_the_idle_limit_is_thirty_minutes_to_the_minute(client, clock):
    login(client, "nurse")
    clock.offset = 30 * 60 - 5
    assert _in(client)
    clock.offset += 30 * 60 + 5
    assert not _in(client)


def test_a_copy_of_the_cookie_expires_on_its_own_idle_clock(client, demo_app, clock):
    """A cookie copied off the nurse's phone dies 30 minutes after the copy while she works on."""
    login(client, "nurse")
    copy = demo_app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert _in(copy)
    for _ in range(3):
        clock.offset += 20 * 60
        assert _in(client)
    assert not _in(copy)
    assert _in(client)


def test_the_absolute_limit_is_twelve_hours_however_active(client, clock):
    login(client, "nurse")
    while clock.offset < 12 * 3600 - 20 * 60:
        clock.offset += 20 * 60
        assert _in(client)
    clock.offset = 12 * 3600 + 60
    assert not _in(client)
    clock.offset = 0
    assert not _in(client)  # ended for good, not only while the clock is late


def test_a_session_without_a_start_time_is_not_trusted(client, demo_app):
    """A signed session made some other way (older code, a leaked key) has no limits to check."""
    login(client, "nurse")
    with client.session_transaction() as sess:
        sess.pop("started")
    assert not _in(client)


# --- cookies --------------------------------------------------------------------------------


def _session_cookie(resp) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "the login sets the session cookie"
    return cookies[-1]


def _login_over_tls(client, username: str = "nurse"):
    base = "https://localhost"
    page = client.get("/login", base_url=base)
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    return client.post(
        "/login",
        base_url=base,
        headers={"Referer": f"{base}/login"},  # Flask-WTF checks it over https; browsers send it
        data={"username": username, "password": PASSWORDS[username], "csrf_token": token},
    )


def test_the_session_cookie_is_httponly_and_samesite_and_not_secure_over_plain_http(client):
    cookie = _session_cookie(login(client, "nurse")).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "; secure" not in cookie
    assert "expires" not in cookie  # gone when the browser closes


def test_the_session_cookie_is_secure_over_tls(client):
    resp = _login_over_tls(client)
    assert resp.status_code == 302
    cookie = _session_cookie(resp).lower()
    assert "; secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_the_session_cookie_is_secure_behind_a_tls_proxy_when_configured(client, demo_app):
    demo_app.config["LOTRACK_SECURE_COOKIES"] = True
    cookie = _session_cookie(login(client, "nurse")).lower()
    assert "; secure" in cookie


# --- session fixation -----------------------------------------------------------------------


def test_login_issues_a_fresh_session(client, demo_app):
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    before = client.get_cookie("session").value
    old_token = csrf_token(client, "/login")
    login(client, "nurse")
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
    # The cookie held before the login is still anonymous: knowing it gains nothing.
    planted = demo_app.test_client()
    planted.set_cookie("session", before)
    assert not _in(planted)
    # And the form token of the anonymous session is void in the new one.
    resp = client.post("/logout", data={"csrf_token": old_token})
    assert resp.status_code == 400 and _in(client)


def test_a_session_roams_between_networks_and_hosts(demo_app):
    """Not bound to the address or the browser's fingerprint: a bedside phone moving from Wi-Fi
    to mobile data, or a load balancer sending it to another host, keeps its session."""
    client = demo_app.test_client()
    client.environ_base.update({"REMOTE_ADDR": "10.1.2.3", "HTTP_USER_AGENT": "Phone/1"})
    assert login(client, "nurse").status_code == 302
    client.environ_base.update({"REMOTE_ADDR": "100.64.7.9", "HTTP_USER_AGENT": "Phone/1 (4G)"})
    assert client.get(PAGE).status_code == 200
