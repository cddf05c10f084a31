"""E-mail notices: `queue(session, event, subject)` is called by the service where the event
happens and writes one outbox row per person concerned IN that transaction; services/mail_sender.py
sends them after it commits. Nothing is sent for an event rolled back, and each (event, record,
stage, person) is queued once (the outbox's unique key), however often it is retried or rescanned.

Who is told: a hold or recall: QA, the medical director and the staff of every site the lots'
units were shipped to; an OOS opened: QA; an exceptional release requested: the medical director
and QA; signed (both signatures): the requester and the patient's site; an adverse-event report
due or overdue: the site's investigators and QA; a calibration due: the technicians who keep the
instruments (no instrument has a named owner) and QA; a temperature excursion in transit: QA, the
medical director and the receiving site's staff, and when units on the shipment were infused
already, a second notice naming them and their patients to the same people."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.mail import MailEvent, MailStatus, SmtpServer
from lotrack.domain.mail_text import compose
from lotrack.domain.permissions import SITE_ROLES, Role
from lotrack.domain.states import ContainmentKind
from lotrack.models import (
    AdverseEvent,
    ColdChainLog,
    Containment,
    ContainmentLot,
    ExceptionalRelease,
    Infusion,
    Instrument,
    Investigation,
    Lot,
    MailOutbox,
    Patient,
    Shipment,
    ShipmentUnit,
    Unit,
    User,
)

SETTINGS_KEY = "mail"  # session.info: the MailSettings (set by the app factory)
NEW_KEY = "mail_new"  # session.info: the rows this transaction queued, sent after its commit


@dataclass(frozen=True)
class MailSettings:
    server: SmtpServer | None  # None: notices are shown in the app only
    base_url: str  # links in the notices start here (LOTRACK_PUBLIC_BASE_URL)
    timeout: float = 10.0


def settings(session: Session) -> MailSettings:
    found = session.info.get(SETTINGS_KEY)
    return found if isinstance(found, MailSettings) else MailSettings(None, "")


@dataclass(frozen=True)
class Notice:
    """What one event tells, and to whom."""

    subject_id: int
    number: str
    detail: str
    path: str
    recipients: list[User]


def _users(
    session: Session, roles: Iterable[Role], site_ids: Iterable[int] | None = None
) -> list[User]:
    """Active users of these roles; site roles only at `site_ids` (None: every site)."""
    roles = set(roles)
    stmt = select(User).where(User.active.is_(True), User.role.in_(roles)).order_by(User.id)
    found = list(session.scalars(stmt))
    if site_ids is None:
        return found
    sites = set(site_ids)
    return [u for u in found if u.role not in SITE_ROLES or u.site_id in sites]


def _containment(session: Session, record: Containment) -> Notice:
    lots = select(ContainmentLot.lot_id).where(ContainmentLot.containment_id == record.id)
    sites = session.scalars(
        select(Shipment.site_id)
        .join(ShipmentUnit, ShipmentUnit.shipment_id == Shipment.id)
        .join(Unit, Unit.id == ShipmentUnit.unit_id)
        .where(Unit.lot_id.in_(lots))
        .distinct()
    ).all()
    numbers = ", ".join(
        session.scalars(
            select(Lot.lot_number)
            .join(ContainmentLot, ContainmentLot.lot_id == Lot.id)
            .where(ContainmentLot.containment_id == record.id)
            .order_by(Lot.lot_number)
        )
    )
    roles = [Role.QA, Role.MEDICAL_DIRECTOR, *([Role.CLINICAL, Role.INVESTIGATOR] if sites else [])]
    return Notice(
        record.id,
        record.number,
        f"{numbers}. {record.reason}",
        f"/containments/{record.number}",
        _users(session, roles, sites),
    )


def _investigation(session: Session, inv: Investigation) -> Notice:
    r = inv.result
    detail = f"{inv.lot.lot_number}: {r.test_code} {r.value}"
    path = f"/investigations/{inv.number}"
    return Notice(inv.id, inv.number, detail, path, _users(session, [Role.QA]))


def _exceptional(session: Session, er: ExceptionalRelease, signed: bool) -> Notice:
    detail = f"{er.lot.lot_number}, {er.patient}"
    path = f"/exceptional/{er.number}"
    if not signed:
        people = _users(session, [Role.MEDICAL_DIRECTOR, Role.QA])
    else:
        site = er.for_patient.site_id if er.for_patient is not None else None
        staff = _users(session, [Role.CLINICAL, Role.INVESTIGATOR], [site] if site else [])
        requester = session.get(User, er.created_by_id)
        people = [requester, *staff] if requester is not None else staff
    return Notice(er.id, er.number, detail, path, people)


def _adverse(session: Session, event: AdverseEvent, stage: str) -> Notice:
    patient = event.patient
    people = _users(session, [Role.INVESTIGATOR, Role.QA], [patient.site_id])
    number = f"AE-{event.id}"
    path = f"/patients/{patient.wristband}/adverse-events/{event.id}"
    return Notice(event.id, number, f"{patient.wristband} {event.term}: {stage}", path, people)


def _instrument(session: Session, instrument: Instrument, stage: str) -> Notice:
    people = _users(session, [Role.TECHNICIAN, Role.QA])
    path = f"/instruments/{instrument.code}"
    return Notice(instrument.id, instrument.code, f"{instrument.name}, {stage}", path, people)


def _excursion(session: Session, log: ColdChainLog, infused: bool) -> Notice:
    shipment = session.get_one(Shipment, log.shipment_id)
    units = (
        select(Unit.din, Patient.wristband)
        .join(ShipmentUnit, ShipmentUnit.unit_id == Unit.id)
        .outerjoin(Infusion, Infusion.unit_id == Unit.id)
        .outerjoin(Patient, Patient.id == Infusion.patient_id)
        .where(ShipmentUnit.shipment_id == shipment.id)
        .order_by(Unit.din)
    )
    rows = session.execute(units).all()
    if infused:
        detail = ", ".join(f"{din} → {wristband}" for din, wristband in rows if wristband)
    else:
        detail = ", ".join(din for din, wristband in rows if not wristband)
    roles = [Role.QA, Role.MEDICAL_DIRECTOR, Role.CLINICAL, Role.INVESTIGATOR]
    people = _users(session, roles, [shipment.site_id])
    return Notice(log.id, shipment.number, detail, f"/shipments/{shipment.number}", people)


def notice_of(session: Session, event: MailEvent, subject: Any, stage: str) -> Notice:
    if event in (MailEvent.HOLD, MailEvent.RECALL):
        return _containment(session, subject)
    if event == MailEvent.OOS_OPENED:
        return _investigation(session, subject)
    if event in (MailEvent.EXCEPTIONAL_REQUESTED, MailEvent.EXCEPTIONAL_SIGNED):
        return _exceptional(session, subject, event == MailEvent.EXCEPTIONAL_SIGNED)
    if event in (MailEvent.AE_REPORT_DUE, MailEvent.AE_REPORT_OVERDUE):
        return _adverse(session, subject, stage)
    if event in (MailEvent.COLD_CHAIN_EXCURSION, MailEvent.EXCURSION_AFTER_INFUSION):
        return _excursion(session, subject, event == MailEvent.EXCURSION_AFTER_INFUSION)
    return _instrument(session, subject, stage)


def containment_event(record: Containment) -> MailEvent:
    return MailEvent.RECALL if record.kind == ContainmentKind.RECALL else MailEvent.HOLD


def queue(session: Session, event: MailEvent, subject: Any, stage: str = "") -> list[MailOutbox]:
    """Queue the notice of `event` about `subject` to everyone it concerns, once each; `stage`
    tells apart notices of one record that recur (a report's due date, a calibration's)."""
    session.flush()
    notice = notice_of(session, event, subject, stage)
    config = settings(session)
    prefix = f"{event.value}:{notice.subject_id}:{stage}:"
    people = {u.id: u for u in notice.recipients}
    keys = {prefix + str(uid): uid for uid in people}
    done = set(session.scalars(select(MailOutbox.key).where(MailOutbox.key.in_(list(keys)))))
    link = config.base_url.rstrip("/") + notice.path
    rows = []
    for key, uid in keys.items():
        if key in done:
            continue
        person = people[uid]
        language = str(person.language) if person.language else None
        message = compose(event, language, number=notice.number, detail=notice.detail, link=link)
        if config.server is None:
            status = MailStatus.IN_APP
        elif not person.email:
            status = MailStatus.NO_ADDRESS
        else:
            status = MailStatus.QUEUED
        row = MailOutbox(
            key=key,
            event=event,
            subject_id=notice.subject_id,
            number=notice.number,
            recipient_id=person.id,
            address=person.email or "",
            language=language,
            subject=message.subject[:400],
            body=message.body,
            status=status,
            attempts=0,
            last_error="",
            next_attempt_at=utcnow() if status == MailStatus.QUEUED else None,
        )
        session.add(row)
        rows.append(row)
    if any(r.status == MailStatus.QUEUED for r in rows):
        session.info.setdefault(NEW_KEY, []).extend(
            r for r in rows if r.status == MailStatus.QUEUED
        )
    return rows
