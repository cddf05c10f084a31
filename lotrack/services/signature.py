"""Electronic signatures: the signer proves identity again at each signing (username and password,
21 CFR 11.200(a)); a wrong password counts toward lockout even though the signing is refused."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.decisions import Action, Meaning
from lotrack.domain.errors import Forbidden
from lotrack.models import Lot, Signature, User
from lotrack.services import accounts, audit
from lotrack.services.dossier import dossier_hash


class SignatureRefused(Forbidden):
    """The credentials did not prove the signer; the failure count must still be committed."""

    code = "signature_refused"
    keep_writes = True


def authenticate_signer(
    session: Session,
    actor: User,
    username: str,
    password: str,
    *,
    max_failures: int,
    lockout_minutes: int,
) -> User:
    """The logged-in person signs for themselves, with their own password, now."""
    if (username or "").strip().lower() != actor.username:
        raise Forbidden(
            "Sign with your own username: the signature is yours.",
            {"username": f"you are logged in as {actor.username}"},
        )
    now = utcnow()
    if actor.locked_until is not None and actor.locked_until > now:
        raise Forbidden(
            f"Your account is locked until {actor.locked_until:%Y-%m-%d %H:%M} UTC after repeated"
            " failed attempts; ask an administrator to unlock it.",
            {"password": "account locked"},
        )
    if not accounts.check_password(actor, password):
        accounts.register_failure(
            session, actor, max_failures=max_failures, lockout_minutes=lockout_minutes
        )
        audit.event(session, actor, "signature_refused", actor, {"reason": "wrong password"})
        raise SignatureRefused(
            "The password is wrong; nothing was signed. Repeated failures lock the account.",
            {"password": "wrong password"},
        )
    if actor.failed_logins:
        actor.failed_logins = 0
    return actor


def sign(
    session: Session,
    signer: User,
    lot: Lot,
    action: Action,
    meaning: Meaning,
    *,
    reason: str = "",
    exceptional_release_id: int | None = None,
    containment_id: int | None = None,
) -> Signature:
    signature = Signature(
        lot_id=lot.id,
        action=action.value,
        meaning=meaning.value,
        signer_id=signer.id,
        signer_name=signer.full_name,
        signer_username=signer.username,
        signed_at=utcnow(),
        dossier_sha256=dossier_hash(session, lot),
        reason=(reason or "").strip(),
        exceptional_release_id=exceptional_release_id,
        containment_id=containment_id,
    )
    audit.created(session, signer, signature, reason=reason)
    return signature


@dataclass(frozen=True)
class ShownSignature:
    signature: Signature
    void: bool  # the dossier changed after signing


def signatures_of(session: Session, lot: Lot) -> list[ShownSignature]:
    rows = session.scalars(
        select(Signature).where(Signature.lot_id == lot.id).order_by(Signature.id)
    ).all()
    if not rows:
        return []
    current = dossier_hash(session, lot)
    return [ShownSignature(s, s.dossier_sha256 != current) for s in rows]
