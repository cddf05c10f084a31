"""Enrolment against the trial's target (issue 17 item 5): consented participants by site and
cohort, age band and sex; no date of birth anywhere; site staff count their own site."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lotrack.services import clinical, report
from tests.clinical_setup import cohort_of
from tests.conftest import user
from tests.services.test_clinical import clinical_user, site_today


def register(s, nurse, code: str, cohort: str, band: str | None, sex: str | None, consent=True):
    p = clinical.register_patient(
        s,
        nurse,
        subject_code=code,
        weight_kg=Decimal("12.00"),
        indication="acute_gvhd",
        cohort=cohort,
        age_band=band,
        sex=sex,
    )
    s.flush()
    if consent:
        clinical.record_consent(s, nurse, p, site_today() - dt.timedelta(days=1))
    return p


def test_enrolment_counts_consented_participants_by_site_cohort_age_band_and_sex(session):
    s = session
    nurse, bj = user(s, "nurse"), clinical_user(s, "bjnurse", "BJ-CIP")
    high = cohort_of(s, "2e6/kg")
    # The demo: SZ-GIMI/SUBJ-001 consented (1e6/kg, 18-64y, female); SUBJ-002 not consented.
    register(s, nurse, "P-1", high, "12-17y", "male")
    register(s, bj, "C-1", high, "2-11y", "female")
    register(s, bj, "C-2", "1e6/kg", "28d-23m", "male")
    register(s, bj, "C-3", "1e6/kg", "2-11y", "male", consent=False)  # not yet enrolled
    everyone = report.enrolment(s, user(s, "qa"), target=100)
    assert (everyone.target, everyone.enrolled) == (100, 4)
    assert everyone.by_site == {"SZ-GIMI": 2, "BJ-CIP": 2}
    assert everyone.by_cohort == {"1e6/kg": 2, "2e6/kg": 2}
    assert everyone.by_site_and_cohort == {
        "SZ-GIMI": {"1e6/kg": 1, "2e6/kg": 1},
        "BJ-CIP": {"2e6/kg": 1, "1e6/kg": 1},
    }
    assert everyone.by_age_band == {"18-64y": 1, "12-17y": 1, "2-11y": 1, "28d-23m": 1}
    assert everyone.by_sex == {"female": 2, "male": 2}
    mine = report.enrolment(s, bj, target=100)  # a site's staff: their site only
    assert (mine.enrolled, mine.by_site) == (2, {"BJ-CIP": 2})


def test_a_patient_registered_before_age_band_and_sex_counts_as_not_recorded(session):
    s = session
    register(s, user(s, "nurse"), "P-2", "1e6/kg", None, None)
    counted = report.enrolment(s, user(s, "md"), target=100)
    assert counted.by_age_band["not recorded"] == 1 and counted.by_sex["not recorded"] == 1
