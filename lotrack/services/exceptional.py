"""Exceptional release (EU GMP Part IV §11.5; FACT): a lot that does not meet every criterion goes
to one patient at the treating physician's request, on the manufacturer's risk assessment, once QA
and the medical director have both signed. Before any unit is allocated the treating physician
accepts it under signature and the sponsor's notification is logged; its units go to the named
patient record only (domain/distribution.py)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.decisions import MEANING_OF_ROLE, Action, Meaning, check_signer, target_of
from lotrack.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lotrack.domain.mail import MailEvent
from lotrack.domain.permissions import Role, require
from lotrack.domain.release import uncovered
from lotrack.domain.states import ExceptionalStatus, LotState, RecipientRole
from lotrack.domain.text import N_, Said, said
from lotrack.models import ExceptionalRelease, Lot, Notification, Patient, Signature, User
from lotrack.services import audit, clock, notify, signature
from lotrack.services.common import norm, sentences
from lotrack.services.dossier import dossier_hash
from lotrack.services.evaluation import evaluate_lot
from lotrack.services.numbering import issue
from lotrack.services.release import move, review, segregation
from lotrack.services.signature import Lockout, SignIn, authenticate_sign_in

RECIPIENT_ROLES = tuple(RecipientRole)


def request_release(
    session: Session,
    actor: User,
    lot: Lot,
    *,
    physician: str,
    patient: str,
    request: str,
    requested_on: dt.date,
    risk_assessment: str,
) -> ExceptionalRelease:
    """Record the physician's request and the manufacturer's risk assessment (QA)."""
    require(actor.role, "exceptional.request")
    fields = {
        k: N_("required")
        for k, v in (
            ("physician", physician),
            ("patient", patient),
            ("request", request),
            ("risk_assessment", risk_assessment),
        )
        if not (v or "").strip()
    }
    if requested_on > clock.today(session):
        fields["requested_on"] = N_("in the future")
    record = None
    if "patient" not in fields:
        record = session.scalar(select(Patient).where(Patient.wristband == norm(patient)))
        if record is None:
            fields["patient"] = N_("no patient with this wristband (SITE/SUBJECT)")
    if fields:
        raise ValidationFailed(N_("The exceptional release request is incomplete."), fields)
    assert record is not None
    target_of(Action.EXCEPTIONAL_RELEASE, LotState(lot.state), None)
    if session.scalar(
        select(func.count()).where(
            ExceptionalRelease.lot_id == lot.id,
            ExceptionalRelease.status == ExceptionalStatus.PENDING,
        )
    ):
        raise Conflict(
            said(
                "Lot %(lot)s has a pending exceptional release request already.",
                lot=lot.lot_number,
            ),
            {"lot": N_("request pending")},
        )
    blockers = review(session, lot).blockers
    if not blockers:
        raise Conflict(
            said(
                "Lot %(lot)s meets its specification; release it the ordinary way.",
                lot=lot.lot_number,
            ),
            {"lot": N_("releasable")},
        )
    er = ExceptionalRelease(
        number=issue(session, "ER", utcnow().year, ExceptionalRelease.number, 3),
        lot=lot,
        physician=physician.strip(),
        patient=record.wristband,
        for_patient=record,
        request=request.strip(),
        requested_on=requested_on,
        risk_assessment=risk_assessment.strip(),
        blockers=json.dumps([b.message for b in blockers], ensure_ascii=False),
        blocker_keys=json.dumps([[b.kind, b.subject] for b in blockers], ensure_ascii=False),
        status=ExceptionalStatus.PENDING,
        created_by_id=actor.id,
    )
    audit.created(session, actor, er)
    notify.queue(session, MailEvent.EXCEPTIONAL_REQUESTED, er)
    return er


def get_request(session: Session, number: str) -> ExceptionalRelease:
    found = session.scalar(
        select(ExceptionalRelease).where(ExceptionalRelease.number == norm(number))
    )
    if found is None:
        raise NotFound(
            said("No exceptional release %(number)s.", number=number),
            {"number": N_("no such request")},
        )
    return found


def signatures_for(session: Session, er: ExceptionalRelease) -> list[Signature]:
    return list(
        session.scalars(
            select(Signature)
            .where(Signature.exceptional_release_id == er.id)
            .order_by(Signature.id)
        )
    )


def sign_release(
    session: Session,
    actor: User,
    er: ExceptionalRelease,
    sign_in: SignIn,
    lockout: Lockout,
) -> Signature:
    """QA's or the medical director's signature; with both, the lot is exceptionally released."""
    require(actor.role, "exceptional.sign")
    signer = authenticate_sign_in(session, actor, sign_in, lockout)
    meaning = check_signer(Action.EXCEPTIONAL_RELEASE, signer.role, sign_in.meaning)
    # QA and the medical director may sign at the same moment: the request's row is locked so
    # the second signer sees the first's signature and completes the release (never both
    # waiting on each other's, leaving the request stuck with two signatures and no release).
    session.execute(
        select(ExceptionalRelease.id).where(ExceptionalRelease.id == er.id).with_for_update()
    )
    session.refresh(er)
    if er.status != ExceptionalStatus.PENDING:
        raise Conflict(
            said("%(number)s is %(state)s.", number=er.number, state=Said(str(er.status))),
            {"number": er.status},
        )
    lot = er.lot
    current = LotState(lot.state)
    target = target_of(Action.EXCEPTIONAL_RELEASE, current, None)
    # Only approval signatures on the dossier as it stands count: one given before a change is
    # void, and the physician's acceptance (which may come first) is not an approval.
    current_hash = dossier_hash(session, lot)
    signed = [
        s
        for s in signatures_for(session, er)
        if s.dossier_sha256 == current_hash and s.action == Action.EXCEPTIONAL_RELEASE.value
    ]
    if any(s.meaning == meaning.value for s in signed):
        raise Conflict(
            said(
                "%(number)s carries the %(role)s signature already.",
                number=er.number,
                role=Said(str(signer.role)),  # a coded word, translated
            ),
            {"meaning": N_("signed")},
        )
    if signer.role == Role.QA:
        problem = segregation(session, signer, lot)
        if problem:
            raise Conflict(problem, {"username": N_("tested or verified this lot")})
    completes = {s.meaning for s in signed} | {meaning.value} == {
        m.value for m in MEANING_OF_ROLE.values()
    }
    if completes:
        # The release accepts what the request named, nothing that arose since (an OOS opened on
        # a sibling, say): that needs a new request and a new risk assessment.
        unaccepted = uncovered(evaluate_lot(session, lot).evaluation.blockers, accepted(er))
        if unaccepted:
            raise Conflict(
                said(
                    "Lot %(lot)s has blockers the request did not name: %(blockers)s Withdraw the"
                    " request and make a new one.",
                    lot=lot.lot_number,
                    blockers=sentences(b.message for b in unaccepted),
                ),
                {f"blocker {i + 1}": b.message for i, b in enumerate(unaccepted)},
            )
    given = signature.sign(
        session,
        signer,
        lot,
        Action.EXCEPTIONAL_RELEASE,
        meaning,
        reason=sign_in.reason,
        exceptional_release_id=er.id,
    )
    if completes:
        move(session, signer, lot, current, target, Action.EXCEPTIONAL_RELEASE)
        audit.changed(
            session,
            signer,
            er,
            {"status": ExceptionalStatus.APPROVED},
            reason="both signatures given",
        )
        notify.queue(session, MailEvent.EXCEPTIONAL_SIGNED, er)
    return given


def accepted(er: ExceptionalRelease) -> list[tuple[str, str]]:
    """The (kind, subject) of each blocker the request named: what the release accepts."""
    return [(kind, subject) for kind, subject in json.loads(er.blocker_keys or "[]")]


def accept_release(
    session: Session,
    actor: User,
    er: ExceptionalRelease,
    sign_in: SignIn,
    lockout: Lockout,
) -> Signature:
    """The treating physician (a clinical user of the patient's site) accepts the exceptional
    release for their patient, under signature; no unit is allocated before this."""
    require(actor.role, "exceptional.accept")
    signer = authenticate_sign_in(session, actor, sign_in, lockout)
    if sign_in.meaning != Meaning.EXCEPTIONAL_RELEASE_ACCEPTED:
        raise Conflict(
            said(
                "The meaning of this signature is '%(meaning)s'.",
                meaning=Meaning.EXCEPTIONAL_RELEASE_ACCEPTED.value,
            ),
            {"meaning": Meaning.EXCEPTIONAL_RELEASE_ACCEPTED.value},
        )
    patient = er.for_patient
    if patient is None or patient.site_id != signer.site_id:
        raise Forbidden(
            said(
                "%(number)s is for a patient of another site; their own physician accepts it.",
                number=er.number,
            ),
            {"username": N_("not at the patient's site")},
        )
    if er.status not in (ExceptionalStatus.PENDING, ExceptionalStatus.APPROVED):
        raise Conflict(
            said("%(number)s is %(state)s.", number=er.number, state=Said(str(er.status))),
            {"number": er.status},
        )
    if acceptance_of(session, er) is not None:
        raise Conflict(
            said("%(number)s was accepted already.", number=er.number),
            {"number": N_("accepted already")},
        )
    return signature.sign(
        session,
        signer,
        er.lot,
        Action.EXCEPTIONAL_ACCEPTANCE,
        Meaning.EXCEPTIONAL_RELEASE_ACCEPTED,
        reason=sign_in.reason,
        exceptional_release_id=er.id,
    )


def acceptance_of(session: Session, er: ExceptionalRelease) -> Signature | None:
    return session.scalar(
        select(Signature)
        .where(
            Signature.exceptional_release_id == er.id,
            Signature.action == Action.EXCEPTIONAL_ACCEPTANCE.value,
        )
        .limit(1)
    )


@dataclass(frozen=True)
class Terms:
    """What an approved exceptional release lets its units do: go to `patient_id` only, once
    nothing in `problems` remains (the physician's acceptance, the sponsor's notification)."""

    patient_id: int | None
    problems: tuple[str, ...]


def terms_of(session: Session, lot: Lot) -> Terms:
    """The terms of the lot's approved exceptional release (no patient: no approved release)."""
    er = session.scalar(
        select(ExceptionalRelease)
        .where(
            ExceptionalRelease.lot_id == lot.id,
            ExceptionalRelease.status == ExceptionalStatus.APPROVED,
        )
        .order_by(ExceptionalRelease.id.desc())
        .limit(1)
    )
    if er is None:
        return Terms(None, ())
    problems = []
    if acceptance_of(session, er) is None:
        problems.append(
            said("the treating physician has not accepted %(number)s", number=er.number)
        )
    told = session.scalar(
        select(func.count()).where(
            Notification.exceptional_release_id == er.id,
            Notification.recipient_role == RecipientRole.SPONSOR,
        )
    )
    if not told:
        problems.append(
            said("the sponsor's notification of %(number)s is not logged", number=er.number)
        )
    return Terms(er.patient_id, tuple(problems))


def withdraw(session: Session, actor: User, er: ExceptionalRelease, reason: str) -> None:
    require(actor.role, "exceptional.request")
    if er.status != ExceptionalStatus.PENDING:
        raise Conflict(
            said("%(number)s is %(state)s.", number=er.number, state=Said(str(er.status))),
            {"number": er.status},
        )
    audit.changed(session, actor, er, {"status": ExceptionalStatus.WITHDRAWN}, reason=reason)


def record_notification(
    session: Session,
    actor: User,
    *,
    recipient_role: str,
    recipient: str,
    method: str,
    notified_at: dt.datetime,
    note: str = "",
    er: ExceptionalRelease | None = None,
    containment_id: int | None = None,
) -> Notification:
    """Log that a physician, the sponsor or a site was told (of an exceptional release/recall)."""
    require(actor.role, "release.decide")
    fields = {}
    if recipient_role not in RECIPIENT_ROLES:
        fields["recipient_role"] = said("one of %(choices)s", choices=", ".join(RECIPIENT_ROLES))
    for key, value in (("recipient", recipient), ("method", method)):
        if not (value or "").strip():
            fields[key] = N_("required")
    if notified_at > utcnow():
        fields["notified_at"] = N_("in the future")
    if fields:
        raise ValidationFailed(N_("The notification cannot be recorded."), fields)
    note_row = Notification(
        exceptional_release_id=er.id if er is not None else None,
        containment_id=containment_id,
        recipient_role=recipient_role,
        recipient=recipient.strip(),
        method=method.strip(),
        notified_at=notified_at,
        note=(note or "").strip(),
        recorded_by_id=actor.id,
    )
    audit.created(session, actor, note_row)
    return note_row


def requests_of(session: Session, lot: Lot) -> list[ExceptionalRelease]:
    """Every exceptional release request of a lot, oldest first."""
    return list(
        session.scalars(
            select(ExceptionalRelease)
            .where(ExceptionalRelease.lot_id == lot.id)
            .order_by(ExceptionalRelease.id)
        )
    )


def notifications_of(
    session: Session, *, er_id: int | None = None, containment_id: int | None = None
) -> list[Notification]:
    """Who was told of one exceptional release or of one hold/recall, in order."""
    column = (
        Notification.exceptional_release_id if er_id is not None else Notification.containment_id
    )
    wanted = er_id if er_id is not None else containment_id
    return list(
        session.scalars(select(Notification).where(column == wanted).order_by(Notification.id))
    )
