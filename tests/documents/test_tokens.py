"""Signed tokens: what a label's or a certificate's QR code carries. Anything that was not issued
here, byte for byte, is not genuine; no text makes the check raise."""

from __future__ import annotations

import base64
import os
import stat
import string
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from hypothesis import given, settings
from hypothesis import strategies as st

from lotrack.documents.tokens import (
    MAX_TOKEN_LENGTH,
    SIGNATURE_BYTES,
    check_token,
    make_token,
    public_key_pem,
)
from lotrack.keys import load_key

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
UNIT = make_token(KEY, "U", "A999925000001")
CERT = make_token(KEY, "C", "COA-CFM-2025-0001:2")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def test_issued_tokens_are_genuine_and_name_what_they_identify() -> None:
    assert check_token(PUBLIC, UNIT) == check_token(PUBLIC, f"  {UNIT}\n")
    unit = check_token(PUBLIC, UNIT)
    assert (unit.genuine, unit.kind, unit.subject) == (True, "unit", "A999925000001")
    cert = check_token(PUBLIC, CERT)
    assert (cert.genuine, cert.kind, cert.subject) == (True, "certificate", "COA-CFM-2025-0001:2")
    # Short enough for a small QR code and for the verification URL.
    assert len(UNIT) < MAX_TOKEN_LENGTH and len(CERT) < MAX_TOKEN_LENGTH
    assert set(UNIT) <= set(ALPHABET)


@pytest.mark.parametrize("token", [UNIT, CERT], ids=["unit", "certificate"])
def test_changing_any_one_character_makes_a_token_not_genuine(token: str) -> None:
    for position, original in enumerate(token):
        # Neighbours in the alphabet differ in the lowest bits: the spare bits of the last
        # character are exercised too.
        for step in (1, 2, 32):
            other = ALPHABET[(ALPHABET.index(original) + step) % len(ALPHABET)]
            altered = token[:position] + other + token[position + 1 :]
            check = check_token(PUBLIC, altered)
            assert not check.genuine, (position, altered)
            assert check.reason


def test_a_second_spelling_of_the_same_bytes_is_refused() -> None:
    """Base64's spare bits in the last character: a forger may not re-spell a genuine token."""
    raw = base64.urlsafe_b64decode(UNIT + "=" * (-len(UNIT) % 4))
    assert len(raw) % 3, "the token's last character carries spare bits"
    respelled = [
        UNIT[:-1] + c
        for c in ALPHABET
        if c != UNIT[-1] and base64.urlsafe_b64decode(UNIT[:-1] + c + "=" * (-len(UNIT) % 4)) == raw
    ]
    assert respelled, "some other last character decodes to the same bytes"
    for token in respelled:
        check = check_token(PUBLIC, token)
        assert not check.genuine and "encoding" in check.reason


def test_a_token_signed_with_another_key_is_not_genuine() -> None:
    forged = make_token(Ed25519PrivateKey.generate(), "U", "A999925000001")
    assert check_token(PUBLIC, forged).genuine is False
    # Our payload with someone else's signature, and someone else's payload with ours.
    payload = b"U:A999925000001"
    ours = KEY.sign(payload)
    assert not check_token(PUBLIC, b64(payload + KEY.sign(b"U:A999925000002"))).genuine
    assert not check_token(PUBLIC, b64(b"U:A999925000002" + ours)).genuine


def test_truncated_tokens_are_not_genuine() -> None:
    for length in range(len(UNIT)):
        assert not check_token(PUBLIC, UNIT[:length]).genuine, length
        assert not check_token(PUBLIC, UNIT[length + 1 :]).genuine, length
    assert not check_token(PUBLIC, UNIT + "A").genuine
    assert not check_token(PUBLIC, UNIT + UNIT).genuine


def test_signed_payloads_that_name_nothing_are_not_genuine() -> None:
    """Our own key over a payload this facility never issues (a bug or a leaked signing oracle)."""
    for payload in (b"X:A999925000001", b"U:", b"U", b"\xff\xfe:abc", b"Unit A999925000001"):
        token = b64(payload + KEY.sign(payload))
        assert not check_token(PUBLIC, token).genuine, payload
    # A bare signature without any payload.
    assert not check_token(PUBLIC, b64(KEY.sign(b""))).genuine


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "A999925000001",
        "=A999925000001",
        "http://127.0.0.1:5000/v/" + UNIT,
        UNIT + "==",
        "é" * 40,
        "\x00" * 90,
        "A" * (MAX_TOKEN_LENGTH + 1),
        "A" * 100_000,
        b64(b"U:A999925000001" + b"\x00" * SIGNATURE_BYTES),
    ],
)
def test_garbage_is_reported_not_genuine(text: str) -> None:
    check = check_token(PUBLIC, text)
    assert check.genuine is False and check.kind is None and check.subject is None
    assert check.reason


def test_standard_base64_spelling_is_not_accepted() -> None:
    """ "+" and "/" would not survive a URL path; only the URL-safe spelling is issued."""
    tokens = [make_token(KEY, "U", f"A99992500{n:04d}") for n in range(40)]
    spelled = [t.replace("-", "+").replace("_", "/") for t in tokens if set(t) & {"-", "_"}]
    assert spelled
    for token in spelled:
        assert not check_token(PUBLIC, token).genuine


def test_check_token_tolerates_none() -> None:
    assert check_token(PUBLIC, None).genuine is False  # type: ignore[arg-type]


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_any_text_gets_a_verdict_never_an_exception(text: str) -> None:
    assert check_token(PUBLIC, text).genuine is False


@settings(max_examples=300)
@given(st.binary(min_size=0, max_size=150))
def test_well_formed_base64_of_any_bytes_is_not_genuine(raw: bytes) -> None:
    assert check_token(PUBLIC, b64(raw)).genuine is False


@given(st.text(alphabet=ALPHABET, min_size=1, max_size=MAX_TOKEN_LENGTH))
def test_url_safe_text_of_token_length_is_not_genuine(text: str) -> None:
    assert check_token(PUBLIC, text).genuine is False


def test_make_token_refuses_what_it_cannot_carry() -> None:
    for kind, subject in (("X", "A999925000001"), ("U", ""), ("U", "Ä999925000001")):
        with pytest.raises(ValueError):
            make_token(KEY, kind, subject)


def test_the_published_pem_checks_tokens_offline() -> None:
    public = load_pem_public_key(public_key_pem(KEY).encode("ascii"))
    assert isinstance(public, Ed25519PublicKey)
    assert check_token(public, UNIT).genuine
    altered = UNIT[:-2] + ("A" if UNIT[-2] != "A" else "B") + UNIT[-1]
    assert not check_token(public, altered).genuine


def test_the_signing_key_is_created_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "label_signing_key.pem"
    key = load_key(path, "LOTRACK_LABEL_KEY_FILE", create=True)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = load_key(path, "LOTRACK_LABEL_KEY_FILE", create=False)
    token = make_token(key, "U", "A999925000001")
    assert check_token(again.public_key(), token).genuine
    assert public_key_pem(again) == public_key_pem(key)
