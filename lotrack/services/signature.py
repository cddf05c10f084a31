"""Electronic signatures: the signer proves identity again at each signing (username and password,
21 CFR 11.200(a)); a wrong password counts toward the signing lock even though the signing is
refused. The signing lock stops signing only: the signer's session goes on, and so do logins."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.decisions import Action, Meaning
from lotrack.domain.errors import Forbidden
from lotrack.domain.lockout import Rules
from lotrack.domain.text import N_, Moment, said
from lotrack.models import Lot, Signature, User
from lotrack.services import accounts, audit
from lotrack.services import lockout as locks
from lotrack.services.dossier import dossier_hash


class SignatureRefused(Forbidden):
    """The credentials did not prove the signer; the failure count must still be committed."""

    code = "signature_refused"
    keep_writes = True


@dataclass(frozen=True)
class SignIn:
    """What the signer types at signing: their username and password, the meaning, a comment."""

    username: str
    password: str
    meaning: str
    reason: str = ""


@dataclass(frozen=True)
class Lockout:
    """How many wrong passwords at signing lock signing, and for how many minutes."""

    max_failures: int
    lockout_minutes: int

    @property
    def rules(self) -> Rules:
        return Rules(self.max_failures, self.lockout_minutes)


def authenticate(
    session: Session,
    signer: User,
    password: str,
    lockout: Lockout,
    *,
    field: str = "password",
    refusal: type[SignatureRefused] = SignatureRefused,
) -> User:
    """The one signer check of every signing path: the signer's signing is not locked and the
    password typed now is theirs. A wrong one counts toward the signing lock (not the login
    lock), with its audit event (kept although the signing is refused), so callers authenticate
    before they write anything. `field` names the form field of the password (a witness has
    their own)."""
    mine = field == "password"
    if locks.signing_locked(signer):
        until = Moment(signer.signing_locked_until or utcnow())
        raise Forbidden(
            said(
                "Your signing is locked until %(until)s after repeated wrong passwords; you can"
                " go on working, and an administrator can lift it.",
                until=until,
            )
            if mine
            else said(
                "%(username)s's signing is locked until %(until)s after repeated wrong"
                " passwords; an administrator can lift it.",
                username=signer.username,
                until=until,
            ),
            {field: N_("signing locked")},
        )
    if not signer.active or signer.enrolled_at is None or signer.must_change_password:
        who = signer.username
        # Not a guess at the password: said as it is, and not counted toward the signing lock.
        raise Forbidden(
            said("%(username)s's account is disabled; nothing was signed.", username=who)
            if not signer.active
            else said(
                "%(username)s has not chosen their own password yet (enrolment, or the change at"
                " first login); nothing was signed.",
                username=who,
            ),
            {field: N_("cannot sign yet")},
        )
    if not accounts.check_password(signer, password):
        locks.signing_failed(session, signer, lockout.rules)
        audit.event(session, signer, "signature_refused", signer, {"reason": "wrong password"})
        # A witness's signature belongs to a record (the infusion), which is not recorded either.
        raise refusal(
            N_("The password is wrong; nothing was signed. Repeated failures lock signing.")
            if mine
            else said(
                "%(username)s's password is wrong; nothing was recorded. Repeated failures lock"
                " their signing.",
                username=signer.username,
            ),
            {field: N_("wrong password")},
        )
    locks.signed(signer)
    return signer


def authenticate_sign_in(session: Session, actor: User, sign_in: SignIn, lockout: Lockout) -> User:
    """The logged-in person signs for themselves, with their own password, now."""
    if (sign_in.username or "").strip().lower() != actor.username:
        raise Forbidden(
            N_("Sign with your own username: the signature is yours."),
            {"username": said("you are logged in as %(username)s", username=actor.username)},
        )
    return authenticate(session, actor, sign_in.password, lockout)


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
