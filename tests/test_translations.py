"""Chinese and English: the catalog is complete, translated templates hold no text outside the
translation calls, and a page speaks the language its reader chose, their browser asks for, or
the site's default, in that order.

Every template is held to the rule (tests/i18n_check.py), and every page a demo user reaches by
links is read in Chinese for English phrases the catalog translates."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from lotrack import create_app
from lotrack.documents.tokens import make_token
from lotrack.models import AuditEvent, BedsideScan, Unit, User
from lotrack.services.api_tokens import create_token
from tests.conftest import PASSWORDS, csrf_token, login
from tests.crawl import crawl
from tests.i18n_check import catalog, english_left, untranslated

ROOT = Path(__file__).resolve().parent.parent
# Every template: pages, macros and the PDF documents (whose captions come from
# lotrack/documents/bilingual.py, or from the catalog for the timeline PDF).
TEMPLATES = sorted(
    str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").rglob("*.html")
)
METHODS = [("lotrack/**.py", "python"), ("templates/**.html", "jinja2")]


def _extracted() -> dict[tuple[str, str | None], list[str]]:
    """Every message the code and templates mark for translation (with its context, as
    pgettext gives one), with where it is."""
    found: dict[tuple[str, str | None], list[str]] = {}
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "said": None}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), METHODS, keywords=keywords
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def _catalog() -> Catalog:
    return catalog()


def test_every_message_has_a_reviewed_chinese_translation() -> None:
    catalog = _catalog()
    missing = []
    for (msgid, context), where in sorted(_extracted().items(), key=lambda kv: str(kv[0])):
        entry = catalog.get(msgid, context)
        text = entry.string if entry is not None else None
        text = text[0] if isinstance(text, tuple) else text
        if entry is None or not text or entry.fuzzy:
            missing.append(f"{msgid!r} ({where[0]})")
    assert not missing, "no zh_CN translation (or fuzzy) in messages.po:\n" + "\n".join(missing)


def test_a_translation_keeps_every_placeholder_of_its_message() -> None:
    for entry in _catalog():
        if not entry.id:
            continue
        source = entry.id if isinstance(entry.id, str) else entry.id[0]
        text = entry.string if isinstance(entry.string, str) else entry.string[0]
        assert set(re.findall(r"%\(\w+\)[sd]", text)) == set(re.findall(r"%\(\w+\)[sd]", source)), (
            entry.id
        )


@pytest.mark.parametrize("template", TEMPLATES)
def test_no_template_holds_text_outside_the_translation_calls(template: str) -> None:
    found = untranslated(template)
    assert not found, f"{template}: untranslated text {found}"


def test_the_login_page_follows_the_browser(client: FlaskClient) -> None:
    zh = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    page = zh.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "登录" in page
    assert not english_left(page)
    en = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in en.get_data(as_text=True)
    assert "Log in" in en.get_data(as_text=True)


def _nurse_chooses(client: FlaskClient, language: str) -> TestResponse:
    """The nurse logs in and picks `language` with the header's switch, from the bedside page."""
    assert login(client, "nurse").status_code == 302
    token = csrf_token(client, "/bedside")
    return client.post(
        "/language",
        data={"language": language, "next": "/bedside", "csrf_token": token},
        headers={"Accept": "application/json"},
    )


def test_the_bedside_speaks_chinese_to_a_nurse_who_chose_it(
    demo_app: Flask, client: FlaskClient
) -> None:
    chosen = _nurse_chooses(client, "zh_CN")
    assert chosen.status_code == 302 and chosen.headers["Location"].endswith("/bedside")
    # Her browser asks for English; her own choice wins, on every page.
    page = client.get("/bedside", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    for chinese in ("床旁核对", "受试者腕带", "单元标签", "核对", "退出登录"):
        assert chinese in page
    assert not english_left(page)
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        nurse = s.scalars(select(User).where(User.username == "nurse")).one()
        assert nurse.language == "zh_CN"
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "language_set")).all()
        assert len(events) == 1


def test_a_language_we_do_not_speak_is_refused_and_nothing_is_written(
    demo_app: Flask, client: FlaskClient
) -> None:
    refused = _nurse_chooses(client, "fr")
    assert refused.status_code == 422
    assert "language" in refused.get_json()["fields"]
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert s.scalars(select(User.language).where(User.username == "nurse")).one() is None


def test_before_login_the_switch_holds_for_the_browser(client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    client.post("/language", data={"language": "zh_CN", "next": "/login", "csrf_token": token})
    page = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "登录" in page


def test_the_site_default_speaks_when_nobody_chose(tmp_path: Path, demo_app: Flask) -> None:
    url = demo_app.config["LOTRACK_DATABASE_URL"]
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "zh"),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_DEFAULT_LANGUAGE": "zh_CN",
        }
    )
    try:
        page = app.test_client().get("/login").get_data(as_text=True)
        assert '<html lang="zh-CN">' in page and "登录" in page
    finally:
        app.extensions["lotrack_db"].engine.dispose()
    with pytest.raises(ValueError, match="LOTRACK_DEFAULT_LANGUAGE"):
        create_app(
            {
                "INSTANCE_PATH": str(tmp_path / "fr"),
                "LOTRACK_DATABASE_URL": url,
                "LOTRACK_DEFAULT_LANGUAGE": "fr",
            }
        )


def _label_of_a_demo_unit(app: Flask) -> str:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        din = s.scalars(select(Unit.din).order_by(Unit.id)).first()
    assert din is not None
    key = app.extensions["lotrack_signing_key"]
    return app.config["LOTRACK_PUBLIC_BASE_URL"] + "/v/" + make_token(key, "U", din)


def test_a_no_go_is_said_in_chinese_and_recorded_in_english(
    demo_app: Flask, client: FlaskClient
) -> None:
    """The nurse reads why in Chinese; the scan's record (a GMP record) and the API's codes keep
    one language, so every report and audit reads the same."""
    _nurse_chooses(client, "zh_CN")
    token = csrf_token(client, "/bedside")
    scan = _label_of_a_demo_unit(demo_app)
    page = client.post(
        "/bedside/check",
        data={"patient": "SZ-GIMI/NOBODY", "scan": scan, "csrf_token": token},
    ).get_data(as_text=True)
    assert "禁止输注" in page and "该腕带与本中心的任何受试者都不匹配。" in page
    assert "The wristband does not match a patient of this site." not in page
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        recorded = s.scalars(select(BedsideScan.reasons).order_by(BedsideScan.id.desc())).first()
    assert recorded is not None and "The wristband does not match a patient" in recorded


def test_the_api_says_reasons_in_the_language_asked_and_keeps_its_codes(
    demo_app: Flask, client: FlaskClient
) -> None:
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        bearer = create_token(
            s, None, s.scalars(select(User).where(User.username == "nurse")).one()
        )
        s.commit()
    body = {"patient": "SZ-GIMI/NOBODY", "scan": _label_of_a_demo_unit(demo_app)}
    answers = {
        lang: client.post(
            "/api/v1/bedside/check",
            json=body,
            headers={"Authorization": f"Bearer {bearer}", "Accept-Language": lang},
        ).get_json()
        for lang in ("zh-CN", "en")
    }
    assert answers["zh-CN"]["codes"] == answers["en"]["codes"]
    assert "patient_unknown" in answers["en"]["codes"]
    assert "该腕带与本中心的任何受试者都不匹配。" in answers["zh-CN"]["reasons"]
    assert "The wristband does not match a patient of this site." in answers["en"]["reasons"]


# Each role's main pages, which the crawl must have reached (so it really walked the site).
REACHED = {
    "nurse": {"bedside.scan_page", "clinical.show_patient", "shipment.show_shipment"},
    "tech": {"lot.show_lot", "result.show_result", "production.show_run", "donor.show_donor"},
    "qa": {"release.review", "trend.show_trend", "audit.audit_log", "deviation.list_deviations"},
    "md": {"report.reports", "lot.show_unit"},
    "admin": {"admin.users", "admin.new_user"},
    # The site investigators: SZ-GIMI's has the demo's patients; the others' sites have none yet.
    "doctor": {"clinical.show_patient", "report.reports"},
    "doctor-cip": {"clinical.list_patients", "report.reports"},
    "doctor-ach": {"clinical.list_patients", "report.reports"},
}


def test_the_english_detector_finds_the_english_of_an_english_page(client: FlaskClient) -> None:
    """The crawl's detector is not blind: on the English pages it finds the catalog's English."""
    assert login(client, "qa").status_code == 302
    for path in ("/", "/lots/CFM-2025-0003/release", "/deviations"):
        page = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert len(english_left(page)) >= 3, path


@pytest.mark.parametrize("username", sorted(PASSWORDS))
def test_every_page_a_demo_user_reaches_speaks_chinese(demo_app: Flask, username: str) -> None:
    """Every page reachable by links, in zh-CN: served, `<html lang="zh-CN">`, and no English
    phrase of the catalog left on it (the template check proves the rest is marked)."""
    client = demo_app.test_client()
    assert login(client, username).status_code == 302
    left: dict[str, list[str]] = {}

    def speaks_chinese(path: str, page: str) -> None:
        if '<html lang="zh-CN">' not in page:
            left[path] = ["<html lang> is not zh-CN"]
        elif found := english_left(page):
            left[path] = found

    rendered = crawl(demo_app, client, speaks_chinese, headers={"Accept-Language": "zh-CN"})
    assert left == {}
    assert REACHED[username.rstrip("2")] | {"auth.change_password"} <= rendered


def test_qa_lands_on_the_needs_decision_queue_in_chinese(client: FlaskClient) -> None:
    assert login(client, "qa").status_code == 302
    resp = client.get("/", headers={"Accept-Language": "zh-CN"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "待决定" in page
    assert not english_left(page)


def test_every_coded_value_a_page_shows_has_a_word() -> None:
    from enum import Enum

    from lotrack.domain import clinical, decisions, donor, permissions, specs, states
    from lotrack.domain.words import WORDS

    enums = [v for m in (states, clinical, decisions, permissions, specs) for v in vars(m).values()]
    coded = {
        member.value
        for e in enums
        if isinstance(e, type) and issubclass(e, Enum) and e.__module__.startswith("lotrack.domain")
        for member in e
        if isinstance(member.value, str) and e.__name__ not in {"BankTier", "Language"}
    }
    coded |= set(donor.RESULTS) | set(clinical.INDICATIONS)
    same_in_both = {"MCB", "WCB"}  # bank tiers are written so in Chinese too
    assert coded - same_in_both <= WORDS, sorted(coded - same_in_both - WORDS)


def _bearer(app: Flask, username: str) -> dict[str, str]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        token = create_token(
            s, None, s.scalars(select(User).where(User.username == username)).one()
        )
        s.commit()
    return {"Authorization": f"Bearer {token}"}


def test_an_api_refusal_is_said_in_the_language_asked_and_keeps_its_machine_fields(
    demo_app: Flask, client: FlaskClient
) -> None:
    auth = _bearer(demo_app, "tech")
    bad = {"code": "FD-9", "consent_date": "yesterday", "colour": "red"}
    zh, en = (
        client.post("/api/v1/donors", json=bad, headers={**auth, "Accept-Language": lang})
        for lang in ("zh-CN", "en")
    )
    assert zh.status_code == en.status_code == 422
    zh_body, en_body = zh.get_json(), en.get_json()
    assert zh_body["error"] == en_body["error"] == "invalid"
    assert set(zh_body["fields"]) == set(en_body["fields"]) == {"consent_date", "colour"}
    assert en_body["fields"]["colour"] == "Unknown field."
    assert zh_body["fields"]["colour"] == "未知字段。"
    assert (
        zh_body["message"].startswith("输入无效：") and "colour: 未知字段。" in zh_body["message"]
    )
    assert en_body["message"].startswith("Invalid input: ")


def test_the_language_chosen_before_login_holds_after_it_and_after_logout(
    client: FlaskClient,
) -> None:
    token = csrf_token(client, "/login")
    client.post("/language", data={"language": "zh_CN", "next": "/login", "csrf_token": token})
    assert login(client, "nurse").status_code == 302
    english_browser = {"Accept-Language": "en"}
    assert '<html lang="zh-CN">' in client.get("/bedside", headers=english_browser).get_data(True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/bedside")})
    page = client.get("/login", headers=english_browser).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "您已退出登录" in page


def test_the_account_page_sets_the_language_for_every_device(
    demo_app: Flask, client: FlaskClient
) -> None:
    assert login(client, "tech").status_code == 302
    page = client.get("/account/password", headers={"Accept-Language": "en"}).get_data(True)
    assert '<select name="language">' in page and '<option value="zh_CN" lang="zh-CN"' in page
    token = csrf_token(client, "/account/password")
    saved = client.post(
        "/language",
        data={"language": "zh_CN", "next": "/account/password", "csrf_token": token},
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/account/password")
    other_device = demo_app.test_client()  # a new browser that asks for English
    assert login(other_device, "tech").status_code == 302
    page = other_device.get("/account/password", headers={"Accept-Language": "en"}).get_data(True)
    assert '<html lang="zh-CN">' in page and "保存语言设置" in page


def test_a_lockout_is_said_with_its_time_in_the_readers_zone(
    demo_app: Flask, client: FlaskClient
) -> None:
    """The service says the time in UTC (its English, kept in logs); the page shows it in the
    site's zone, named, in either language."""
    until = dt.datetime(2099, 1, 2, 3, 4, tzinfo=dt.UTC)
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        s.scalars(select(User).where(User.username == "nurse")).one().locked_until = until
        s.commit()
    shown = "2099-01-02 11:04 Asia/Shanghai (UTC+08:00)"
    for language, words in (("zh-CN", "该账户已锁定至"), ("en", "is locked after repeated")):
        token = csrf_token(client, "/login")
        page = client.post(
            "/login",
            data={"username": "nurse", "password": PASSWORDS["nurse"], "csrf_token": token},
            headers={"Accept-Language": language},
        ).get_data(as_text=True)
        assert words in page and shown in page and "03:04 UTC" not in page, language
