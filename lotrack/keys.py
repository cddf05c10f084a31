"""Ed25519 keys kept as files outside the database: the label key and the audit checkpoint key
(which also signs backup manifests), and the one way this code signs and checks with them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The key at `path`, generated (mode 0600) on first use; never committed, never in the
    database (instance/ is ignored by git; an operator may keep the file elsewhere)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker created it first
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def key_id(public: Ed25519PublicKey) -> str:
    """The public key's fingerprint: the first 16 hex digits of the SHA-256 of its raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_hex(key: Ed25519PrivateKey, payload: bytes) -> str:
    """The Ed25519 signature of `payload`, in hex (as stored in JSON and in the database)."""
    return key.sign(payload).hex()


def verifies(public: Ed25519PublicKey, signature_hex: str, payload: bytes) -> bool:
    """Whether `signature_hex` is `public`'s signature of `payload` (a malformed one is not)."""
    try:
        public.verify(bytes.fromhex(signature_hex), payload)
    except (InvalidSignature, ValueError):
        return False
    return True
