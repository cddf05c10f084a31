"""The site's worklists, counted at the user's own site only: the nurse's shipments, infusions
and acceptances; the investigator's eligibility checklists and prescriptions; for both,
one-month visits, adverse events awaiting follow-up and overdue reports."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload

from lotrack.db import utcnow
from lotrack.domain import clinical as rules
from lotrack.domain.decisions import Action
from lotrack.domain.states import ExceptionalStatus, PrescriptionStatus, ShipmentStatus
from lotrack.domain.text import N_, Said, said
from lotrack.models import (
    AdverseEvent,
    ExceptionalRelease,
    FollowUp,
    Infusion,
    Patient,
    Prescription,
    Shipment,
    Signature,
    Site,
    User,
)
from lotrack.services import adverse_lifecycle as lifecycle
from lotrack.services.worklist import SAMPLE, Entry, Item, Link, VisitRules, count
from lotrack.services.worklist_safety import event_entry, overdue


def nurse(session: Session, actor: User, visits: VisitRules) -> list[Item]:
    """A nurse's site: shipments to receive, infusions due, acceptances, visits, events."""
    site = _site(session, actor)
    return [
        _shipments(session, site),
        _infusions_due(session, site),
        _to_accept(session, site),
        _visits_due(session, site, visits),
        _events_open(session, actor, site),
        overdue(session, actor),
    ]


def investigator(session: Session, actor: User, visits: VisitRules) -> list[Item]:
    """An investigator's site: eligibility to answer, doses to prescribe, visits, events."""
    site = _site(session, actor)
    return [
        _eligibility(session, site),
        _to_prescribe(session, site),
        _visits_due(session, site, visits),
        _events_open(session, actor, site),
        overdue(session, actor),
    ]


def _site(session: Session, actor: User) -> Site:
    site = session.get(Site, actor.site_id)
    assert site is not None  # site roles are bound to a site (accounts.create_user)
    return site


def _today(site: Site) -> dt.date:
    return utcnow().astimezone(ZoneInfo(site.time_zone)).date()


def _patient(wristband: str) -> Link:
    return Link.to("clinical.show_patient", wristband=wristband)


def _shipments(session: Session, site: Site) -> Item:
    where = (Shipment.site_id == site.id, Shipment.status == ShipmentStatus.IN_TRANSIT.value)
    rows = session.execute(
        select(Shipment.number, Shipment.shipped_at)
        .where(*where)
        .order_by(Shipment.id)
        .limit(SAMPLE)
    ).all()
    return Item(
        "shipments_to_receive",
        N_("Shipments to receive"),
        count(session, Shipment, *where),
        Link.to("shipment.list_shipments"),
        [
            Entry(
                n,
                said("shipped %(date)s", date=at.date()),
                Link.to("shipment.show_shipment", number=n),
            )
            for n, at in rows
        ],
    )


def _infusions_due(session: Session, site: Site) -> Item:
    """Patients with an open prescription nothing has been infused on yet."""
    infused = exists().where(Infusion.prescription_id == Prescription.id)
    where = (
        Patient.site_id == site.id,
        Prescription.status == PrescriptionStatus.OPEN.value,
        ~infused,
    )
    base = select(Patient.wristband, func.min(Prescription.planned_on).label("planned"))
    base = base.join(Prescription, Prescription.patient_id == Patient.id).where(*where)
    grouped = base.group_by(Patient.id, Patient.wristband)
    total = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    rows = session.execute(grouped.order_by("planned", Patient.wristband).limit(SAMPLE)).all()
    return Item(
        "infusions_due",
        N_("Patients due for infusion"),
        total,
        Link.to("bedside.scan_page"),
        [Entry(w, said("planned %(date)s", date=planned), _patient(w)) for w, planned in rows],
    )


def _to_accept(session: Session, site: Site) -> Item:
    """Exceptional releases for the site's patients the treating physician has not accepted."""
    accepted = exists().where(
        Signature.exceptional_release_id == ExceptionalRelease.id,
        Signature.action == Action.EXCEPTIONAL_ACCEPTANCE.value,
    )
    live = (ExceptionalStatus.PENDING.value, ExceptionalStatus.APPROVED.value)
    where = (Patient.site_id == site.id, ExceptionalRelease.status.in_(live), ~accepted)
    stmt = select(ExceptionalRelease.number, Patient.wristband).join(
        Patient, ExceptionalRelease.patient_id == Patient.id
    )
    rows = session.execute(stmt.where(*where).order_by(ExceptionalRelease.id).limit(SAMPLE)).all()
    total = session.scalar(
        select(func.count())
        .select_from(ExceptionalRelease)
        .join(Patient, ExceptionalRelease.patient_id == Patient.id)
        .where(*where)
    )
    return Item(
        "exceptional_to_accept",
        N_("Exceptional releases to accept"),
        total or 0,
        _patient(rows[0][1]) if rows else None,
        [Entry(n, w, _patient(w)) for n, w in rows],
    )


def _visits_due(session: Session, site: Site, visits: VisitRules) -> Item:
    """Infused patients without their one-month visit whose visit window has opened."""
    seen = exists().where(FollowUp.patient_id == Patient.id)
    rows = session.execute(
        select(Patient.wristband, func.min(Infusion.started_at))
        .join(Infusion, Infusion.patient_id == Patient.id)
        .where(Patient.site_id == site.id, ~seen)
        .group_by(Patient.id, Patient.wristband)
    ).all()
    zone, today = ZoneInfo(site.time_zone), _today(site)
    due = []
    for wristband, first in rows:
        opens = first.astimezone(zone).date() + dt.timedelta(days=visits.day - visits.window)
        if opens <= today:
            closes = opens + dt.timedelta(days=2 * visits.window)
            due.append((closes, wristband))
    due.sort()
    return Item(
        "visits_due",
        N_("One-month visits due"),
        len(due),
        Link.to("clinical.list_patients"),
        [
            Entry(w, said("window closes %(date)s", date=closes), _patient(w))
            for closes, w in due[:SAMPLE]
        ],
    )


def _eligibility(session: Session, site: Site) -> Item:
    where = (Patient.site_id == site.id, Patient.eligibility_at.is_(None))
    rows = session.scalars(
        select(Patient.wristband)
        .where(*where)
        .order_by(Patient.created_at, Patient.id)
        .limit(SAMPLE)
    ).all()
    return Item(
        "eligibility_to_answer",
        N_("Eligibility checklists to answer"),
        count(session, Patient, *where),
        Link.to("clinical.list_patients"),
        [Entry(w, said("registered, not assessed"), _patient(w)) for w in rows],
    )


def _to_prescribe(session: Session, site: Site) -> Item:
    """Consented patients found eligible who have no prescription yet."""
    prescribed = exists().where(Prescription.patient_id == Patient.id)
    candidates = session.execute(
        select(Patient.wristband, Patient.eligibility)
        .where(
            Patient.site_id == site.id,
            Patient.consent_date.is_not(None),
            Patient.eligibility_at.is_not(None),
            ~prescribed,
        )
        .order_by(Patient.eligibility_at, Patient.id)
    ).all()
    ready = [
        w
        for w, answers in candidates
        if not rules.eligibility_problems(json.loads(answers or "{}"))
    ]
    return Item(
        "prescriptions_to_write",
        N_("Prescriptions to write"),
        len(ready),
        Link.to("clinical.list_patients"),
        [Entry(w, said("eligible, no prescription"), _patient(w)) for w in ready[:SAMPLE]],
    )


def _events_open(session: Session, actor: User, site: Site) -> Item:
    """The site's adverse events not yet resolved: each awaits a follow-up to its outcome."""
    events = session.scalars(
        select(AdverseEvent)
        .join(Patient, AdverseEvent.patient_id == Patient.id)
        .where(Patient.site_id == site.id)
        .options(joinedload(AdverseEvent.patient).joinedload(Patient.site))
        .order_by(AdverseEvent.onset_on, AdverseEvent.id)
    ).all()
    open_ = [v for v in lifecycle.views(session, list(events)).values() if not v.current.closed]
    return Item(
        "events_to_follow_up",
        N_("Adverse events awaiting follow-up"),
        len(open_),
        Link.to("adverse.list_events"),
        [
            event_entry(
                v,
                said(
                    "grade %(grade)s, %(outcome)s",
                    grade=v.current.grade,
                    outcome=Said(v.current.outcome),
                ),
            )
            for v in open_[:SAMPLE]
        ],
    )
