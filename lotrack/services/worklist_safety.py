"""The medical director's worklist (exceptional releases to sign, serious adverse events and
their reporting clocks), and what every safety reader's worklist shares: adverse events named
for people, and the overdue reports."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, joinedload

from lotrack.domain.decisions import Meaning
from lotrack.domain.states import ExceptionalStatus
from lotrack.domain.text import N_, Said, said
from lotrack.models import (
    AdverseEvent,
    AdverseEventUpdate,
    ExceptionalRelease,
    Lot,
    Patient,
    Signature,
    User,
)
from lotrack.services import adverse_lifecycle as lifecycle
from lotrack.services.worklist import SAMPLE, Entry, Item, Link, count


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


def event_entry(view: lifecycle.EventView, detail: Said) -> Entry:
    e = view.event
    label = f"{e.patient.wristband} · AE {e.id} {e.term}"
    return Entry(
        label, detail, Link.to("adverse.show_event", wristband=e.patient.wristband, event_id=e.id)
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
            event_entry(v, said("report due %(date)s", date=d) if d else said("open, reports made"))
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
            event_entry(r.view, said("%(days)s days late", days=r.late.days_late))
            for r in rows[:SAMPLE]
        ],
    )
