"""Specification versions: loading the reviewed files, QA approval, and the version in effect."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.passage import PassageLimits
from lotrack.domain.permissions import require
from lotrack.domain.record_signatures import SubjectKind
from lotrack.domain.spec_file import content_hash, from_plain, parse_spec, to_plain
from lotrack.domain.specs import SpecContent, Stage
from lotrack.domain.text import N_, Said, said
from lotrack.models import RecordSignature, SpecVersion, User
from lotrack.services import audit, record_signature
from lotrack.services.signature import Lockout, SignIn

SPECS_DIR = Path(__file__).resolve().parents[2] / "specs"


@dataclass(frozen=True)
class LoadOutcome:
    file: str
    label: str
    version: int
    created: bool


def read_files(specs_dir: Path = SPECS_DIR) -> list[tuple[str, SpecContent]]:
    """Parse every file first; one bad file refuses the whole load, naming each problem."""
    parsed: list[tuple[str, SpecContent]] = []
    problems: dict[str, str] = {}
    seen: dict[tuple[str, str], str] = {}
    for path in sorted(specs_dir.glob("*.toml")):
        try:
            content = parse_spec(path.read_text(encoding="utf-8"), path.name)
        except ValidationFailed as err:
            problems.update({f"{path.name}: {k}": v for k, v in err.fields.items()})
            continue
        key = (content.product, content.stage.value)
        if key in seen:
            problems[path.name] = said(
                "%(product)s %(stage)s is also in %(file)s",
                product=content.product,
                stage=Said(str(content.stage)),
                file=seen[key],
            )
        seen[key] = path.name
        parsed.append((path.name, content))
    if problems:
        raise ValidationFailed(N_("The specifications were not loaded; nothing changed."), problems)
    if not parsed:
        raise ValidationFailed(
            said("No specification files under %(folder)s.", folder=str(specs_dir)),
            {"specs": "none"},
        )
    return parsed


def load_specs(
    session: Session, actor: User | None, specs_dir: Path = SPECS_DIR
) -> list[LoadOutcome]:
    """A new draft version for each file whose content differs from its latest version."""
    out = []
    for name, content in read_files(specs_dir):
        digest = content_hash(content)
        latest = _latest(session, content.product, content.stage.value)
        if latest is not None and latest.content_hash == digest:
            out.append(LoadOutcome(name, latest.label, latest.version, False))
            continue
        version = SpecVersion(
            product=content.product,
            stage=content.stage.value,
            version=(latest.version + 1) if latest else 1,
            title=content.title,
            content=json.dumps(to_plain(content), sort_keys=True, ensure_ascii=False),
            content_hash=digest,
            source_file=name,
        )
        audit.created(session, actor, version)
        out.append(LoadOutcome(name, version.label, version.version, True))
    session.flush()
    return out


def _latest(session: Session, product: str, stage: str) -> SpecVersion | None:
    return session.scalar(
        select(SpecVersion)
        .where(SpecVersion.product == product, SpecVersion.stage == stage)
        .order_by(SpecVersion.version.desc())
        .limit(1)
    )


def list_versions(session: Session) -> list[SpecVersion]:
    return list(
        session.scalars(
            select(SpecVersion).order_by(
                SpecVersion.product, SpecVersion.stage, SpecVersion.version.desc()
            )
        )
    )


def get_version(session: Session, version_id: int) -> SpecVersion:
    found = session.get(SpecVersion, version_id)
    if found is None:
        raise NotFound(
            said("No specification version %(id)s.", id=version_id),
            {"spec": N_("no such version")},
        )
    return found


def effective(session: Session, product: str, stage: Stage | str) -> SpecVersion | None:
    """The newest approved version: the one new records pin."""
    return session.scalar(
        select(SpecVersion)
        .where(
            SpecVersion.product == product,
            SpecVersion.stage == str(stage),
            SpecVersion.approved_at.is_not(None),
        )
        .order_by(SpecVersion.version.desc())
        .limit(1)
    )


def require_effective(session: Session, product: str, stage: Stage | str) -> SpecVersion:
    found = effective(session, product, stage)
    if found is None:
        raise Conflict(
            said(
                "No approved %(product)s %(stage)s specification: QA must approve one first.",
                product=product,
                stage=Said(str(stage)),
            ),
            {
                "spec": said(
                    "no approved %(product)s %(stage)s specification",
                    product=product,
                    stage=Said(str(stage)),
                )
            },
        )
    return found


def newer_approved(session: Session, pinned: SpecVersion | None) -> SpecVersion | None:
    """A newer approved version than the one a record pinned, if there is one."""
    if pinned is None:
        return None
    current = effective(session, pinned.product, pinned.stage)
    return current if current is not None and current.version > pinned.version else None


def status(session: Session, version: SpecVersion) -> str:
    """draft, superseded draft, in effect, or superseded."""
    latest_version = session.scalar(
        select(func.max(SpecVersion.version)).where(
            SpecVersion.product == version.product, SpecVersion.stage == version.stage
        )
    )
    if version.approved_at is None:
        return "draft" if version.version == latest_version else "withdrawn draft"
    current = effective(session, version.product, version.stage)
    return "in effect" if current is not None and current.id == version.id else "superseded"


def approve(
    session: Session, actor: User, version: SpecVersion, *, sign_in: SignIn, lockout: Lockout
) -> RecordSignature:
    """QA approval under the approver's signature (meaning 'approved'): the version takes effect
    for records created from now on."""
    require(actor.role, "specs.approve")
    record_signature.hold(session, version)
    if version.approved_at is not None:
        raise Conflict(
            said(
                "%(spec)s was approved already; an approved version never changes.",
                spec=version.label,
            ),
            {"spec": N_("approved already")},
        )
    latest = _latest(session, version.product, version.stage)
    if latest is not None and latest.version != version.version:
        raise Conflict(
            said(
                "%(spec)s has been replaced by version %(version)s; approve that one.",
                spec=version.label,
                version=latest.version,
            ),
            {"spec": said("version %(version)s is newer", version=latest.version)},
        )
    proven = record_signature.prove(session, actor, SubjectKind.SPEC_VERSION, sign_in, lockout)
    audit.changed(
        session,
        proven.signer,
        version,
        {"approved_by_id": proven.signer.id, "approved_at": utcnow()},
        reason=f"approved {version.label} ({version.content_hash[:12]})",
    )
    return record_signature.sign(session, proven, version)


@lru_cache(maxsize=64)
def _content(digest: str, text: str) -> SpecContent:
    return from_plain(json.loads(text))


def content_of(version: SpecVersion) -> SpecContent:
    """The parsed content of a stored version (cached by its hash: versions never change)."""
    return _content(version.content_hash, version.content)


def passage_limits(version: SpecVersion) -> PassageLimits:
    limits = content_of(version).limits
    try:
        return PassageLimits(
            int(limits["max_passage"]),
            Decimal(limits["max_cumulative_pdl"]),
            limits.get("source", version.label),
        )
    except (KeyError, ValueError, ArithmeticError):
        raise ValidationFailed(
            said(
                "%(spec)s states no passage limits (max_passage, max_cumulative_pdl).",
                spec=version.label,
            ),
            {"spec": N_("no passage limits")},
        ) from None
