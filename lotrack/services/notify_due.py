"""The notices no one's action raises, only the calendar: adverse-event reports due and overdue,
calibrations coming due. `lotrack mail due` scans for them (run it daily, or hourly, from cron or
a systemd timer: README) and queues each (record, report or calibration, due date, stage) once,
however often it runs; a due date that moves is a new notice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.domain import adverse as life
from lotrack.domain.mail import MailEvent
from lotrack.domain.materials import EquipmentEventKind
from lotrack.models import AdverseEvent, AdverseEventUpdate, Instrument, Patient
from lotrack.services import clock, notify
from lotrack.services.adverse import site_today
from lotrack.services.adverse_lifecycle import views
from lotrack.services.equipment import next_due

# A calibration is announced this many days before it falls due (and again once overdue).
CALIBRATION_NOTICE_DAYS = 14


@dataclass
class Queued:
    reports: int = 0
    calibrations: int = 0


def report_stages(
    due: life.Clock, reported: dict[life.ReportKind, dt.date], today: dt.date
) -> list[tuple[MailEvent, str]]:
    """Each report the clock makes due and not yet made: due, or overdue once its day passed."""
    out = []
    for kind, when in (
        (life.ReportKind.SPONSOR, due.sponsor_due),
        (life.ReportKind.REGULATORY, due.regulatory_due),
    ):
        if when is None or kind in reported:
            continue
        event = MailEvent.AE_REPORT_OVERDUE if when < today else MailEvent.AE_REPORT_DUE
        out.append((event, f"{kind.value} {when.isoformat()}"))
    return out


def _reports(session: Session) -> int:
    ever_serious = select(AdverseEventUpdate.adverse_event_id).where(
        AdverseEventUpdate.seriousness.is_not(None), AdverseEventUpdate.seriousness != "[]"
    )
    events = list(
        session.scalars(
            select(AdverseEvent)
            .options(joinedload(AdverseEvent.patient).joinedload(Patient.site))
            .where(or_(AdverseEvent.serious.is_(True), AdverseEvent.id.in_(ever_serious)))
            .order_by(AdverseEvent.id)
        ).unique()
    )
    queued = 0
    for view in views(session, events).values():
        today = site_today(view.event.patient)
        for event, stage in report_stages(view.clock, view.reported(), today):
            queued += len(notify.queue(session, event, view.event, stage))
    return queued


def _calibrations(session: Session) -> int:
    today = clock.today(session)
    horizon = today + dt.timedelta(days=CALIBRATION_NOTICE_DAYS)
    queued = 0
    for instrument in session.scalars(
        select(Instrument).options(selectinload(Instrument.events)).order_by(Instrument.code)
    ):
        due = next_due(instrument, EquipmentEventKind.CALIBRATION)
        if due is None or due > horizon:
            continue
        stage = f"{'overdue' if due < today else 'due'} {due.isoformat()}"
        queued += len(notify.queue(session, MailEvent.CALIBRATION_DUE, instrument, stage))
    return queued


def queue_due(session: Session) -> Queued:
    """Queue every report and calibration notice due today and not queued before."""
    return Queued(_reports(session), _calibrations(session))
