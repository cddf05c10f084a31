"""An adverse event followed to resolution: terms of several system organ classes with their
grade limits, a measured grade confirmed or overridden with a reason, follow-ups kept as history
(the database refuses to change any of them), expectedness from the investigator's brochure,
the reporting clock, the reports made and those overdue, and the report's counts linking to
their events."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from lotrack.domain.ctcae_measures import Measurement
from lotrack.domain.errors import Forbidden, NotFound, ValidationFailed
from lotrack.models import AdverseEvent, AdverseEventReport, AdverseEventUpdate
from lotrack.services import adverse_lifecycle as lifecycle
from lotrack.services import audit, report
from tests.conftest import execute_as_owner, user
from tests.services.test_adverse_reports import DAY, TODAY, ae, one_infused, s  # noqa: F401
from tests.services.test_clinical import count


@pytest.mark.parametrize(
    "term, grade, specify",
    [
        ("Anemia", 3, ""),
        ("Diarrhea", 2, ""),
        ("Alanine aminotransferase increased", 4, ""),
        ("Urinary tract infection", 2, ""),
        ("Immune system disorders - Other, specify", 3, "acute GVHD of the skin, stage 2"),
        ("Infections and infestations - Other, specify", 2, "CMV reactivation"),
        ("Acidosis", 1, ""),
        ("Sudden death NOS", 5, ""),
    ],
)
def test_any_term_of_the_dictionary_is_recorded_with_its_soc(s, term, grade, specify):  # noqa: F811
    p = one_infused(s).patient
    kw = {"seriousness": ["death"], "outcome": "fatal"} if grade == 5 else {}
    event = ae(s, p, term, grade, "unlikely", specify=specify, **kw)
    assert event.soc and event.meddra and event.specify == specify


@pytest.mark.parametrize(
    "term, grade, kw, field",
    [
        ("Diarrhea", 0, {}, "grade"),
        ("Acidosis", 2, {}, "grade"),  # CTCAE defines 1, 3, 4, 5 for acidosis
        ("Febrile neutropenia", 2, {}, "grade"),  # starts at 3
        ("Sudden death NOS", 4, {}, "grade"),  # only 5
        ("Alanine aminotransferase increased", 5, {"seriousness": ["death"]}, "grade"),
        ("Immune system disorders - Other, specify", 2, {}, "specify"),
        ("Fever", 1, {"aware_on": TODAY + DAY}, "aware_on"),
        ("Fever", 1, {"onset_on": TODAY - DAY, "aware_on": TODAY - 2 * DAY}, "aware_on"),
    ],
)
def test_what_the_dictionary_or_the_dates_forbid_is_refused(s, term, grade, kw, field):  # noqa: F811
    p = one_infused(s).patient
    before = count(s, AdverseEvent)
    with pytest.raises(ValidationFailed) as refused:
        ae(s, p, term, grade, "possible", **kw)
    assert field in refused.value.fields
    assert count(s, AdverseEvent) == before


def test_a_measured_grade_is_kept_and_an_override_needs_a_reason(s):  # noqa: F811
    p = one_infused(s).patient
    plt = Measurement("40", "150")  # 40 × 10^9/L: grade 3
    event = ae(s, p, "Platelet count decreased", 3, "possible", measurement=plt)
    assert (event.proposed_grade, event.grade_reason) == (3, "")
    with pytest.raises(ValidationFailed) as refused:
        ae(s, p, "Platelet count decreased", 4, "possible", measurement=plt)
    assert list(refused.value.fields) == ["grade_reason"]
    judged = ae(
        s,
        p,
        "Platelet count decreased",
        4,
        "possible",
        measurement=plt,
        grade_reason="bleeding needing urgent transfusion",
    )
    assert (judged.grade, judged.proposed_grade) == (4, 3)
    assert '"value": "40"' in judged.measurement


def test_an_event_is_followed_to_resolution_and_its_history_kept(s):  # noqa: F811
    nurse = user(s, "doctor")
    p = one_infused(s).patient
    event = ae(s, p, "Diarrhea", 2, "possible", onset_on=TODAY - 5 * DAY, aware_on=TODAY - 4 * DAY)
    grade3 = lifecycle.add_follow_up(
        s,
        nurse,
        event,
        aware_on=TODAY - 3 * DAY,
        grade=3,
        seriousness=["hospitalization"],
        treatment="IV fluids, loperamide",
        reason="7 stools a day, admitted",
    )
    with pytest.raises(ValidationFailed) as refused:  # recovered needs the date it resolved
        lifecycle.add_follow_up(s, nurse, event, aware_on=TODAY, outcome="recovered")
    assert list(refused.value.fields) == ["resolved_on"]
    lifecycle.add_follow_up(
        s, nurse, event, aware_on=TODAY, outcome="recovered", resolved_on=TODAY - DAY
    )
    s.commit()
    view = lifecycle.event_view(s, nurse, event.id)
    now = view.current
    assert (now.grade, now.worst_grade, now.outcome, now.resolved_on) == (
        3,
        3,
        "recovered",
        TODAY - DAY,
    )
    assert now.closed and now.serious
    assert [u.grade for u in view.updates] == [3, None]
    s.refresh(event)
    assert (event.grade, event.outcome, event.serious) == (2, "recovering", False)  # as reported
    assert [e.action for e in audit.history(s, "adverse_event_update", str(grade3.id))] == [
        "create"
    ]
    assert audit.history(s, "adverse_event_update", str(grade3.id))[0].reason == (
        "7 stools a day, admitted"
    )


@pytest.mark.parametrize(
    "kw, field",
    [
        ({}, "note"),  # nothing to record
        ({"grade": 4}, "reason"),  # a grade change needs a reason
        ({"attribution": "definite"}, "reason"),
        ({"grade": 5, "reason": "died"}, "seriousness"),  # grade 5 is death
        ({"outcome": "fatal"}, "grade"),
        ({"grade": 1, "reason": "r", "aware_on": TODAY + DAY}, "aware_on"),
        ({"resolved_on": TODAY}, "resolved_on"),  # not recovered
        ({"outcome": "recovered", "resolved_on": TODAY - 30 * DAY}, "resolved_on"),
        ({"seriousness": ["scary"]}, "seriousness"),
    ],
)
def test_a_bad_follow_up_is_refused_naming_the_field_and_nothing_written(s, kw, field):  # noqa: F811
    p = one_infused(s).patient
    event = ae(s, p, "Colitis", 2, "possible")
    before = count(s, AdverseEventUpdate)
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.add_follow_up(s, user(s, "doctor"), event, **{"aware_on": TODAY, **kw})
    assert field in refused.value.fields
    assert count(s, AdverseEventUpdate) == before


def test_no_row_of_an_events_history_can_be_changed_or_deleted(s, demo_app):  # noqa: F811
    nurse = user(s, "doctor")
    event = ae(
        s, one_infused(s).patient, "Hypotension", 3, "possible", seriousness=["hospitalization"]
    )
    update = lifecycle.add_follow_up(s, nurse, event, aware_on=TODAY, note="BP 85/50")
    sent = lifecycle.record_report(
        s,
        nurse,
        event,
        kind="sponsor",
        reported_on=TODAY,
        reported_by="Dr Li",
        recipient="sponsor safety desk",
        reference="SAE-2026-001",
    )
    s.commit()
    for statement in (
        "UPDATE adverse_event SET grade = 1 WHERE id = :id",
        "UPDATE adverse_event SET outcome = 'recovered' WHERE id = :id",
        "DELETE FROM adverse_event WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="never overwritten"):
            execute_as_owner(demo_app, statement, {"id": event.id})
    for table, row in (("adverse_event_update", update), ("adverse_event_report", sent)):
        for statement in (
            f"UPDATE {table} SET recorded_by_id = 1 WHERE id = :id",
            f"DELETE FROM {table} WHERE id = :id",
        ):
            with pytest.raises(DBAPIError, match="never overwritten"):
                execute_as_owner(demo_app, statement, {"id": row.id})
    kept = s.execute(text("SELECT grade FROM adverse_event WHERE id = :id"), {"id": event.id})
    assert kept.scalar_one() == 3


def test_expectedness_comes_from_the_brochure_setting(s):  # noqa: F811
    p = one_infused(s).patient
    brochure = frozenset({"Infusion related reaction"})
    serious = {"seriousness": ["hospitalization"], "expected_terms": brochure}
    expected = ae(s, p, "Infusion related reaction", 3, "definite", **serious)
    unexpected = ae(s, p, "Anaphylaxis", 3, "definite", **serious)
    assert (expected.expected, expected.report_due_on) == (True, None)
    assert (unexpected.expected, unexpected.report_due_on) == (False, TODAY + 15 * DAY)


def test_overdue_reports_are_listed_for_the_site_and_qa_until_made(s):  # noqa: F811
    nurse, qa = user(s, "doctor"), user(s, "qa")
    p = one_infused(s).patient
    event = ae(
        s,
        p,
        "Anaphylaxis",
        4,
        "definite",
        seriousness=["life_threatening"],
        onset_on=TODAY - 9 * DAY,
        aware_on=TODAY - 8 * DAY,
    )
    ae(s, p, "Fever", 1, "possible", onset_on=TODAY - 9 * DAY)  # not serious: nothing due
    rows = lifecycle.overdue_reports(s, nurse)
    assert [(r.view.event.id, r.late.kind, r.late.days_late) for r in rows] == [
        (event.id, "sponsor", 7),
        (event.id, "regulatory", 1),
    ]
    assert [r.late.kind for r in lifecycle.overdue_reports(s, qa)] == ["sponsor", "regulatory"]
    assert lifecycle.overdue_reports(s, user(s, "bjnurse")) == []  # another site's event
    lifecycle.record_report(
        s,
        nurse,
        event,
        kind="sponsor",
        reported_on=TODAY - 7 * DAY,
        reported_by="Dr Li",
        recipient="sponsor",
        reference="SAE-1",
    )
    lifecycle.record_report(
        s,
        qa,
        event,
        kind="regulatory",
        reported_on=TODAY,
        reported_by="QA Wang",
        recipient="NMPA CDE",
        reference="CN-SUSAR-7",
    )
    assert lifecycle.overdue_reports(s, qa) == []
    assert count(s, AdverseEventReport) == 2


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"kind": "press"}, "kind"),
        ({"reference": " "}, "reference"),
        ({"reported_by": ""}, "reported_by"),
        ({"reported_on": TODAY + DAY}, "reported_on"),
    ],
)
def test_a_bad_report_is_refused_naming_the_field(s, kw, field):  # noqa: F811
    event = ae(
        s, one_infused(s).patient, "Hypotension", 3, "possible", seriousness=["hospitalization"]
    )
    values = {
        "kind": "sponsor",
        "reported_on": TODAY,
        "reported_by": "Dr Li",
        "recipient": "sponsor",
        "reference": "SAE-2",
        **kw,
    }
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.record_report(s, user(s, "doctor"), event, **values)
    assert field in refused.value.fields


def test_another_sites_event_is_not_found_and_a_technician_may_not_report(s):  # noqa: F811
    event = ae(s, one_infused(s).patient, "Fever", 1, "possible")
    with pytest.raises(NotFound):
        lifecycle.get_event(s, user(s, "bjnurse"), event.id)
    with pytest.raises(Forbidden):
        lifecycle.record_report(
            s,
            user(s, "tech"),
            event,
            kind="sponsor",
            reported_on=TODAY,
            reported_by="x",
            recipient="y",
            reference="z",
        )


def test_the_report_counts_dictionary_terms_by_soc_and_grade_linking_to_events(s):  # noqa: F811
    nurse = user(s, "doctor")
    p = one_infused(s).patient
    ev1 = ae(s, p, "Diarrhea", 1, "possible")
    ev2 = ae(s, p, "Diarrhea", 2, "probable")
    ev3 = ae(s, p, "Platelet count decreased", 2, "definite")
    ae(s, p, "Fever", 2, "unrelated")  # not treatment-related: not counted
    lifecycle.add_follow_up(s, nurse, ev1, aware_on=TODAY, grade=3, reason="worse")
    s.commit()
    out = report.primary_outcome(s, user(s, "qa"))
    assert out.by_soc_grade == {
        ("Gastrointestinal disorders", 2): [ev2.id],
        ("Gastrointestinal disorders", 3): [ev1.id],  # at the worst grade it reached
        ("Investigations", 2): [ev3.id],
    }
    assert out.by_grade == {3: 1}  # one participant, worst related grade 3
    assert out.events_by_cohort == {p.cohort: [ev1.id, ev2.id, ev3.id]}
    views = report.events_by_id(s, user(s, "qa"), [ev1.id, ev3.id])
    assert [v.event.id for v in views] == [ev1.id, ev3.id]
    assert report.events_by_id(s, user(s, "bjnurse"), [ev1.id]) == []  # another site's


def test_a_term_outside_the_dictionary_in_use_is_not_counted(s):  # noqa: F811
    from lotrack.domain import ctcae

    p = one_infused(s).patient
    ev = ae(s, p, "Diarrhea", 2, "possible")
    s.commit()
    only_fever = ctcae.parse(
        {"source": "test", "terms": [dict(ctcae.builtin().terms["Fever"])]}, "test"
    )
    ctcae.use(only_fever)
    try:
        out = report.primary_outcome(s, user(s, "qa"))
    finally:
        ctcae.use(None)
    assert out.not_counted == [ev.id] and out.by_soc_grade == {} and out.with_related == 0
