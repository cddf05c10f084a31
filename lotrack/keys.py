"""Ed25519 keys kept as files outside the database: the label key and the audit checkpoint key
(which also signs backup manifests), and the one way this code signs and checks with them.

Several hosts serving one PostgreSQL database must share the same keys and session secret: a
label printed through one host must verify on another. So they come from configured files
(`python -m lotrack.keys create DIR` makes them once, to copy to every host); only the embedded
SQLite set-up, one host by nature, generates them in its instance folder on first run.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyFileMissing(RuntimeError):
    """A key or secret the configuration names (or must name) is not there: the app does not
    start rather than make one of its own that no other host shares."""


def load_key(path: Path, setting: str, *, create: bool) -> Ed25519PrivateKey:
    """The key at `path`; generated there on first use only when `create` (the embedded SQLite
    set-up), otherwise refused, naming the `setting` that must point at the shared file."""
    if not create and not path.is_file():
        raise KeyFileMissing(
            f"{setting}: no key file at {path}. With PostgreSQL every host must use the same"
            f" keys: create them once with `python -m lotrack.keys create DIR`, copy DIR to each"
            f" host and set {setting} (README: Deploying on several hosts)."
        )
    return load_or_create_key(path)


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


KEY_FILES = {
    "LOTRACK_LABEL_KEY_FILE": "label_signing_key.pem",
    "LOTRACK_AUDIT_KEY_FILE": "audit_checkpoint_key.pem",
}
SECRET_FILE = "secret_key"  # noqa: S105 (a file name: LOTRACK_SECRET_KEY_FILE's default)


def create_key_files(folder: Path) -> dict[str, Path]:
    """The label key, the audit checkpoint key and the session secret as new files in `folder`
    (mode 0600), refusing to replace any: a replaced label key makes every printed label fail."""
    paths = {name: folder / file for name, file in KEY_FILES.items()}
    paths["LOTRACK_SECRET_KEY_FILE"] = folder / SECRET_FILE
    taken = [str(p) for p in paths.values() if p.exists()]
    if taken:
        raise FileExistsError(f"not replaced: {', '.join(taken)}")
    folder.mkdir(parents=True, exist_ok=True)
    for file in KEY_FILES.values():
        load_or_create_key(folder / file)
    fd = os.open(paths["LOTRACK_SECRET_KEY_FILE"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    return paths


def main(argv: list[str]) -> int:
    """`python -m lotrack.keys create DIR`: make the shared keys and print the settings."""
    if len(argv) != 2 or argv[0] != "create":
        print("usage: python -m lotrack.keys create DIR", file=sys.stderr)
        return 2
    try:
        paths = create_key_files(Path(argv[1]))
    except FileExistsError as err:
        print(f"lotrack.keys: {err}", file=sys.stderr)
        return 1
    for name, path in paths.items():
        print(f"{name}={path.resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
