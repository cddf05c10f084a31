"""The public page /v/<token> a scanned label or certificate opens: no login, genuine or not, and
the lot's live status, so a recall reaches labels already printed."""

from __future__ import annotations

import datetime as dt
import re
import string
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask
from flask.testing import FlaskClient

from lotrack.documents.tokens import check_token, make_token
from lotrack.domain.isbt128 import eye_readable
from lotrack.models import LabelPrint
from lotrack.request_scope import db_session, printing, setting
from lotrack.services import coa, containment, token_verification, unit_labels
from lotrack.services import lot as lots
from tests.conftest import user
from tests.documents.conftest import LOCKOUT, RELEASED_LOT, qa_sign_in
from tests.documents.pdfs import QR, codes_per_page, only, page_texts, path_of

ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
JSON = {"Accept": "application/json"}


def unit_token(app: Flask, index: int = 0) -> tuple[str, str]:
    """(DIN, the token its label carries) for a unit of the released lot."""
    with app.app_context():
        din = lots.get_lot(db_session(), RELEASED_LOT).units[index].din
        return din, make_token(app.extensions["lotrack_signing_key"], "U", din)


def status(client: FlaskClient, path: str) -> str:
    body = client.get(path, headers=JSON).get_json()
    assert body["genuine"] is True, body
    return body["status"]


def printing_product(app: Flask) -> str:
    with app.app_context():
        return printing().product_name


def test_a_genuine_label_is_shown_without_login(module_app: Flask) -> None:
    din, token = unit_token(module_app)
    page = module_app.test_client().get(f"/v/{token}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'data-status="RELEASED"' in html and "verify-go" in html
    assert "Genuine lotrack unit" in html
    for shown in (RELEASED_LOT, printing_product(module_app)):
        assert shown in html
    # The DIN as the label prints it: eye-readable, its check character boxed beside it.
    with module_app.app_context():
        check = lots.get_lot(db_session(), RELEASED_LOT).units[0].check_character
    assert f'{eye_readable(din)} <span class="check" title="check character">{check}</span>' in html
    assert 'name="viewport"' in html  # readable on a phone
    assert 'name="password"' not in html  # no login form in the way


def test_the_page_has_no_inline_script(module_app: Flask) -> None:
    _din, token = unit_token(module_app)
    client = module_app.test_client()
    for path in (f"/v/{token}", f"/v/{token[:-3]}xyz"):
        html = client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE):
            assert "src=" in tag, tag
        assert not re.search(r"\son[a-z]+\s*=", html, flags=re.IGNORECASE)
        assert "javascript:" not in html.lower()


def test_json_when_the_client_asks_for_it(module_app: Flask) -> None:
    din, token = unit_token(module_app)
    client = module_app.test_client()
    by_header = client.get(f"/v/{token}", headers=JSON)
    by_query = client.get(f"/v/{token}?format=json")
    assert by_header.is_json and by_query.is_json
    assert by_header.get_json() == by_query.get_json()
    body = by_header.get_json()
    assert body["genuine"] is True
    assert (body["status"], body["kind"], body["unit"], body["lot"]) == (
        "RELEASED",
        "unit",
        din,
        RELEASED_LOT,
    )
    assert body["expires_on"] and len(body["check_character"]) == 1


def test_every_altered_character_reads_not_genuine(module_app: Flask) -> None:
    _din, token = unit_token(module_app)
    client = module_app.test_client()
    for position, original in enumerate(token):
        other = ALPHABET[(ALPHABET.index(original) + 1) % len(ALPHABET)]
        altered = token[:position] + other + token[position + 1 :]
        body = client.get(f"/v/{altered}?format=json").get_json()
        assert body["genuine"] is False and body["status"] == "NOT GENUINE", position
        assert body["unit"] is None and body["lot"] is None
    page = client.get(f"/v/{token[:5]}{'A' if token[5] != 'A' else 'B'}{token[6:]}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "NOT GENUINE" in html and "verify-stop" in html
    assert RELEASED_LOT not in html


def test_a_label_signed_with_another_key_is_not_genuine(module_app: Flask) -> None:
    din, _token = unit_token(module_app)
    forged = make_token(Ed25519PrivateKey.generate(), "U", din)
    client = module_app.test_client()
    assert client.get(f"/v/{forged}", headers=JSON).get_json()["genuine"] is False
    assert "NOT GENUINE" in client.get(f"/v/{forged}").get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/v/%20",
        "/v/x",
        "/v/" + "A" * 5000,
        "/v/abc/def/../ghi",
        "/v/%ff%fe",
        "/v/%E2%9C%93%F0%9F%92%89",
        "/v/<script>alert(1)</script>",
        "/v/A999925000001",
    ],
)
def test_garbage_reads_not_genuine_never_an_error(module_app: Flask, path: str) -> None:
    client = module_app.test_client()
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    assert 'data-status="NOT GENUINE"' in html
    assert "<script>alert" not in html
    body = client.get(path, headers=JSON).get_json()
    assert body["genuine"] is False and body["status"] == "NOT GENUINE"


def test_a_nul_byte_is_refused_by_routing_not_an_error(module_app: Flask) -> None:
    assert module_app.test_client().get("/v/abc%00def").status_code == 404


def test_a_signed_token_for_a_unit_that_does_not_exist(module_app: Flask) -> None:
    token = make_token(module_app.extensions["lotrack_signing_key"], "U", "A999999999999")
    body = module_app.test_client().get(f"/v/{token}?format=json").get_json()
    assert (body["genuine"], body["status"], body["lot"]) == (True, "UNKNOWN", None)


def test_the_published_public_key_checks_a_label_offline(module_app: Flask) -> None:
    _din, token = unit_token(module_app)
    served = module_app.test_client().get("/v/public-key.pem")
    assert served.status_code == 200
    assert served.get_data(as_text=True).startswith("-----BEGIN PUBLIC KEY-----")
    public = load_pem_public_key(served.data)
    assert isinstance(public, Ed25519PublicKey)
    assert check_token(public, token).genuine
    assert not check_token(public, make_token(Ed25519PrivateKey.generate(), "U", "X")).genuine


def print_one_label(app: Flask, reason: str = "") -> tuple[str, str]:
    """Print the first unit's label as tech: (the label's text, the path its QR code opens)."""
    with app.app_context():
        session = db_session()
        unit = lots.get_lot(session, RELEASED_LOT).units[0]
        sheet = unit_labels.print_labels(session, user(session, "tech"), [unit], printing(), reason)
        session.commit()
    return page_texts(sheet.pdf)[0], path_of(only(codes_per_page(sheet.pdf)[0], QR))


def label_prints(app: Flask) -> int:
    with app.app_context():
        return db_session().query(LabelPrint).count()


@pytest.mark.parametrize(
    ("kind", "meaning", "shown"),
    [("recall", "recalled", "RECALLED"), ("hold", "placed on hold", "ON HOLD")],
)
def test_a_recall_or_hold_reaches_labels_already_printed(
    demo_app: Flask, kind: str, meaning: str, shown: str
) -> None:
    _text, path = print_one_label(demo_app)
    client = demo_app.test_client()
    assert status(client, path) == "RELEASED"
    with demo_app.app_context():
        session = db_session()
        containment.contain(
            session,
            user(session, "qa"),
            kind=kind,
            sign_in=qa_sign_in(meaning),
            lockout=LOCKOUT,
            lot=lots.get_lot(session, RELEASED_LOT),
        )
        session.commit()
    assert status(client, path) == shown
    html = client.get(path).get_data(as_text=True)
    assert f'data-status="{shown}"' in html and "verify-stop" in html
    assert label_prints(demo_app) == 1  # nothing was reprinted


def test_an_expired_lot_reads_expired_on_page_and_label(
    demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _text, label_path = print_one_label(demo_app)
    with demo_app.app_context():
        session = db_session()
        lot = lots.get_lot(session, RELEASED_LOT)
        cert = coa.issue_certificate(session, user(session, "qa"), lot, printing())
        session.commit()
        expires_on, zone, coa_path = lot.expires_on, setting("SITE_TIME_ZONE"), f"/v/{cert.token}"
    client = demo_app.test_client()
    # The label says "Expires <date> 23:59 (<site zone>)": the page agrees to the minute.
    last_minute = dt.datetime.combine(expires_on, dt.time(23, 59), tzinfo=ZoneInfo(zone))
    for moment, expected in (
        (last_minute, "RELEASED"),
        (last_minute + dt.timedelta(minutes=1), "EXPIRED"),
        (last_minute + dt.timedelta(days=400), "EXPIRED"),
    ):
        now = lambda m=moment: m.astimezone(dt.UTC)  # noqa: E731
        # The page reads the time in token_verification, the label printer in unit_labels.
        monkeypatch.setattr(token_verification, "utcnow", now)
        monkeypatch.setattr(unit_labels, "utcnow", now)
        assert status(client, label_path) == expected, moment
        assert status(client, coa_path) == expected, moment
    # A label printed after expiry says so on its face.
    text, path = print_one_label(demo_app, reason="expired lot: relabel for destruction")
    assert "EXPIRED — NOT FOR USE" in text
    assert status(client, path) == "EXPIRED"
