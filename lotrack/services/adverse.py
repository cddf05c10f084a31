"""Adverse events as first reported (CTCAE v4.03 term and grade, measured or judged, attribution,
seriousness, expectedness, the reporting clock) and the one-month visit with the response.
Follow-ups and reports: services/adverse_lifecycle.py."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.config import DEFAULTS
from lotrack.db import utcnow
from lotrack.domain import adverse as life
from lotrack.domain import clinical as rules
from lotrack.domain import ctcae_measures as measures
from lotrack.domain.ctcae import is_other_specify
from lotrack.domain.ctcae_measures import Measurement
from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.text import N_, said
from lotrack.models import AdverseEvent, FollowUp, Infusion, Patient, User
from lotrack.services import audit
from lotrack.services.clinical import require_same_site

RESPONSES = rules.RESPONSES


def site_today(patient: Patient) -> dt.date:
    """Today at the patient's site: east of UTC the site's today is ahead of UTC's."""
    return utcnow().astimezone(ZoneInfo(patient.site.time_zone)).date()


def _measured(
    term: str, grade: int, measurement: Measurement | None, reason: str
) -> tuple[int | None, dict[str, str]]:
    """The grade a measurement proposes, and what is wrong when the grade differs unexplained."""
    if measurement is None:
        return None, {}
    proposal = measures.propose(term, measurement)
    if proposal.grade != grade and not reason.strip():
        return proposal.grade, {
            "grade_reason": said(
                "the measurement gives grade %(grade)s: say why grade %(chosen)s",
                grade=proposal.grade or "-",
                chosen=grade,
            )
        }
    return proposal.grade, {}


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
    specify: str = "",
    aware_on: dt.date | None = None,
    measurement: Measurement | None = None,
    grade_reason: str = "",
    expected_terms: frozenset[str] = frozenset(),
) -> AdverseEvent:
    """Record an adverse event as first reported. `expected_terms`: the terms the investigator's
    brochure expects (config IB_EXPECTED_TERMS); none given, every event is unexpected."""
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
    today = site_today(patient)
    if onset_on > today:
        fields["onset_on"] = N_("in the future")
    aware = aware_on or onset_on  # none given: the onset, the earliest the clock can start
    if aware > today:
        fields["aware_on"] = N_("in the future")
    elif aware < onset_on:
        fields["aware_on"] = N_("before the onset")
    specify = (specify or "").strip()
    if is_other_specify(term) and not specify:
        fields["specify"] = N_("name the event: this term is an 'Other, specify' row")
    fields.update(rules.grade_problems(grade, seriousness, outcome))
    if infusion is not None and infusion.patient_id != patient.id:
        fields["infusion"] = N_("an infusion of another patient")
    proposed, unexplained = _measured(term, grade, measurement, grade_reason)
    fields.update(unexplained)
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
    expected = term in expected_terms
    first = life.Entry(aware, grade, outcome, None, attribution, tuple(seriousness))
    due = life.clock(life.states(first, []), expected=expected)
    event = AdverseEvent(
        patient_id=patient.id,
        infusion_id=infusion.id if infusion else None,
        term=term,
        meddra=entry["meddra"],
        soc=entry["soc"],
        specify=specify,
        grade=grade,
        onset_on=onset_on,
        aware_on=aware,
        attribution=attribution,
        serious=bool(seriousness),
        seriousness=json.dumps(sorted(seriousness)),
        expected=expected,
        report_due_on=due.regulatory_due,
        outcome=outcome,
        description=(description or "").strip(),
        measurement=json.dumps(asdict(measurement)) if measurement else "",
        proposed_grade=proposed,
        grade_reason=(grade_reason or "").strip(),
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
