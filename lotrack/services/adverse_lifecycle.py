"""An adverse event after its first report: follow-ups (grade, outcome, resolution, treatment,
attribution, seriousness) added as new rows, the sponsor notification and the regulatory report,
the event's current state and reporting clock computed from that history, and the reports that
are overdue. Nothing here changes a row already written (migrations/guards.py forbids it)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from lotrack.domain import adverse as life
from lotrack.domain import clinical as rules
from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.text import N_, said
from lotrack.models import AdverseEvent, AdverseEventReport, AdverseEventUpdate, Patient, User
from lotrack.services import audit
from lotrack.services.adverse import site_today
from lotrack.services.clinical import require_same_site, site_scope

RESOLVED = frozenset({rules.AdverseOutcome.RECOVERED, rules.AdverseOutcome.RECOVERED_WITH_SEQUELAE})


def first_entry(event: AdverseEvent) -> life.Entry:
    return life.Entry(
        aware_on=event.aware_on or event.onset_on,  # before 0019: the onset, the earlier date
        grade=event.grade,
        outcome=event.outcome,
        attribution=event.attribution,
        seriousness=tuple(json.loads(event.seriousness or "[]")),
    )


def entry_of(update: AdverseEventUpdate) -> life.Entry:
    return life.Entry(
        aware_on=update.aware_on,
        grade=update.grade,
        outcome=update.outcome,
        resolved_on=update.resolved_on,
        attribution=update.attribution,
        seriousness=tuple(json.loads(update.seriousness)) if update.seriousness else None,
        treatment=update.treatment,
    )


@dataclass
class EventView:
    """An event with its history, current state, clock and reports."""

    event: AdverseEvent
    updates: list[AdverseEventUpdate] = field(default_factory=list)
    reports: list[AdverseEventReport] = field(default_factory=list)
    states: list[life.State] = field(default_factory=list)
    clock: life.Clock = field(default_factory=life.Clock)
    overdue: list[life.Overdue] = field(default_factory=list)

    @property
    def current(self) -> life.State:
        return self.states[-1]

    def reported(self) -> dict[life.ReportKind, dt.date]:
        """The first report of each kind, by the date it was sent."""
        first: dict[life.ReportKind, dt.date] = {}
        for r in sorted(self.reports, key=lambda r: r.reported_on):
            first.setdefault(life.ReportKind(r.kind), r.reported_on)
        return first


def _view(
    event: AdverseEvent, updates: list[AdverseEventUpdate], reports: list[AdverseEventReport]
) -> EventView:
    view = EventView(event, updates, reports)
    view.states = life.states(first_entry(event), [entry_of(u) for u in updates])
    view.clock = life.clock(view.states, expected=bool(event.expected))
    view.overdue = life.overdue(view.clock, view.reported(), site_today(event.patient))
    return view


def views(session: Session, events: list[AdverseEvent]) -> dict[int, EventView]:
    """Each event's view, in two queries whatever the number of events."""
    ids = [e.id for e in events] or [-1]
    updates: dict[int, list[AdverseEventUpdate]] = defaultdict(list)
    for u in session.scalars(
        select(AdverseEventUpdate)
        .where(AdverseEventUpdate.adverse_event_id.in_(ids))
        .order_by(AdverseEventUpdate.id)
    ):
        updates[u.adverse_event_id].append(u)
    reports: dict[int, list[AdverseEventReport]] = defaultdict(list)
    for r in session.scalars(
        select(AdverseEventReport)
        .where(AdverseEventReport.adverse_event_id.in_(ids))
        .order_by(AdverseEventReport.id)
    ):
        reports[r.adverse_event_id].append(r)
    return {e.id: _view(e, updates[e.id], reports[e.id]) for e in events}


def get_event(session: Session, actor: User, event_id: int) -> AdverseEvent:
    """An event of a patient the actor may see; another site's is not found."""
    require(actor.role, "clinical.read")
    event = session.get(AdverseEvent, event_id, options=[joinedload(AdverseEvent.patient)])
    scope = site_scope(actor)
    if event is None or (scope is not None and event.patient.site_id != scope):
        raise NotFound(N_("No such adverse event at your site."), {"event": N_("not found")})
    return event


def event_view(session: Session, actor: User, event_id: int) -> EventView:
    return views(session, [get_event(session, actor, event_id)])[event_id]


def _changes(view: EventView, entry: life.Entry, reason: str) -> dict[str, str]:
    """What is wrong with a follow-up, by field (nothing written when anything is)."""
    event, now = view.event, view.current
    fields: dict[str, str] = {}
    today = site_today(event.patient)
    if entry.aware_on > today:
        fields["aware_on"] = N_("in the future")
    elif now.aware_on and entry.aware_on < now.aware_on:
        fields["aware_on"] = said("before the last entry's (%(date)s)", date=now.aware_on)
    if entry.grade is not None:
        try:
            rules.check_grade(event.term, entry.grade)
        except ValidationFailed as err:
            fields.update(err.fields)
    if entry.outcome is not None and entry.outcome not in rules.OUTCOMES:
        fields["outcome"] = said("one of %(choices)s", choices=", ".join(rules.OUTCOMES))
    if entry.attribution is not None and entry.attribution not in rules.ATTRIBUTIONS:
        fields["attribution"] = said("one of %(choices)s", choices=", ".join(rules.ATTRIBUTIONS))
    bad = [c for c in entry.seriousness or () if c not in rules.SERIOUSNESS]
    if bad:
        fields["seriousness"] = said("unknown criteria %(criteria)s", criteria=", ".join(bad))
    if fields:
        return fields
    new = life.apply(now, entry)
    if (
        entry.grade not in (None, now.grade) or entry.attribution not in (None, now.attribution)
    ) and not reason.strip():
        fields["reason"] = N_("say why the grade or attribution changes")
    if entry.resolved_on is not None:
        if new.outcome not in RESOLVED:
            fields["resolved_on"] = N_("only with the outcome recovered (or with sequelae)")
        elif not event.onset_on <= entry.resolved_on <= today:
            fields["resolved_on"] = N_("between the onset and today")
    elif entry.outcome in RESOLVED and now.resolved_on is None:
        fields["resolved_on"] = N_("the date the event resolved")
    fields.update(rules.grade_problems(new.grade, list(new.seriousness), new.outcome))
    nothing = entry == life.Entry(entry.aware_on)
    if nothing:
        fields["note"] = N_("nothing to record: give what changed, the treatment or a note")
    return fields


def add_follow_up(
    session: Session,
    actor: User,
    event: AdverseEvent,
    *,
    aware_on: dt.date,
    grade: int | None = None,
    outcome: str | None = None,
    resolved_on: dt.date | None = None,
    attribution: str | None = None,
    seriousness: list[str] | None = None,
    treatment: str = "",
    note: str = "",
    reason: str = "",
) -> AdverseEventUpdate:
    """Add a follow-up to the event's history; the event's first report stays as it was."""
    require(actor.role, "adverse.write")
    require_same_site(actor, event.patient.site_id)
    view = views(session, [event])[event.id]
    treatment, note, reason = ((t or "").strip() for t in (treatment, note, reason))
    entry = life.Entry(
        aware_on,
        grade,
        outcome or None,
        resolved_on,
        attribution or None,
        tuple(seriousness) if seriousness is not None else None,
        treatment,
    )
    fields = _changes(view, entry, reason)
    if note and "note" in fields and len(fields) == 1:
        del fields["note"]  # a note alone is a follow-up too
    if fields:
        raise ValidationFailed(N_("The follow-up cannot be recorded."), fields)
    update = AdverseEventUpdate(
        adverse_event_id=event.id,
        aware_on=aware_on,
        grade=grade,
        outcome=entry.outcome,
        resolved_on=resolved_on,
        attribution=entry.attribution,
        seriousness=json.dumps(sorted(seriousness)) if seriousness is not None else None,
        treatment=treatment,
        note=note,
        reason=reason,
        recorded_by_id=actor.id,
    )
    audit.created(session, actor, update, reason)
    return update


def record_report(
    session: Session,
    actor: User,
    event: AdverseEvent,
    *,
    kind: str,
    reported_on: dt.date,
    reported_by: str,
    recipient: str,
    reference: str,
) -> AdverseEventReport:
    """Record that the sponsor was notified of the event, or the regulator sent its report."""
    require(actor.role, "adverse.report")
    require_same_site(actor, event.patient.site_id)
    values = {
        k: (v or "").strip()
        for k, v in {
            "reported_by": reported_by,
            "recipient": recipient,
            "reference": reference,
        }.items()
    }
    fields: dict[str, str] = {k: N_("required") for k, v in values.items() if not v}
    if kind not in life.REPORT_KINDS:
        fields["kind"] = said("one of %(choices)s", choices=", ".join(life.REPORT_KINDS))
    if reported_on > site_today(event.patient):
        fields["reported_on"] = N_("in the future")
    elif reported_on < event.onset_on:
        fields["reported_on"] = N_("before the onset")
    if fields:
        raise ValidationFailed(N_("The report cannot be recorded."), fields)
    report = AdverseEventReport(
        adverse_event_id=event.id,
        kind=kind,
        reported_on=reported_on,
        recorded_by_id=actor.id,
        **values,
    )
    audit.created(session, actor, report)
    return report


@dataclass(frozen=True)
class OverdueRow:
    view: EventView
    late: life.Overdue


def overdue_reports(session: Session, actor: User) -> list[OverdueRow]:
    """Every report due and not made, of the events the actor may see, most late first."""
    require(actor.role, "clinical.read")
    ever_serious = select(AdverseEventUpdate.adverse_event_id).where(
        AdverseEventUpdate.seriousness.is_not(None), AdverseEventUpdate.seriousness != "[]"
    )
    stmt = (
        select(AdverseEvent)
        .join(Patient, AdverseEvent.patient_id == Patient.id)
        .options(joinedload(AdverseEvent.patient).joinedload(Patient.site))
        .where(or_(AdverseEvent.serious.is_(True), AdverseEvent.id.in_(ever_serious)))
    )
    scope = site_scope(actor)
    if scope is not None:
        stmt = stmt.where(Patient.site_id == scope)
    rows = [
        OverdueRow(view, late)
        for view in views(session, list(session.scalars(stmt).unique())).values()
        for late in view.overdue
    ]
    return sorted(rows, key=lambda r: (-r.late.days_late, r.view.event.id))
