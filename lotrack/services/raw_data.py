"""Raw-data files attached to results (an instrument's export, a cytometer's FCS, a photo of a
plate): checked by name, size and content, stored with their SHA-256, audited."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, said
from lotrack.models import Attachment, User
from lotrack.services import audit

RAW_TYPES = {
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".fcs": "application/octet-stream",  # flow cytometry standard
}
MAX_RAW_BYTES = 2 * 1024 * 1024
# How each binary type begins; text types hold no NUL. A file renamed to pass is refused.
RAW_MAGIC = {
    ".pdf": b"%PDF-",
    ".png": b"\x89PNG\r\n\x1a\n",
    ".jpg": b"\xff\xd8\xff",
    ".jpeg": b"\xff\xd8\xff",
    ".fcs": b"FCS",
}


@dataclass(frozen=True)
class RawFile:
    filename: str
    data: bytes


def safe_filename(name: str) -> str:
    """The base name only, without path parts or control characters, at most 120 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")
    return base[-120:].lstrip(" .") or "raw-data"


def store_raw(session: Session, actor: User, raw: RawFile) -> Attachment:
    name = safe_filename(raw.filename)
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ext not in RAW_TYPES:
        types = ", ".join(sorted(RAW_TYPES))
        raise ValidationFailed(
            said("Raw-data files may be %(types)s; %(file)s is not.", types=types, file=name),
            {"raw_file": said("one of %(choices)s", choices=types)},
        )
    if not raw.data or len(raw.data) > MAX_RAW_BYTES:
        raise ValidationFailed(
            N_("The raw-data file is empty or larger than 2 MiB."),
            {"raw_file": N_("1 byte to 2 MiB")},
        )
    magic = RAW_MAGIC.get(ext)
    fits = raw.data.startswith(magic) if magic else b"\x00" not in raw.data
    if not fits:
        kind = ext[1:].upper()
        raise ValidationFailed(
            said("%(file)s is not a %(kind)s file by its content.", file=name, kind=kind),
            {"raw_file": said("content is not %(kind)s", kind=kind)},
        )
    attachment = Attachment(
        sha256=hashlib.sha256(raw.data).hexdigest(),
        filename=name,
        content_type=RAW_TYPES[ext],
        size=len(raw.data),
        data=raw.data,
        uploaded_by_id=actor.id,
    )
    audit.created(session, actor, attachment)
    return attachment
