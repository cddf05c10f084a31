"""Trial reports: the primary outcome (participants with treatment-related adverse events up to one
month, CTCAE v4.0), the secondary outcome (response at one month), per-lot safety signals, and the
patients a lot reached (for a recall's impact list). Each is a fixed number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session, aliased, contains_eager

from lotrack.domain import clinical as rules
from lotrack.domain import ctcae
from lotrack.domain.permissions import require
from lotrack.domain.text import said
from lotrack.models import (
    AdverseEvent,
    AdverseEventUpdate,
    BedsideScan,
    FollowUp,
    Infusion,
    Lot,
    Patient,
    Site,
    Unit,
    User,
)
from lotrack.services import adverse_lifecycle as lifecycle
from lotrack.services.clinical import site_scope
from lotrack.services.timeline import safe_cell

WINDOW = dt.timedelta(days=30)  # "up to one month" (shared/reference/trial.md)
SIGNAL_PARTICIPANTS = 2  # related grade >= 3 events in this many participants of one lot


@dataclass
class PrimaryOutcome:
    participants: int = 0  # infused
    with_related: int = 0
    by_grade: dict[int, int] = field(default_factory=dict)  # worst related grade -> participants
    by_cohort: dict[str, list[int]] = field(default_factory=dict)  # cohort -> [infused, with]
    by_lot: dict[str, list[int]] = field(default_factory=dict)  # lot -> [infused, with]
    signals: list[str] = field(default_factory=list)
    # Infusions given on an acknowledged exceptional release: flagged wherever outcomes are read.
    exceptional: list[str] = field(default_factory=list)
    # Treatment-related events in the window, counted by (SOC, worst grade), cohort and lot: each
    # count's events, so that every number links to the events it stands for.
    by_soc_grade: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    events_by_cohort: dict[str, list[int]] = field(default_factory=dict)
    events_by_lot: dict[str, list[int]] = field(default_factory=dict)
    events_by_grade: dict[int, list[int]] = field(default_factory=dict)
    # Events whose term is not in the CTCAE dictionary in use: never counted, listed for review.
    not_counted: list[int] = field(default_factory=list)


def _scoped(actor: User, stmt: Select[Any]) -> Select[Any]:
    """Only the site's own participants for a site user (the statement joins Patient)."""
    scope = site_scope(actor)
    return stmt if scope is None else stmt.where(Patient.site_id == scope)


def _infused_by(actor: User, key: Any) -> Select[Any]:
    """Participants infused, counted by `key` (a patient's or a lot's column) in the database."""
    stmt = select(key, func.count(distinct(Infusion.patient_id))).join(
        Patient, Infusion.patient_id == Patient.id
    )
    if key is Lot.lot_number:
        stmt = stmt.join(Unit, Infusion.unit_id == Unit.id).join(Lot, Unit.lot_id == Lot.id)
    return _scoped(actor, stmt.group_by(key))


def _events(session: Session, actor: User) -> list[Any]:
    """Each adverse event of an infused participant with what the report judges it by: its
    participant's cohort, site zone and first infusion, and its current attribution (the last one
    assessed) and worst grade (the first report's or a follow-up's), the history folded in SQL
    as services.adverse_lifecycle folds it in Python."""
    upd = aliased(AdverseEventUpdate)
    first = (
        select(func.min(Infusion.started_at))
        .where(Infusion.patient_id == AdverseEvent.patient_id)
        .scalar_subquery()
    )
    attribution = (
        select(upd.attribution)
        .where(upd.adverse_event_id == AdverseEvent.id, upd.attribution.is_not(None))
        .order_by(upd.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    worst = (
        select(func.max(upd.grade)).where(upd.adverse_event_id == AdverseEvent.id).scalar_subquery()
    )
    stmt = (
        select(
            AdverseEvent.id,
            AdverseEvent.patient_id,
            AdverseEvent.term,
            AdverseEvent.onset_on,
            func.coalesce(attribution, AdverseEvent.attribution),
            AdverseEvent.grade,
            worst,
            Patient.cohort,
            Site.time_zone,
            first,
        )
        .join(Patient, AdverseEvent.patient_id == Patient.id)
        .join(Site, Patient.site_id == Site.id)
        .where(first.is_not(None))
        .order_by(AdverseEvent.id)
    )
    return list(session.execute(_scoped(actor, stmt)))


def primary_outcome(session: Session, actor: User) -> PrimaryOutcome:
    """The primary outcome, counted in the database: participants by cohort and lot are grouped
    in SQL, and only adverse events (and the lots of their participants) come back as rows, so
    the time follows the events, not the infusions. Seven statements whatever the data."""
    require(actor.role, "reports.read")
    out = PrimaryOutcome()
    for cohort, n in session.execute(_infused_by(actor, Patient.cohort)):
        out.by_cohort[cohort] = [n, 0]
    for lot_number, n in session.execute(_infused_by(actor, Lot.lot_number)):
        out.by_lot[lot_number] = [n, 0]
    out.participants = sum(n for n, _k in out.by_cohort.values())  # one cohort each
    exceptional = _scoped(
        actor,
        select(Patient.wristband, Lot.lot_number)
        .select_from(Infusion)
        .join(BedsideScan, Infusion.scan_id == BedsideScan.id)
        .join(Patient, Infusion.patient_id == Patient.id)
        .join(Unit, Infusion.unit_id == Unit.id)
        .join(Lot, Unit.lot_id == Lot.id)
        .where(BedsideScan.exceptional_acknowledged.is_(True))
        .order_by(Infusion.started_at, Infusion.id),
    )
    out.exceptional = [
        said(
            "%(patient)s: lot %(lot)s was infused on an exceptional release acknowledged"
            " at the bedside.",
            patient=wristband,
            lot=lot_number,
        )
        for wristband, lot_number in session.execute(exceptional)
    ]
    dictionary = ctcae.active().terms
    worst: dict[int, int] = {}
    cohort_of: dict[int, str] = {}
    counted: list[tuple[int, int, str, int]] = []  # event, participant, term, worst grade
    for ev_id, pid, term, onset, attribution, grade, updated, cohort, zone, first in _events(
        session, actor
    ):
        # Onset dates are the site's dates: the window starts on the first infusion's local day.
        start = first.astimezone(ZoneInfo(zone)).date()
        if attribution not in rules.RELATED or not start <= onset <= start + WINDOW:
            continue
        if term not in dictionary:
            out.not_counted.append(ev_id)
            continue
        grade = max(grade, updated if updated is not None else grade)
        counted.append((ev_id, pid, term, grade))
        worst[pid] = max(worst.get(pid, 0), grade)
        cohort_of[pid] = cohort
    lots_of = _lots_of(session, actor, set(worst))
    severe_by_lot: dict[str, set[int]] = defaultdict(set)
    for ev_id, pid, term, grade in counted:
        soc = dictionary[term]["soc"]
        out.by_soc_grade.setdefault((soc, grade), []).append(ev_id)
        out.events_by_grade.setdefault(grade, []).append(ev_id)
        out.events_by_cohort.setdefault(cohort_of[pid], []).append(ev_id)
        for lot_number in lots_of[pid]:
            out.events_by_lot.setdefault(lot_number, []).append(ev_id)
            if grade >= 3:
                severe_by_lot[lot_number].add(pid)
    out.with_related = len(worst)
    for pid, grade in worst.items():
        out.by_grade[grade] = out.by_grade.get(grade, 0) + 1
        out.by_cohort[cohort_of[pid]][1] += 1
        for lot_number in lots_of[pid]:
            out.by_lot[lot_number][1] += 1
    for lot_number, pids in sorted(severe_by_lot.items()):
        if len(pids) >= SIGNAL_PARTICIPANTS:
            out.signals.append(
                said(
                    "Lot %(lot)s: %(num)s participants with related grade ≥3 events.",
                    lot=lot_number,
                    num=len(pids),
                )
            )
    return out


def _lots_of(session: Session, actor: User, pids: set[int]) -> dict[int, set[str]]:
    """The lots each of these participants was infused from (participants with an adverse event
    are read, the others are not: a fixed statement, rows as many as such participants' lots)."""
    stmt = (
        select(Infusion.patient_id, Lot.lot_number)
        .join(Patient, Infusion.patient_id == Patient.id)
        .join(Unit, Infusion.unit_id == Unit.id)
        .join(Lot, Unit.lot_id == Lot.id)
        .where(Infusion.patient_id.in_(select(AdverseEvent.patient_id)))
        .distinct()
    )
    out: dict[int, set[str]] = defaultdict(set)
    for pid, lot_number in session.execute(_scoped(actor, stmt)):
        if pid in pids:
            out[pid].add(lot_number)
    return out


def secondary_outcome(
    session: Session, actor: User, primary: PrimaryOutcome | None = None
) -> dict[str, int]:
    """Participants by response at the one-month visit (improved, stable, worse, not yet seen)
    and the secondary outcome itself, "reduced or stabilised" = improved + stable.

    Given the primary outcome read for the same actor, its count of participants is reused."""
    require(actor.role, "reports.read")
    if primary is not None:
        participants = primary.participants
    else:
        participants = sum(n for _c, n in session.execute(_infused_by(actor, Patient.cohort)))
    infused = _scoped(
        actor, select(Infusion.patient_id).join(Patient, Infusion.patient_id == Patient.id)
    )
    counts = {response.value: 0 for response in rules.Response}
    seen = 0
    for response, n in session.execute(
        select(FollowUp.response, func.count())
        .where(FollowUp.patient_id.in_(infused))
        .group_by(FollowUp.response)
    ):
        counts[response] += n
        seen += n
    counts["not yet seen"] = participants - seen
    counts["reduced or stabilised"] = sum(counts[r.value] for r in rules.REDUCED_OR_STABILISED)
    return counts


def primary_csv(outcome: PrimaryOutcome) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(["group", "value", "participants infused", "with related adverse events"])
    w.writerow(["all", "", outcome.participants, outcome.with_related])
    for cohort, (n, k) in sorted(outcome.by_cohort.items()):
        w.writerow(["cohort", safe_cell(cohort), n, k])
    for lot_number, (n, k) in sorted(outcome.by_lot.items()):
        w.writerow(["lot", lot_number, n, k])
    for grade, k in sorted(outcome.by_grade.items()):
        w.writerow(["worst related grade", grade, "", k])
    w.writerow([])
    w.writerow(["system organ class", "worst grade", "related events", "event ids"])
    for (soc, grade), ids in sorted(outcome.by_soc_grade.items()):
        w.writerow([soc, grade, len(ids), " ".join(str(i) for i in ids)])
    return out.getvalue()


def events_by_id(session: Session, actor: User, ids: list[int]) -> list[lifecycle.EventView]:
    """The events a report's count stands for, as the actor may see them (others are left out)."""
    require(actor.role, "reports.read")
    stmt = (
        select(AdverseEvent)
        .join(Patient, AdverseEvent.patient_id == Patient.id)
        .where(AdverseEvent.id.in_(ids or [-1]))
        .options(contains_eager(AdverseEvent.patient))
        .order_by(AdverseEvent.id)
    )
    if site_scope(actor) is not None:
        stmt = stmt.where(Patient.site_id == site_scope(actor))
    found = list(session.scalars(stmt))
    views = lifecycle.views(session, found)
    return [views[e.id] for e in found]


@dataclass(frozen=True)
class Reached:
    lot_number: str
    din: str
    patient: str  # wristband
    site: str
    infused_at: dt.datetime
    check_character: str = ""  # shown boxed beside the DIN


def patients_reached(session: Session, lot_ids: list[int]) -> list[Reached]:
    """Every patient infused from these lots (one query)."""
    rows = session.execute(
        select(
            Lot.lot_number,
            Unit.din,
            Patient.wristband,
            Site.code,
            Infusion.started_at,
            Unit.check_character,
        )
        .join(Unit, Unit.lot_id == Lot.id)
        .join(Infusion, Infusion.unit_id == Unit.id)
        .join(Patient, Infusion.patient_id == Patient.id)
        .join(Site, Patient.site_id == Site.id)
        .where(Lot.id.in_(lot_ids or [-1]))
        .order_by(Lot.lot_number, Unit.din)
    )
    return [Reached(*row) for row in rows]


NOT_RECORDED = "not recorded"  # age band or sex of a patient registered before revision 0021


@dataclass
class Enrolment:
    """Consented participants against the trial's target, by site and cohort, age band and sex
    (no dates of birth are kept)."""

    target: int
    enrolled: int = 0
    by_site: dict[str, int] = field(default_factory=dict)
    by_cohort: dict[str, int] = field(default_factory=dict)
    by_site_and_cohort: dict[str, dict[str, int]] = field(default_factory=dict)
    by_age_band: dict[str, int] = field(default_factory=dict)
    by_sex: dict[str, int] = field(default_factory=dict)


def enrolment(session: Session, actor: User, target: int) -> Enrolment:
    """Enrolment: a participant counts once consent is recorded. Site staff see their site's.
    Counted in the database, one row per site, cohort, age band and sex."""
    require(actor.role, "reports.read")
    key = (Site.code, Patient.cohort, Patient.age_band, Patient.sex)
    stmt = _scoped(
        actor,
        select(*key, func.count())
        .select_from(Patient)
        .join(Site, Patient.site_id == Site.id)
        .where(Patient.consent_date.is_not(None))
        .group_by(*key),
    )
    out = Enrolment(target)
    for site, cohort, age_band, sex, n in session.execute(stmt):
        out.enrolled += n
        for table, k in (
            (out.by_site, site),
            (out.by_cohort, cohort),
            (out.by_age_band, age_band or NOT_RECORDED),
            (out.by_sex, sex or NOT_RECORDED),
        ):
            table[k] = table.get(k, 0) + n
        row = out.by_site_and_cohort.setdefault(site, {})
        row[cohort] = row.get(cohort, 0) + n
    return out
