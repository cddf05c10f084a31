"""The primary outcome is counted in SQL (services/report.py); here it is checked against the
straightforward computation it replaced, over random participants, infusions, adverse events and
their follow-ups: every infusion and every event read, each event's history folded by the domain
(services/adverse_lifecycle.py), every count made in Python. Both must give the same report."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain import clinical as rules
from lotrack.domain import ctcae
from lotrack.domain.text import said
from lotrack.models import (
    AdverseEvent,
    AdverseEventUpdate,
    BedsideScan,
    FollowUp,
    Infusion,
    Lot,
    Patient,
    Prescription,
    Site,
    Unit,
    User,
)
from lotrack.services import adverse_lifecycle as lifecycle
from lotrack.services import report
from lotrack.services.clinical import site_scope
from tests.conftest import user
from tests.services.test_clinical import clinical_user

NOW = dt.datetime(2026, 6, 1, 15, 30, tzinfo=dt.UTC)
TERMS = ("Fever", "Anaphylaxis", "Hypotension", "Not a CTCAE term")


def reference(s: Session, actor: User) -> tuple[report.PrimaryOutcome, dict[str, int]]:
    """The primary and secondary outcome as read before they were counted in SQL."""
    stmt = (
        select(Infusion, Patient, Lot.lot_number, BedsideScan.exceptional_acknowledged)
        .join(BedsideScan, Infusion.scan_id == BedsideScan.id)
        .join(Patient, Infusion.patient_id == Patient.id)
        .join(Unit, Infusion.unit_id == Unit.id)
        .join(Lot, Unit.lot_id == Lot.id)
        .order_by(Infusion.started_at, Infusion.id)
    )
    if site_scope(actor) is not None:
        stmt = stmt.where(Patient.site_id == site_scope(actor))
    first: dict[int, dt.datetime] = {}
    lots_of: dict[int, set[str]] = defaultdict(set)
    patients: dict[int, Patient] = {}
    exceptional = []
    for inf, patient, lot_number, acknowledged in s.execute(stmt):
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
    events = s.scalars(
        select(AdverseEvent)
        .where(AdverseEvent.patient_id.in_(list(patients) or [-1]))
        .order_by(AdverseEvent.id)
    ).all()
    histories = lifecycle.views(s, list(events))
    dictionary = ctcae.active().terms
    worst: dict[int, int] = {}
    severe: dict[str, set[int]] = defaultdict(set)
    out = report.PrimaryOutcome(participants=len(patients), exceptional=exceptional)
    for ev in events:
        start = first[ev.patient_id].astimezone(ZoneInfo(patients[ev.patient_id].site.time_zone))
        now = histories[ev.id].current
        if not now.related or not start.date() <= ev.onset_on <= start.date() + report.WINDOW:
            continue
        if ev.term not in dictionary:
            out.not_counted.append(ev.id)
            continue
        grade = now.worst_grade
        worst[ev.patient_id] = max(worst.get(ev.patient_id, 0), grade)
        out.by_soc_grade.setdefault((dictionary[ev.term]["soc"], grade), []).append(ev.id)
        out.events_by_grade.setdefault(grade, []).append(ev.id)
        out.events_by_cohort.setdefault(patients[ev.patient_id].cohort, []).append(ev.id)
        for lot_number in lots_of[ev.patient_id]:
            out.events_by_lot.setdefault(lot_number, []).append(ev.id)
            if grade >= 3:
                severe[lot_number].add(ev.patient_id)
    out.with_related = len(worst)
    for grade in worst.values():
        out.by_grade[grade] = out.by_grade.get(grade, 0) + 1
    for pid, patient in patients.items():
        for table, key in [(out.by_cohort, patient.cohort)] + [
            (out.by_lot, x) for x in lots_of[pid]
        ]:
            row = table.setdefault(key, [0, 0])
            row[0] += 1
            row[1] += pid in worst
    for lot_number, pids in sorted(severe.items()):
        if len(pids) >= report.SIGNAL_PARTICIPANTS:
            out.signals.append(
                said(
                    "Lot %(lot)s: %(num)s participants with related grade ≥3 events.",
                    lot=lot_number,
                    num=len(pids),
                )
            )
    visits = s.scalars(select(FollowUp).where(FollowUp.patient_id.in_(list(patients) or [-1])))
    counts = {r.value: 0 for r in rules.Response}
    for v in visits:
        counts[v.response] += 1
    counts["not yet seen"] = len(patients) - sum(counts.values())
    counts["reduced or stabilised"] = sum(counts[r.value] for r in rules.REDUCED_OR_STABILISED)
    return out, counts


update = st.tuples(
    st.one_of(st.none(), st.integers(1, 5)),  # grade
    st.one_of(st.none(), st.sampled_from(rules.ATTRIBUTIONS)),  # attribution
)
event = st.tuples(
    st.sampled_from(TERMS),
    st.integers(1, 5),
    st.integers(-3, 34),  # onset, days after the first infusion's UTC day
    st.sampled_from(rules.ATTRIBUTIONS),
    st.lists(update, max_size=3),
)
participant = st.tuples(
    st.integers(0, 2),  # site: two in Shanghai's zone, one in Los Angeles'
    st.sampled_from(("low", "high")),
    st.lists(  # infusions: lot, hours before NOW (across local midnights), acknowledged
        st.tuples(st.integers(0, 2), st.integers(0, 72), st.booleans()), max_size=3
    ),
    st.lists(event, max_size=3),
    st.one_of(st.none(), st.sampled_from(rules.RESPONSES)),
)


def _add(
    s: Session, sites: list[Site], lots: list[Lot], people: list, by: User, witness: User
) -> None:
    for n, (site, cohort, infusions, events, response) in enumerate(people):
        p = Patient(
            site_id=sites[site].id,
            subject_code=f"H{n}",
            wristband=f"{sites[site].code}/H{n}",
            weight_kg=Decimal(70),
            indication=rules.INDICATIONS[0],
            cohort=cohort,
        )
        s.add(p)
        s.flush()
        rx = Prescription(
            patient_id=p.id,
            dose_per_kg=1_000_000,
            weight_kg=Decimal(70),
            cells_needed=70_000_000,
            planned_on=NOW.date(),
            status="open",
            prescribed_by_id=by.id,
        )
        s.add(rx)
        s.flush()
        for k, (lot, hours, acknowledged) in enumerate(infusions):
            din = f"H9999{n:04d}{k:04d}"
            u = Unit(
                din=din,
                check_character="A",
                lot_id=lots[lot].id,
                container="bag",
                cells=70_000_000,
                volume_ml=Decimal(20),
                state="infused",
            )
            s.add(u)
            s.flush()
            # Distinct start times: the exceptional list is in the order of infusion.
            at = NOW - dt.timedelta(hours=hours, seconds=n * 10 + k)
            scan = BedsideScan(
                site_id=sites[site].id,
                patient_text=p.wristband,
                scan_text=din,
                method="typed",
                patient_id=p.id,
                unit_id=u.id,
                go=True,
                exceptional_acknowledged=acknowledged,
                reasons="[]",
                scanned_by_id=by.id,
                scanned_at=at,
            )
            s.add(scan)
            s.flush()
            s.add(
                Infusion(
                    unit_id=u.id,
                    patient_id=p.id,
                    prescription_id=rx.id,
                    scan_id=scan.id,
                    thawed_at=at,
                    started_at=at,
                    operator_id=by.id,
                    witness_id=witness.id,
                )
            )
        for term, grade, day, attribution, updates in events:
            onset = (NOW - dt.timedelta(hours=72)).date() + dt.timedelta(days=day)
            ev = AdverseEvent(
                patient_id=p.id,
                term=term,
                meddra="10016558",
                grade=grade,
                onset_on=onset,
                aware_on=onset,
                attribution=attribution,
                serious=False,
                outcome="recovering",
                reported_by_id=by.id,
            )
            s.add(ev)
            s.flush()
            for g, a in updates:
                s.add(
                    AdverseEventUpdate(
                        adverse_event_id=ev.id,
                        aware_on=onset,
                        grade=g,
                        attribution=a,
                        recorded_by_id=by.id,
                    )
                )
        if response is not None:
            s.add(
                FollowUp(
                    patient_id=p.id, visit_on=NOW.date(), response=response, recorded_by_id=by.id
                )
            )
    s.flush()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(people=st.lists(participant, max_size=8))
def test_the_report_counted_in_sql_is_the_report_counted_in_python(session, people):
    try:
        nurse = clinical_user(session, "hnurse")
        sites = [
            session.scalars(select(Site).filter_by(code=c)).one() for c in ("SZ-GIMI", "BJ-CIP")
        ]
        far = Site(code="H-LAX", name="Far away", time_zone="America/Los_Angeles")
        session.add(far)
        lots = list(session.scalars(select(Lot).order_by(Lot.id).limit(3)))
        assert len(lots) == 3
        session.flush()
        _add(session, [*sites, far], lots, people, user(session, "doctor"), nurse)
        for actor in (user(session, "qa"), nurse):
            primary, secondary = reference(session, actor)
            assert report.primary_outcome(session, actor) == primary
            assert report.secondary_outcome(session, actor) == secondary
            assert report.secondary_outcome(session, actor, primary) == secondary
    finally:
        session.rollback()
