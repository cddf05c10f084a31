"""Adverse events (CTCAE v4.03 term and grade, attribution, seriousness and its reporting clock),
the one-month visit, and the trial reports built on them: the primary outcome counts participants,
not events, with treatment-related events up to one month after the first infusion."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.clinical import visit_problem
from lotrack.domain.decisions import Meaning
from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.models import AdverseEvent, Infusion, Patient, User
from lotrack.services import adverse, audit, clinical, exceptional, report
from lotrack.services import infusion as infusions
from lotrack.services import lot as lots
from lotrack.services.release import SignIn
from tests.clinical_setup import investigator_of
from tests.conftest import PASSWORDS, user
from tests.services.test_bedside_service import MIN, infuse, qr, scan, with_key
from tests.services.test_clinical import (
    DEMO_LOT,
    clinical_user,
    count,
    dins,
    enrol,
    prescribed,
    released_lot,
)
from tests.services.test_shipments import receive, send

TODAY = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()  # every trial site's date
DAY = dt.timedelta(days=1)


@pytest.fixture
def s(session: Session, demo_app: Flask) -> Session:
    clinical_user(session, "sznurse9")
    clinical_user(session, "bjnurse", "BJ-CIP")
    clinical_user(session, "bjnurse2", "BJ-CIP")
    return with_key(session, demo_app)


def ae(s: Session, p: Patient, term: str, grade: int, attribution: str, **kw) -> AdverseEvent:
    event = adverse.record_adverse_event(
        s,
        kw.pop("actor", None) or user(s, "doctor"),  # the site's investigator attributes
        p,
        term=term,
        grade=grade,
        onset_on=kw.pop("onset_on", TODAY),
        attribution=attribution,
        seriousness=kw.pop("seriousness", []),
        outcome=kw.pop("outcome", "recovering"),
        **kw,
    )
    s.flush()
    return event


def one_infused(s: Session, code: str = "P-001") -> Infusion:
    return infuse(s, user(s, "nurse"), user(s, "sznurse9"), code, dins(s, DEMO_LOT)[0])


def test_an_event_is_graded_coded_and_its_report_due_in_7_days_when_life_threatening(s):
    inf = one_infused(s)
    event = ae(
        s,
        inf.patient,
        "Anaphylaxis",
        3,
        "probable",
        seriousness=["life_threatening", "hospitalization"],
        description=" bronchospasm 10 min into the infusion ",
    )
    assert (event.meddra, event.serious, event.infusion_id) == ("10002218", True, inf.id)
    assert event.report_due_on == TODAY + 7 * DAY
    assert event.seriousness == '["hospitalization", "life_threatening"]'
    assert event.description == "bronchospasm 10 min into the infusion"
    s.commit()
    assert [e.action for e in audit.history(s, "adverse_event", str(event.id))] == ["create"]


@pytest.mark.parametrize(
    "grade, attribution, seriousness, outcome, due",
    [
        (5, "definite", ["death"], "fatal", 7),
        (2, "possible", ["hospitalization"], "recovered", 15),
        (3, "probable", ["medically_important"], "recovering", 15),
        (3, "unlikely", ["hospitalization"], "recovered", None),  # unrelated: no expedited report
        (5, "unrelated", ["death"], "fatal", None),
        (3, "definite", [], "recovered", None),  # related, not serious
    ],
)
def test_the_expedited_report_clock(s, grade, attribution, seriousness, outcome, due):
    p = one_infused(s).patient
    event = ae(s, p, "Hypotension", grade, attribution, seriousness=seriousness, outcome=outcome)
    assert event.report_due_on == (TODAY + due * DAY if due else None)
    assert event.serious == bool(seriousness)


@pytest.mark.parametrize(
    "term, grade, kw, field",
    [
        ("Anaphylaxis", 1, {}, "grade"),  # CTCAE starts anaphylaxis at grade 3
        ("Chills", 4, {}, "grade"),
        ("Feeling blue", 2, {}, "term"),
        ("Hypotension", 5, {"seriousness": ["hospitalization"]}, "seriousness"),
        ("Hypotension", 4, {"outcome": "fatal", "seriousness": ["death"]}, "grade"),
        ("Fever", 1, {"attribution": "maybe"}, "attribution"),
        ("Fever", 1, {"seriousness": ["scary"]}, "seriousness"),
        ("Fever", 1, {"outcome": "fine"}, "outcome"),
        ("Fever", 1, {"onset_on": TODAY + DAY}, "onset_on"),
    ],
)
def test_a_bad_event_is_refused_naming_the_field_and_nothing_is_written(s, term, grade, kw, field):
    p = one_infused(s).patient
    before = count(s, AdverseEvent)
    with pytest.raises(ValidationFailed) as refused:
        ae(s, p, term, grade, kw.pop("attribution", "possible"), **kw)
    assert field in refused.value.fields
    assert count(s, AdverseEvent) == before


def test_an_event_belongs_to_the_patients_own_infusion_before_its_onset(s):
    inf = one_infused(s)
    other = infuse(s, user(s, "nurse"), user(s, "sznurse9"), "P-002", dins(s, DEMO_LOT)[1])
    with pytest.raises(ValidationFailed) as refused:
        ae(s, inf.patient, "Fever", 1, "possible", infusion=other)
    assert refused.value.fields == {"infusion": "an infusion of another patient"}
    before = ae(s, inf.patient, "Fever", 1, "unrelated", onset_on=TODAY - 3 * DAY)
    assert before.infusion_id is None  # it began before any infusion
    assert ae(s, inf.patient, "Chills", 1, "possible").infusion_id == inf.id


def test_who_may_record_adverse_events_and_visits(s):
    p = one_infused(s).patient
    # Nurses (here or elsewhere) and roles without adverse.write: attribution is a physician's.
    for who in ("nurse", "bjnurse", "tech", "qa"):
        with pytest.raises(Forbidden):
            ae(s, p, "Fever", 1, "possible", actor=user(s, who))
    with pytest.raises(Forbidden):  # another site's investigator: the patient is not theirs
        ae(s, p, "Fever", 1, "possible", actor=investigator_of(s, user(s, "bjnurse").site_id))
    for who in ("nurse", "bjnurse", "md"):  # the visit is the site investigator's to record
        with pytest.raises(Forbidden):
            adverse.record_follow_up(
                s, user(s, who), p, visit_on=TODAY, response="stable", notes=""
            )
    assert ae(s, p, "Fever", 2, "possible", actor=user(s, "md")).reported_by_id == user(s, "md").id


def test_the_one_month_visit_is_recorded_once_inside_its_window_never_in_the_future(s):
    """Infused 35 days ago (the site's days): the window is day 30 ± 7, days 23 to 37, so
    from 12 days ago to 2 days ahead; the future part is refused."""
    nurse, doctor = user(s, "nurse"), user(s, "doctor")
    zone = ZoneInfo("Asia/Shanghai")
    started = dt.datetime.combine(TODAY - 35 * DAY, dt.time(10, 0), zone)
    p = infused_long_ago(s, nurse, user(s, "sznurse9"), dins(s, DEMO_LOT)[0], "P-35", started)
    p = p.patient
    visit = adverse.record_follow_up
    for when, why in (
        (TODAY - 13 * DAY, "from "),  # day 22: before the window
        (TODAY + DAY, "not in the future"),  # inside the window, but tomorrow
        (TODAY - 40 * DAY, "from "),  # before the infusion
    ):
        with pytest.raises(ValidationFailed) as refused:
            visit(s, doctor, p, visit_on=when, response="improved", notes="")
        assert why in refused.value.fields["visit_on"], refused.value.fields
    with pytest.raises(ValidationFailed) as bad:
        visit(s, doctor, p, visit_on=TODAY, response="cured", notes="")
    assert "response" in bad.value.fields
    with pytest.raises(Conflict):
        visit(s, doctor, enrol(s, nurse, "P-009"), visit_on=TODAY, response="stable", notes="")
    with pytest.raises(Forbidden):  # the investigator's judgement, not the nurse's
        visit(s, nurse, p, visit_on=TODAY, response="improved", notes="")
    early = TODAY - 12 * DAY  # day 23: the window's first day
    done = visit(s, doctor, p, visit_on=early, response="improved", notes=" GVHD skin score down ")
    assert (done.response, done.notes, done.visit_on) == ("improved", "GVHD skin score down", early)
    with pytest.raises(Conflict):
        visit(s, doctor, p, visit_on=TODAY, response="stable", notes="")


@pytest.mark.parametrize(
    "offset, ok",
    [(22, False), (23, True), (30, True), (37, True), (38, False), (0, False)],
)
def test_the_visit_window_rule(offset, ok):
    first, today = dt.date(2026, 1, 1), dt.date(2027, 1, 1)
    problem = visit_problem(first + offset * DAY, first, today, day=30, window=7)
    assert (problem == {}) == ok


# ---- reports --------------------------------------------------------------------------------


@dataclass
class Trial:
    lot_b: str
    patients: dict[str, Patient]


def infused_long_ago(
    s: Session, nurse: User, witness: User, din: str, code: str, started_at: dt.datetime
) -> Infusion:
    """A patient of the nurse's site infused at `started_at`, in the past. Services record the
    present only, so this infusion follows a real GO check and is then written as history."""
    p = enrol(s, nurse, code, cohort="low")
    rx = prescribed(s, nurse, p)
    clinical.allocate(s, user(s, "tech"), rx, [din])
    assert nurse.site is not None
    receive(s, nurse, send(s, [din], site=nurse.site.code), [din])
    thaw = infusions.record_thaw(s, nurse, din, utcnow() - 5 * MIN)
    row, verdict = scan(s, nurse, p.wristband, qr(s, din))
    assert verdict.go
    inf = Infusion(
        unit_id=row.unit_id,
        patient_id=p.id,
        prescription_id=rx.id,
        scan_id=row.id,
        thawed_at=thaw.thawed_at,
        started_at=started_at,
        operator_id=nurse.id,
        witness_id=witness.id,
    )
    s.add(inf)
    s.flush()
    return inf


@pytest.fixture
def trial(s: Session) -> Trial:
    """Five participants: P1, P2 (SZ-GIMI) and P3 (BJ-CIP, infused 45 days ago) from the demo lot,
    cohort "low"; P4, P5 (SZ-GIMI) from a second lot, cohort 'high, "B"' (quotes and a comma)."""
    sz, bj = (user(s, "nurse"), user(s, "sznurse9")), (user(s, "bjnurse"), user(s, "bjnurse2"))
    a, b = dins(s, DEMO_LOT), [u.din for u in released_lot(s, units=2).units]
    high = 'high, "B"'
    plan = [("P1", a[0], "low"), ("P2", a[1], "low"), ("P4", b[0], high), ("P5", b[1], high)]
    p = {code: infuse(s, *sz, code, din, cohort).patient for code, din, cohort in plan}
    p3 = infused_long_ago(s, *bj, a[2], "P3", utcnow() - 45 * DAY)
    bj_doctor = investigator_of(s, bj[0].site_id)
    p["P3"] = p3.patient
    # P1: three events, one participant; worst related grade 3 (grade 4 is unrelated)
    ae(s, p["P1"], "Anaphylaxis", 3, "probable", seriousness=["life_threatening"])
    ae(s, p["P1"], "Fever", 1, "possible")
    ae(s, p["P1"], "Hypotension", 4, "unrelated", seriousness=["hospitalization"])
    ae(s, p["P2"], "Hypotension", 3, "possible")  # a second grade >= 3 on the demo lot
    day0 = p3.started_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
    for day, grade, attribution in ((1, 2, "unrelated"), (30, 1, "definite"), (31, 3, "definite")):
        ae(s, p["P3"], "Fever", grade, attribution, onset_on=day0 + day * DAY, actor=bj_doctor)
    ae(s, p["P4"], "Fever", 2, "definite")
    ae(s, p["P5"], "Allergic reaction", 4, "definite", onset_on=TODAY - DAY)  # before infusion
    doctor = user(s, "doctor")
    # Infused today: a protocol window of day 0 (the setting) lets today's visit count here.
    for code, response in (("P1", "improved"), ("P2", "stable"), ("P4", "worse")):
        adverse.record_follow_up(
            s, doctor, p[code], visit_on=TODAY, response=response, notes="", visit_day=0
        )
    s.commit()
    return Trial(lots.get_unit(s, b[0]).lot.lot_number, p)


def test_the_primary_outcome_counts_participants_with_related_events_in_a_month(s, trial):
    out = report.primary_outcome(s, user(s, "qa"))
    assert (out.participants, out.with_related) == (5, 4)
    # P1's worst related grade is 3, not its unrelated 4; P3's day-30 grade 1 counts, not its
    # day-31 grade 3; P5's event began before the infusion
    assert out.by_grade == {3: 2, 2: 1, 1: 1}
    assert out.by_cohort == {"low": [3, 3], 'high, "B"': [2, 1]}
    assert out.by_lot == {DEMO_LOT: [3, 3], trial.lot_b: [2, 1]}
    assert out.signals == [f"Lot {DEMO_LOT}: 2 participants with related grade ≥3 events."]
    assert report.secondary_outcome(s, user(s, "md")) == {
        "improved": 1,
        "stable": 1,
        "worse": 1,
        "not yet seen": 2,
        "reduced or stabilised": 2,  # improved + stable: the secondary outcome
    }


def test_a_site_user_reads_the_reports_of_their_site_only(s, trial):
    sz = report.primary_outcome(s, user(s, "nurse"))
    assert (sz.participants, sz.with_related, sz.by_grade) == (4, 3, {3: 2, 2: 1})
    assert sz.by_lot == {DEMO_LOT: [2, 2], trial.lot_b: [2, 1]}
    bj = report.primary_outcome(s, user(s, "bjnurse"))
    assert (bj.participants, bj.with_related, bj.by_grade, bj.signals) == (1, 1, {1: 1}, [])
    assert bj.by_cohort == {"low": [1, 1]} and bj.by_lot == {DEMO_LOT: [1, 1]}
    assert report.secondary_outcome(s, user(s, "bjnurse"))["not yet seen"] == 1
    with pytest.raises(Forbidden):
        report.primary_outcome(s, user(s, "tech"))


def test_the_primary_outcome_csv_round_trips(s, trial):
    text = report.primary_csv(report.primary_outcome(s, user(s, "admin")))
    rows = list(csv.reader(io.StringIO(text)))
    # Then the treatment-related events by system organ class and worst grade, with their ids.
    assert [row[:3] for row in rows[10:]] == [
        ["system organ class", "worst grade", "related events"],
        ["General disorders and administration site conditions", "1", "2"],
        ["General disorders and administration site conditions", "2", "1"],
        ["Immune system disorders", "3", "1"],
        ["Vascular disorders", "3", "1"],
    ]
    assert rows[9] == []
    assert list(csv.reader(io.StringIO(text)))[:9] == [
        ["group", "value", "participants infused", "with related adverse events"],
        ["all", "", "5", "4"],
        ["cohort", 'high, "B"', "2", "1"],
        ["cohort", "low", "3", "3"],
        ["lot", DEMO_LOT, "3", "3"],
        ["lot", trial.lot_b, "2", "1"],
        ["worst related grade", "1", "", "1"],
        ["worst related grade", "2", "", "1"],
        ["worst related grade", "3", "", "2"],
    ]


def test_a_lot_reaches_the_patients_infused_from_it(s, trial):
    reached = report.patients_reached(s, [lots.get_lot(s, DEMO_LOT).id])
    assert [(r.patient, r.site) for r in reached] == [
        ("SZ-GIMI/P1", "SZ-GIMI"),
        ("SZ-GIMI/P2", "SZ-GIMI"),
        ("BJ-CIP/P3", "BJ-CIP"),
    ]


def test_the_month_and_the_visit_are_counted_in_the_sites_days(s):
    """Infused at 07:00 in Shenzhen, 23:00 UTC the day before: the site's day is what counts."""
    zone = ZoneInfo("Asia/Shanghai")
    d = TODAY - 40 * DAY
    nurse, witness = user(s, "nurse"), user(s, "sznurse9")
    started = dt.datetime.combine(d, dt.time(7, 0), zone)
    assert started.astimezone(dt.UTC).date() == d - DAY
    p = infused_long_ago(s, nurse, witness, dins(s, DEMO_LOT)[0], "P7", started).patient
    before = ae(s, p, "Hypotension", 3, "possible", onset_on=d - DAY)  # the evening before
    assert before.infusion_id is None
    ae(s, p, "Fever", 2, "possible", onset_on=d + 30 * DAY)
    ae(s, p, "Hypotension", 4, "possible", onset_on=d + 31 * DAY)
    assert report.primary_outcome(s, user(s, "qa")).by_grade == {2: 1}
    # Day 23 (the window's first, LOTRACK_VISIT_DAY 30 − 7) counts from the site's date d, not
    # from the UTC date d − 1, on which d + 22 would be day 23.
    doctor = user(s, "doctor")
    with pytest.raises(ValidationFailed):
        adverse.record_follow_up(s, doctor, p, visit_on=d + 22 * DAY, response="stable", notes="")
    visit = adverse.record_follow_up(
        s, doctor, p, visit_on=d + 23 * DAY, response="stable", notes=""
    )
    assert visit.visit_on == d + 23 * DAY


def test_an_infusion_on_an_exceptional_release_is_flagged_in_the_report(s):
    from tests.services.test_bedside_service import signed_by
    from tests.services.test_exceptional_release import ask, sign
    from tests.services.test_release import LOCKOUT

    nurse = user(s, "nurse")
    assert report.primary_outcome(s, user(s, "qa")).exceptional == []
    lot = lots.get_lot(s, "CFM-2025-0003")  # failed viability: released by exception only
    p = enrol(s, nurse, "P-EX1")
    er = ask(s, lot, patient=p.wristband)
    sign(s, er, user(s, "qa"))
    sign(s, er, user(s, "md"))
    accepted = SignIn("nurse", PASSWORDS["nurse"], Meaning.EXCEPTIONAL_RELEASE_ACCEPTED, "")
    exceptional.accept_release(s, nurse, er, accepted, LOCKOUT)
    exceptional.record_notification(
        s, user(s, "qa"), recipient_role="sponsor", recipient="Sponsor PV", method="e-mail",
        notified_at=utcnow(), er=er,
    )  # fmt: skip
    din = lot.units[0].din
    clinical.allocate(s, user(s, "tech"), prescribed(s, nurse, p), [din])
    receive(s, nurse, send(s, [din]), [din])
    infusions.record_thaw(s, nurse, din, utcnow() - 10 * MIN)
    row, verdict = scan(s, nurse, p.wristband, qr(s, din), acknowledge_exceptional=True)
    assert verdict.go, verdict.reasons
    infusions.record_infusion(
        s,
        nurse,
        row,
        started_at=utcnow(),
        volume_ml=Decimal("18.00"),
        **signed_by(user(s, "sznurse9")),
    )
    s.flush()
    for reader in ("qa", "nurse"):
        assert report.primary_outcome(s, user(s, reader)).exceptional == [
            f"{p.wristband}: lot CFM-2025-0003 was infused on an exceptional release"
            " acknowledged at the bedside."
        ]
    assert report.primary_outcome(s, user(s, "bjnurse")).exceptional == []  # another site's
