"""The clinical worklists: the medical director's (exceptional releases to sign, serious adverse
events and their reporting clocks) and the site's, counted at the user's own site only (the
nurse's shipments, infusions and acceptances; the investigator's eligibility checklists and
prescriptions; for both, one-month visits and adverse events awaiting follow-up)."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, joinedload

from lotrack.db import utcnow
from lotrack.domain import clinical as rules
from lotrack.domain.decisions import Action, Meaning
from lotrack.domain.states import ExceptionalStatus, PrescriptionStatus, ShipmentStatus
from lotrack.domain.text import N_, Said, said
from lotrack.models import (
    AdverseEvent,
    AdverseEventUpdate,
    ExceptionalRelease,
    FollowUp,
    Infusion,
    Lot,
    Patient,
    Prescription,
    Shipment,
    Signature,
    Site,
    User,
)
from lotrack.services import adverse_lifecycle as lifecycle
from lotrack.services.worklist import SAMPLE, Entry, Item, Link, VisitRules, count


def medical_director(session: Session, actor: User) -> list[Item]:
    """Exceptional releases waiting on the medical director's signature; serious events."""
    signed = exists().where(
        Signature.exceptional_release_id == ExceptionalRelease.id,
        Signature.meaning == Meaning.EXCEPTIONAL_RELEASE_MEDICAL.value,
    )
    waiting = (ExceptionalRelease.status == ExceptionalStatus.PENDING.value, ~signed)
    rows = session.execute(
        select(ExceptionalRelease.number, Lot.lot_number, ExceptionalRelease.patient)
        .join(Lot, ExceptionalRelease.lot_id == Lot.id)
        .where(*waiting)
        .order_by(ExceptionalRelease.id)
        .limit(SAMPLE)
    ).all()
    return [
        Item(
            "exceptional_to_sign",
            N_("Exceptional release requests to sign"),
            count(session, ExceptionalRelease, *waiting),
            Link.to("release.show_exceptional", number=rows[0][0]) if rows else None,
            [
                Entry(
                    n,
                    said("lot %(lot)s for %(patient)s", lot=lot, patient=patient),
                    Link.to("release.show_exceptional", number=n),
                )
                for n, lot, patient in rows
            ],
        ),
        _serious_events(session, actor),
        overdue(session, actor),
    ]


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


def _event_entry(view: lifecycle.EventView, detail: Said) -> Entry:
    e = view.event
    label = f"{e.patient.wristband} · AE {e.id} {e.term}"
    return Entry(
        label, detail, Link.to("adverse.show_event", wristband=e.patient.wristband, event_id=e.id)
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
            _event_entry(
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


def _serious_events(session: Session, actor: User) -> Item:
    """Serious events still open or with a report still to make, with their clocks."""
    ever = select(AdverseEventUpdate.adverse_event_id).where(
        AdverseEventUpdate.seriousness.is_not(None), AdverseEventUpdate.seriousness != "[]"
    )
    events = session.scalars(
        select(AdverseEvent)
        .where(and_(True, (AdverseEvent.serious.is_(True)) | AdverseEvent.id.in_(ever)))
        .options(joinedload(AdverseEvent.patient).joinedload(Patient.site))
        .order_by(AdverseEvent.onset_on, AdverseEvent.id)
    ).all()
    waiting = []
    for v in lifecycle.views(session, list(events)).values():
        made = v.reported()
        due = [
            d
            for kind, d in (
                ("sponsor", v.clock.sponsor_due),
                ("regulatory", v.clock.regulatory_due),
            )
            if d is not None and kind not in made
        ]
        if due or not v.current.closed:
            waiting.append((min(due) if due else None, v))
    waiting.sort(key=lambda t: (t[0] is None, t[0] or dt.date.min, t[1].event.id))
    return Item(
        "serious_events",
        N_("Serious adverse events (reporting clocks)"),
        len(waiting),
        Link.to("adverse.list_events"),
        [
            _event_entry(
                v, said("report due %(date)s", date=d) if d else said("open, reports made")
            )
            for d, v in waiting[:SAMPLE]
        ],
    )


def overdue(session: Session, actor: User) -> Item:
    """Adverse-event reports due and not made (services/adverse_lifecycle.overdue_reports)."""
    rows = lifecycle.overdue_reports(session, actor)
    return Item(
        "overdue_reports",
        N_("Overdue adverse-event reports"),
        len(rows),
        Link.to("adverse.overdue"),
        [
            _event_entry(r.view, said("%(days)s days late", days=r.late.days_late))
            for r in rows[:SAMPLE]
        ],
    )
