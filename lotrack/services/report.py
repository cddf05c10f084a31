"""Trial reports: the primary outcome (participants with treatment-related adverse events up to one
month, CTCAE v4.0), the secondary outcome (response at one month), per-lot safety signals, and the
patients a lot reached (for a recall's impact list). Each is a fixed number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from lotrack.domain import clinical as rules
from lotrack.domain import ctcae
from lotrack.domain.permissions import require
from lotrack.domain.text import said
from lotrack.models import (
    AdverseEvent,
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
    infused: set[int] = field(default_factory=set)  # patient ids, for the secondary outcome
    # Treatment-related events in the window, counted by (SOC, worst grade), cohort and lot: each
    # count's events, so that every number links to the events it stands for.
    by_soc_grade: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    events_by_cohort: dict[str, list[int]] = field(default_factory=dict)
    events_by_lot: dict[str, list[int]] = field(default_factory=dict)
    events_by_grade: dict[int, list[int]] = field(default_factory=dict)
    # Events whose term is not in the CTCAE dictionary in use: never counted, listed for review.
    not_counted: list[int] = field(default_factory=list)


def _infusions(session: Session, actor: User) -> list[tuple[Infusion, Patient, str, bool]]:
    """(infusion, patient, lot number, exceptional release acknowledged at its scan)."""
    stmt = (
        select(Infusion, Patient, Lot.lot_number, BedsideScan.exceptional_acknowledged)
        .join(BedsideScan, Infusion.scan_id == BedsideScan.id)
        .join(Patient, Infusion.patient_id == Patient.id)
        .join(Site, Patient.site_id == Site.id)
        .join(Unit, Infusion.unit_id == Unit.id)
        .join(Lot, Unit.lot_id == Lot.id)
        .order_by(Infusion.started_at)
        .options(contains_eager(Patient.site))  # its time zone, from the join above
    )
    if site_scope(actor) is not None:
        stmt = stmt.where(Patient.site_id == site_scope(actor))
    return [tuple(row) for row in session.execute(stmt)]  # type: ignore[misc]


def primary_outcome(session: Session, actor: User) -> PrimaryOutcome:
    require(actor.role, "reports.read")
    infusions = _infusions(session, actor)
    first: dict[int, dt.datetime] = {}
    lots_of: dict[int, set[str]] = defaultdict(set)
    patients: dict[int, Patient] = {}
    exceptional: list[str] = []
    for inf, patient, lot_number, acknowledged in infusions:
        if acknowledged:
            exceptional.append(
                said(
                    "%(patient)s: lot %(lot)s was infused on an exceptional release acknowledged"
                    " at the bedside.",
                    patient=patient.wristband,
                    lot=lot_number,
                )
            )
        first.setdefault(patient.id, inf.started_at)
        lots_of[patient.id].add(lot_number)
        patients[patient.id] = patient
    events = session.scalars(
        select(AdverseEvent)
        .where(AdverseEvent.patient_id.in_(list(patients) or [-1]))
        .order_by(AdverseEvent.id)
    ).all()
    histories = lifecycle.views(session, list(events))
    dictionary = ctcae.active().terms
    worst: dict[int, int] = {}
    severe_by_lot: dict[str, set[int]] = defaultdict(set)
    counted: list[tuple[AdverseEvent, int]] = []
    not_counted: list[int] = []
    for ev in events:
        # Onset dates are the site's dates: the window starts on the first infusion's local day.
        zone = ZoneInfo(patients[ev.patient_id].site.time_zone)
        start = first[ev.patient_id].astimezone(zone).date()
        now = histories[ev.id].current  # attribution as last assessed, worst grade ever reached
        if not now.related or not start <= ev.onset_on <= start + WINDOW:
            continue
        if ev.term not in dictionary:
            not_counted.append(ev.id)
            continue
        counted.append((ev, now.worst_grade))
        worst[ev.patient_id] = max(worst.get(ev.patient_id, 0), now.worst_grade)
        if now.worst_grade >= 3:
            for lot_number in lots_of[ev.patient_id]:
                severe_by_lot[lot_number].add(ev.patient_id)
    out = PrimaryOutcome(
        participants=len(patients),
        with_related=len(worst),
        exceptional=exceptional,
        infused=set(patients),
        not_counted=not_counted,
    )
    for ev, grade in counted:
        soc = dictionary[ev.term]["soc"]
        out.by_soc_grade.setdefault((soc, grade), []).append(ev.id)
        out.events_by_grade.setdefault(grade, []).append(ev.id)
        out.events_by_cohort.setdefault(patients[ev.patient_id].cohort, []).append(ev.id)
        for lot_number in lots_of[ev.patient_id]:
            out.events_by_lot.setdefault(lot_number, []).append(ev.id)
    for grade in worst.values():
        out.by_grade[grade] = out.by_grade.get(grade, 0) + 1
    for pid, patient in patients.items():
        row = out.by_cohort.setdefault(patient.cohort, [0, 0])
        row[0] += 1
        row[1] += pid in worst
        for lot_number in lots_of[pid]:
            lot_row = out.by_lot.setdefault(lot_number, [0, 0])
            lot_row[0] += 1
            lot_row[1] += pid in worst
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


def secondary_outcome(
    session: Session, actor: User, primary: PrimaryOutcome | None = None
) -> dict[str, int]:
    """Participants by response at the one-month visit (improved, stable, worse, not yet seen)
    and the secondary outcome itself, "reduced or stabilised" = improved + stable.

    Given the primary outcome read for the same actor, its infused participants are reused
    instead of reading every infusion a second time."""
    require(actor.role, "reports.read")
    if primary is not None:
        infused = primary.infused
    else:
        infused = {p.id for _i, p, _l, _x in _infusions(session, actor)}
    visits = session.scalars(
        select(FollowUp).where(FollowUp.patient_id.in_(list(infused) or [-1]))
    ).all()
    counts = {response.value: 0 for response in rules.Response}
    for v in visits:
        counts[v.response] += 1
    counts["not yet seen"] = len(infused) - len(visits)
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
    """Enrolment: a participant counts once consent is recorded. Site staff see their site's."""
    require(actor.role, "reports.read")
    stmt = (
        select(Patient)
        .join(Patient.site)
        .where(Patient.consent_date.is_not(None))
        .options(contains_eager(Patient.site))
        .order_by(Patient.id)
    )
    if site_scope(actor) is not None:
        stmt = stmt.where(Patient.site_id == site_scope(actor))
    out = Enrolment(target)
    for p in session.scalars(stmt):
        site, cohort = p.site.code, p.cohort
        out.enrolled += 1
        for table, key in (
            (out.by_site, site),
            (out.by_cohort, cohort),
            (out.by_age_band, p.age_band or NOT_RECORDED),
            (out.by_sex, p.sex or NOT_RECORDED),
        ):
            table[key] = table.get(key, 0) + 1
        row = out.by_site_and_cohort.setdefault(site, {})
        row[cohort] = row.get(cohort, 0) + 1
    return out
