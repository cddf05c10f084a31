"""Adverse events (CTCAE v4.03 term and grade, attribution, seriousness, reporting clock, outcome)
and the one-month visit with the response."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.config import DEFAULTS
from lotrack.db import utcnow
from lotrack.domain import clinical as rules
from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.text import N_, said
from lotrack.models import AdverseEvent, FollowUp, Infusion, Patient, User
from lotrack.services import audit
from lotrack.services.clinical import require_same_site

RESPONSES = rules.RESPONSES


def record_adverse_event(
    session: Session,
    actor: User,
    patient: Patient,
    *,
    term: str,
    grade: int,
    onset_on: dt.date,
    attribution: str,
    seriousness: list[str],
    outcome: str,
    description: str = "",
    infusion: Infusion | None = None,
) -> AdverseEvent:
    require(actor.role, "adverse.write")
    require_same_site(actor, patient.site_id)
    entry = rules.check_grade(term, grade)
    fields: dict[str, str] = {}
    if attribution not in rules.ATTRIBUTIONS:
        fields["attribution"] = said("one of %(choices)s", choices=", ".join(rules.ATTRIBUTIONS))
    bad = [c for c in seriousness if c not in rules.SERIOUSNESS]
    if bad:
        fields["seriousness"] = said(
            "unknown criteria %(criteria)s; use %(choices)s",
            criteria=", ".join(bad),
            choices=", ".join(rules.SERIOUSNESS),
        )
    if outcome not in rules.OUTCOMES:
        fields["outcome"] = said("one of %(choices)s", choices=", ".join(rules.OUTCOMES))
    # The date at the patient's site: east of UTC the site's today is ahead of UTC's.
    if onset_on > utcnow().astimezone(ZoneInfo(patient.site.time_zone)).date():
        fields["onset_on"] = N_("in the future")
    if grade == 5 and "death" not in seriousness:
        fields["seriousness"] = N_("a grade 5 event (death) is serious: include 'death'")
    if outcome == rules.AdverseOutcome.FATAL and grade != 5:
        fields["grade"] = N_("a fatal outcome is grade 5")
    if infusion is not None and infusion.patient_id != patient.id:
        fields["infusion"] = N_("an infusion of another patient")
    if fields:
        raise ValidationFailed(N_("The adverse event cannot be recorded."), fields)
    if infusion is None:  # attach to the patient's latest infusion before onset, if any
        # The onset is a date at the patient's site: the day ends at local midnight.
        day_end = dt.datetime.combine(
            onset_on + dt.timedelta(days=1), dt.time(), ZoneInfo(patient.site.time_zone)
        )
        infusion = session.scalar(
            select(Infusion)
            .where(Infusion.patient_id == patient.id, Infusion.started_at < day_end)
            .order_by(Infusion.started_at.desc())
            .limit(1)
        )
    serious = bool(seriousness)
    event = AdverseEvent(
        patient_id=patient.id,
        infusion_id=infusion.id if infusion else None,
        term=term,
        meddra=entry["meddra"],
        grade=grade,
        onset_on=onset_on,
        attribution=attribution,
        serious=serious,
        seriousness=json.dumps(sorted(seriousness)),
        report_due_on=rules.report_due(
            onset_on, serious=serious, related=attribution in rules.RELATED, criteria=seriousness
        ),
        outcome=outcome,
        description=(description or "").strip(),
        reported_by_id=actor.id,
    )
    audit.created(session, actor, event)
    return event


def record_follow_up(
    session: Session,
    actor: User,
    patient: Patient,
    *,
    visit_on: dt.date,
    response: str,
    notes: str,
    visit_day: int = DEFAULTS["VISIT_DAY"],
    window_days: int = DEFAULTS["VISIT_WINDOW_DAYS"],
) -> FollowUp:
    """The one-month visit, by the site's investigator: inside the protocol window from the
    first infusion (domain/clinical.visit_problem), never in the future, once per patient."""
    require(actor.role, "followup.write")
    require_same_site(actor, patient.site_id)
    if response not in RESPONSES:
        raise ValidationFailed(
            N_("The response is improved, stable or worse."), {"response": N_("bad")}
        )
    if session.scalar(select(func.count()).where(FollowUp.patient_id == patient.id)):
        raise Conflict(
            N_("The one-month visit is recorded already."), {"patient": N_("visit recorded")}
        )
    first = session.scalar(
        select(func.min(Infusion.started_at)).where(Infusion.patient_id == patient.id)
    )
    if first is None:
        raise Conflict(N_("The patient has not been infused."), {"patient": N_("no infusion")})
    zone = ZoneInfo(patient.site.time_zone)  # the site's days
    problem = rules.visit_problem(
        visit_on,
        first.astimezone(zone).date(),
        utcnow().astimezone(zone).date(),
        day=visit_day,
        window=window_days,
    )
    if problem:
        raise ValidationFailed(N_("The visit is outside the protocol's window."), problem)
    visit = FollowUp(
        patient_id=patient.id,
        visit_on=visit_on,
        response=response,
        notes=(notes or "").strip(),
        recorded_by_id=actor.id,
    )
    audit.created(session, actor, visit)
    return visit
