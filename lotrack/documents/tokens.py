"""The Ed25519 key that signs label and certificate tokens, kept in the instance folder."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# A token is base64url(payload + Ed25519 signature of payload). The payload is short ASCII text that
# means something offline too: "U:<DIN>" for a unit label, "C:<document number>:<version>" for a
# certificate. Anyone with the published public key can check a label without the database.
SIGNATURE_BYTES = 64
MAX_TOKEN_LENGTH = 200
KINDS = {"U": "unit", "C": "certificate"}
# A label preview's QR code names its unit after this prefix, unsigned: the preview can be laid out
# and scanned, and /v/ and the bedside answer that it is a preview, never a genuine label. No
# issued token starts so (they are the base64 of "U:" or "C:", "VTo…" or "Qzo…").
PREVIEW_PREFIX = "PREVIEW-"
PREVIEW_STAMP = "PREVIEW – NOT FOR LABELLING"
PREVIEW_REASON = f"a label preview ({PREVIEW_STAMP}), never a printed label"


@dataclass(frozen=True)
class TokenCheck:
    genuine: bool
    kind: str | None = None  # unit or certificate
    subject: str | None = None  # the DIN, or "document number:version"
    reason: str = ""


def make_token(key: Ed25519PrivateKey, kind: str, subject: str) -> str:
    if kind not in KINDS or not subject or not subject.isascii():
        raise ValueError("a token is for a unit (U) or a certificate (C), with an ASCII subject")
    payload = f"{kind}:{subject}".encode("ascii")
    raw = payload + key.sign(payload)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def preview_token(din: str) -> str:
    """What a label preview's QR code carries instead of a signed token: nothing that verifies."""
    return PREVIEW_PREFIX + din


def is_preview(token: str) -> bool:
    return (token or "").strip().startswith(PREVIEW_PREFIX)


def check_token(public_key: Ed25519PublicKey, token: str) -> TokenCheck:
    """Never raises: any text gets a verdict, genuine or not with the reason."""
    text = (token or "").strip()
    if not text or len(text) > MAX_TOKEN_LENGTH or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        return TokenCheck(False, reason="not a lotrack token")
    if is_preview(text):
        return TokenCheck(False, reason=PREVIEW_REASON)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        return TokenCheck(False, reason="not a lotrack token")
    # Base64 leaves spare bits in the last character; a token must be the one encoding of its
    # bytes, or a changed character could still verify.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text:
        return TokenCheck(False, reason="altered: not the encoding this facility issues")
    payload, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    if len(raw) <= SIGNATURE_BYTES + 2:
        return TokenCheck(False, reason="too short to carry a signature")
    try:
        public_key.verify(signature, payload)
    except InvalidSignature:
        return TokenCheck(False, reason="the signature does not match: altered or not issued here")
    try:
        kind, subject = payload.decode("ascii").split(":", 1)
    except (UnicodeDecodeError, ValueError):
        return TokenCheck(False, reason="unreadable payload")
    if kind not in KINDS or not subject:
        return TokenCheck(False, reason="unknown kind of token")
    return TokenCheck(True, KINDS[kind], subject)


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
