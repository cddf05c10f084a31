"""Patients, eligibility, prescriptions and allocations through their services, on the demo
database: registered at the nurse's site under a subject code, never dosed unless consented and
eligible, units allocated only from released unexpired lots to cover the dose. Site users see and
act on their own site only. The helpers here are shared by the other clinical service tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.decisions import Action
from lotrack.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lotrack.models import Allocation, Lot, Patient, Prescription, User
from lotrack.services import accounts, audit, clinical, release, result, seed_quality
from lotrack.services import lot as lots
from lotrack.services.release import Lockout, SignIn
from tests.clinical_setup import cohort_of, investigator_of
from tests.conftest import FACILITY, user

DEMO_LOT = "CFM-2025-0001"  # RELEASED, 4 bags of 72 x 10^6 cells
BAG = 72_000_000
ALL_CLEAR = {
    "consent": True,
    "no_alternative": True,
    "documented_disorder": True,
    "genetic_or_infectious": False,
    "cannot_consent": False,
    "infection_or_cancer": False,
    "life_expectancy": False,
    "pregnancy": False,
}


def site_today() -> dt.date:
    """The date at the trial sites (all in Asia/Shanghai), which dates entered there are."""
    return utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()


def clinical_user(s: Session, username: str, site: str = "SZ-GIMI") -> User:
    made = accounts.create_user(
        s,
        None,
        username=username,
        full_name=f"Nurse {username}",
        role="clinical",
        password=f"demo-{username}-password",
        site_code=site,
        must_change_password=False,
    )
    s.flush()
    return made


def enrol(
    s: Session,
    nurse: User,
    code: str,
    *,
    weight: str = "36",
    cohort: str = "2x10^6/kg",
    answers: dict[str, bool] | None = ALL_CLEAR,
    consent: bool = True,
) -> Patient:
    """A registered patient, consented yesterday and assessed by the site's investigator (unless
    told otherwise); its cohort (2×10^6 cells/kg unless it exists) recorded when missing."""
    p = clinical.register_patient(
        s,
        nurse,
        subject_code=code,
        weight_kg=Decimal(weight),
        indication="acute_gvhd",
        cohort=cohort_of(s, cohort),
    )
    s.flush()
    if consent:
        clinical.record_consent(s, nurse, p, site_today() - dt.timedelta(days=1))
    if answers is not None:
        clinical.assess_eligibility(s, investigator_of(s, p.site_id), p, answers)
    s.flush()
    return p


def prescribed(s: Session, nurse: User, p: Patient, dose: int = 2_000_000) -> Prescription:
    """A prescription of `dose` cells/kg by the site's investigator, in the cohort of that dose
    (`nurse` names the site)."""
    level = cohort_of(s, f"{dose}/kg", dose)
    doctor = investigator_of(s, nurse.site_id)  # type: ignore[arg-type]
    rx = clinical.prescribe(s, doctor, p, cohort=level, planned_on=site_today())
    s.flush()
    return rx


def released_lot(
    s: Session, units: int = 2, expires_on: dt.date = dt.date(2028, 8, 18), cells: int = BAG
) -> Lot:
    """A new lot of RUN-2025-01 with `units` bags, every result passing, released by qa."""
    tech, tech2 = user(s, "tech"), user(s, "tech2")
    new = lots.register_lot(
        s, tech, run_code="RUN-2025-01", harvested_on=dt.date(2025, 8, 18), expires_on=expires_on
    )
    s.flush()
    lots.fill_units(
        s,
        tech,
        new,
        container="bag",
        count=units,
        cells_per_unit=cells,
        volume_ml=Decimal("18.00"),
        facility_id=FACILITY,
    )
    for analyte, value, unit in seed_quality.RELEASE_VALUES:
        r = result.record_result(
            s, tech, new, test=analyte, value=value, unit=unit, performed_on=new.harvested_on
        )
        s.flush()
        result.verify_result(s, tech2, r)
    s.flush()
    sign_in = SignIn("qa", "demo-qa-password", "approved for release", "every criterion met")
    release.decide(s, user(s, "qa"), new, Action.RELEASE, sign_in, Lockout(5, 15))
    s.flush()
    return new


def dins(s: Session, lot_number: str) -> list[str]:
    return [u.din for u in lots.get_lot(s, lot_number).units]


def count(s: Session, model: type) -> int:
    return s.scalar(select(func.count()).select_from(model)) or 0


# ---- patients -------------------------------------------------------------------------------


def test_a_patient_is_registered_at_the_nurses_site_under_a_subject_code(session):
    s, nurse = session, user(session, "nurse")
    p = clinical.register_patient(
        s,
        nurse,
        subject_code=" p-001 ",
        weight_kg=Decimal("36.5"),
        indication="chronic_gvhd",
        cohort=cohort_of(s, "low"),
        site_code="BJ-CIP",  # ignored: a site user registers at their own site
    )
    s.commit()
    assert (p.wristband, p.site.code, p.subject_code) == ("SZ-GIMI/P-001", "SZ-GIMI", "P-001")
    assert clinical.get_patient(s, nurse, "sz-gimi/p-001 ") is p
    assert clinical.problems_of(p)[0] == "informed consent not recorded"
    assert [e.action for e in audit.history(s, "patient", str(p.id))] == ["create"]


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"weight_kg": Decimal("0")}, "weight_kg"),
        ({"weight_kg": Decimal("401")}, "weight_kg"),
        ({"indication": "flu"}, "indication"),
        ({"cohort": "  "}, "cohort"),
        ({"cohort": "free text"}, "cohort"),  # a protocol cohort, not any words
        ({"age_band": "42"}, "age_band"),
        ({"sex": "x"}, "sex"),
        ({"subject_code": "Zhang San"}, "subject_code"),  # a name is not a subject code
    ],
)
def test_bad_patient_input_is_refused_naming_the_field_and_nothing_is_written(session, kw, field):
    args = dict(
        subject_code="P-9",
        weight_kg=Decimal("60"),
        indication="other_immune",
        cohort=cohort_of(session, "A"),
    )
    before = count(session, Patient)
    with pytest.raises(ValidationFailed) as refused:
        clinical.register_patient(session, user(session, "nurse"), **(args | kw))
    assert field in refused.value.fields
    session.flush()
    assert count(session, Patient) == before


def test_a_subject_code_is_used_once_per_site_and_only_site_staff_register(session):
    s = session
    enrol(s, user(s, "nurse"), "P-001")
    with pytest.raises(Conflict):
        enrol(s, user(s, "nurse"), "p-001")
    assert enrol(s, clinical_user(s, "bjnurse", "BJ-CIP"), "P-001").wristband == "BJ-CIP/P-001"
    for role_user in ("tech", "qa", "md", "admin"):
        with pytest.raises(Forbidden):
            enrol(s, user(s, role_user), "P-002")


def test_consent_cannot_be_dated_in_the_future(session):
    s, nurse = session, user(session, "nurse")
    p = enrol(s, nurse, "P-001", consent=False)
    with pytest.raises(ValidationFailed) as refused:
        clinical.record_consent(s, nurse, p, site_today() + dt.timedelta(days=1))
    assert "consent_date" in refused.value.fields and p.consent_date is None
    clinical.record_consent(s, nurse, p, site_today())  # ahead of UTC's date until 16:00 UTC
    assert p.consent_date == site_today()


def test_the_eligibility_checklist_is_recorded_and_problems_named(session):
    s, nurse, doctor = session, user(session, "nurse"), user(session, "doctor")
    p = enrol(s, nurse, "P-001", answers=None)
    with pytest.raises(Forbidden):  # a physician's judgement, not a nurse's
        clinical.assess_eligibility(s, nurse, p, ALL_CLEAR)
    problems = clinical.assess_eligibility(s, doctor, p, ALL_CLEAR | {"pregnancy": True})
    assert problems == ["exclusion applies: Pregnancy"]
    assert p.eligibility_by_id == doctor.id and p.eligibility_at is not None
    with pytest.raises(ValidationFailed) as refused:
        clinical.assess_eligibility(s, doctor, p, ALL_CLEAR | {"smoker": False})
    assert refused.value.fields == {"smoker": "unknown item"}
    assert clinical.assess_eligibility(s, doctor, p, ALL_CLEAR) == []


# ---- prescriptions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "consent, answers, problem",
    [
        (False, ALL_CLEAR, "informed consent not recorded"),
        (True, None, "inclusion not met"),
        (True, ALL_CLEAR | {"life_expectancy": True}, "exclusion applies: Poor clinical"),
    ],
)
def test_an_unconsented_or_ineligible_patient_gets_no_prescription(
    session, consent, answers, problem
):
    s, nurse = session, user(session, "nurse")
    p = enrol(s, nurse, "P-001", consent=consent, answers=answers)
    before = count(s, Prescription)
    with pytest.raises(Conflict) as refused:
        prescribed(s, nurse, p)
    assert problem in refused.value.message
    assert count(s, Prescription) == before


@pytest.mark.parametrize(
    "weight, dose, cells",
    [
        ("36", 2_000_000, 72_000_000),
        ("12.5", 1_000_001, 12_500_013),
        ("70.55", 1_000_000, 70_550_000),
    ],
)
def test_cells_needed_is_dose_times_weight_half_up(session, weight, dose, cells):
    s, nurse = session, user(session, "nurse")
    rx = prescribed(s, nurse, enrol(s, nurse, "P-001", weight=weight), dose)
    s.commit()
    s.expire_all()
    assert (rx.cells_needed, rx.tolerance, rx.weight_kg) == (
        cells,
        Decimal("0.10"),
        Decimal(weight),
    )


@pytest.mark.parametrize("dose", [0, -2_000_000, 10**18])
def test_an_impossible_dose_level_is_refused_naming_it(session, dose):
    with pytest.raises(ValidationFailed) as refused:
        cohort_of(session, "bad", dose)
    assert "amount" in refused.value.fields


@pytest.mark.parametrize(
    "typed, field",
    [
        ({"dose_per_kg": 1_000_000}, "dose_per_kg"),  # not the cohort's 2×10^6
        ({"fixed_cells": 72_000_000}, "fixed_cells"),  # the cohort is per kg
        ({"cohort": "none such"}, "cohort"),
    ],
)
def test_a_prescription_is_its_cohorts_dose_level(session, typed, field):
    s, nurse, doctor = session, user(session, "nurse"), user(session, "doctor")
    p = enrol(s, nurse, "P-001")
    before = count(s, Prescription)
    with pytest.raises(ValidationFailed) as refused:
        clinical.prescribe(s, doctor, p, planned_on=site_today(), **typed)
    assert field in refused.value.fields
    assert count(s, Prescription) == before
    with pytest.raises(Forbidden):  # the investigator prescribes, not the nurse
        clinical.prescribe(s, nurse, p, planned_on=site_today())
    rx = clinical.prescribe(s, doctor, p, planned_on=site_today(), dose_per_kg=2_000_000)
    assert (rx.dose_basis, rx.dose_per_kg, rx.cells_needed) == ("per_kg", 2_000_000, 72_000_000)


def test_a_fixed_dose_is_its_cells_whatever_the_weight(session):
    s, nurse, doctor = session, user(session, "nurse"), user(session, "doctor")
    p = enrol(s, nurse, "P-001", weight="12")
    level = cohort_of(s, "fixed-100e6", 100_000_000, "fixed")
    rx = clinical.prescribe(s, doctor, p, planned_on=site_today(), cohort=level)
    assert (rx.dose_basis, rx.dose_per_kg, rx.fixed_cells, rx.cells_needed) == (
        "fixed",
        None,
        100_000_000,
        100_000_000,
    )
    assert rx.cohort is not None and rx.cohort.code == "fixed-100e6"


# ---- allocation -----------------------------------------------------------------------------


def test_units_cover_the_dose_and_go_to_one_patient_only(session):
    s, nurse, tech = session, user(session, "nurse"), user(session, "tech")
    first, second = dins(s, DEMO_LOT)[:2]
    rx = prescribed(s, nurse, enrol(s, nurse, "P-001"))  # 36 kg x 2x10^6/kg = one bag
    with pytest.raises(Forbidden):
        clinical.allocate(s, nurse, rx, [first])  # allocation is the manufacturer's
    (a,) = clinical.allocate(s, tech, rx, [f" {first.lower()} "])
    s.flush()
    assert (a.unit.din, a.prescription.patient.wristband) == (first, "SZ-GIMI/P-001")
    other = prescribed(s, nurse, enrol(s, nurse, "P-002"))
    with pytest.raises(ValidationFailed) as refused:
        clinical.allocate(s, tech, other, [first])
    assert refused.value.fields == {first: "allocated already"}
    assert len(clinical.allocate(s, user(s, "qa"), other, [second])) == 1


def test_allocation_refuses_unusable_units_and_writes_nothing(session):
    s, nurse, tech = session, user(session, "nurse"), user(session, "tech")
    rx = prescribed(s, nurse, enrol(s, nurse, "P-001"))
    expired = released_lot(s, units=1, expires_on=dt.date(2025, 9, 1))
    destroyed = released_lot(s, units=1).units[0]
    destroyed.state = "destroyed"  # no verb destroys a unit yet; the guard must hold when one does
    s.flush()
    before = count(s, Allocation)
    cases = {  # the one distribution rule's reasons (domain/distribution.py)
        dins(s, "CFM-2025-0002")[0]: (
            "Lot CFM-2025-0002 is QUARANTINE; only a released lot's units may go to a patient."
        ),
        expired.units[0].din: "The unit expired at the end of 2025-09-01 (Asia/Shanghai).",
        destroyed.din: "The unit is recorded as destroyed.",
    }
    for din, why in cases.items():
        with pytest.raises(ValidationFailed) as refused:
            clinical.allocate(s, tech, rx, [din])
        assert refused.value.fields == {din: why}
    with pytest.raises(ValidationFailed) as refused:
        clinical.allocate(s, tech, rx, ["A999925999999"])
    assert "unknown DIN A999925999999" in refused.value.fields["units"]
    assert count(s, Allocation) == before


def test_allocation_refuses_too_few_or_too_many_cells(session):
    s, nurse, tech = session, user(session, "nurse"), user(session, "tech")
    one, two, three = dins(s, DEMO_LOT)[:3]
    rx = prescribed(s, nurse, enrol(s, nurse, "P-001", weight="50"))  # needs 100 x 10^6
    before = count(s, Allocation)
    with pytest.raises(ValidationFailed) as few:
        clinical.allocate(s, tech, rx, [one])  # 72 x 10^6 < 90 x 10^6
    assert "below the prescribed 100,000,000" in few.value.fields["units"]
    with pytest.raises(ValidationFailed) as many:
        clinical.allocate(s, tech, rx, [one, two, three])  # two whole: 144 x 10^6 > 110 x 10^6
    assert "already come to 144,000,000" in many.value.fields["units"]
    assert count(s, Allocation) == before
    # Two bags: the first whole (72 x 10^6), 28 / 4 = 7.0 mL drawn from the second.
    assert len(clinical.allocate(s, tech, rx, [one, two])) == 2


# ---- site scoping ---------------------------------------------------------------------------


def test_another_sites_patients_are_invisible_and_untouchable(session):
    s, nurse = session, user(session, "nurse")
    p = enrol(s, nurse, "P-001")
    rx = prescribed(s, nurse, p)
    bj = clinical_user(s, "bjnurse", "BJ-CIP")
    bj_doctor = investigator_of(s, bj.site_id)  # type: ignore[arg-type]
    mine = enrol(s, bj, "P-100")
    # BJ-CIP's own: P-100 and the demo's participant awaiting assessment (seed_worklist.py).
    assert [x.wristband for x in clinical.list_patients(s, bj).items] == [
        "BJ-CIP/P-100",
        "BJ-CIP/SUBJ-101",
    ]
    sz = {x.wristband for x in clinical.list_patients(s, nurse).items}
    assert "SZ-GIMI/P-001" in sz and all(w.startswith("SZ-GIMI/") for w in sz)
    for reader in ("qa", "md", "admin"):
        everyone = {x.wristband for x in clinical.list_patients(s, user(s, reader)).items}
        assert everyone == sz | {"BJ-CIP/P-100", "BJ-CIP/SUBJ-101", "BJ-ACH/SUBJ-201"}
    with pytest.raises(NotFound):
        clinical.get_patient(s, bj, "SZ-GIMI/P-001")
    with pytest.raises(NotFound):
        clinical.get_prescription(s, bj, rx.id)
    acts = [
        lambda: clinical.record_consent(s, bj, p, site_today()),
        lambda: clinical.assess_eligibility(s, bj_doctor, p, ALL_CLEAR),
        lambda: clinical.prescribe(s, bj_doctor, p, planned_on=site_today()),
    ]
    for act in acts:
        with pytest.raises(NotFound):
            act()
    with pytest.raises(Forbidden):
        clinical.list_patients(s, user(s, "tech"))
    assert clinical.get_patient(s, user(s, "qa"), mine.wristband) is mine


def test_allocation_refuses_a_dose_whose_endotoxin_is_over_the_limit(session):
    """A fixed 72×10^6 cells to a 0.8 kg neonate from the demo bag (18 mL, endotoxin <0.25
    EU/mL): 18 × 0.25 / 0.8 = 5.6 EU/kg, over K = 5 EU/kg (USP <85>); at 1 kg, 4.5: allocated."""
    s, nurse, tech = session, user(session, "nurse"), user(session, "tech")
    doctor = user(s, "doctor")
    level = cohort_of(s, "72e6", 72_000_000, "fixed")
    one, two = dins(s, DEMO_LOT)[:2]
    tiny = enrol(s, nurse, "N-1", weight="0.8", cohort=level)
    rx = clinical.prescribe(s, doctor, tiny, planned_on=site_today())
    before = count(s, Allocation)
    with pytest.raises(ValidationFailed) as refused:
        clinical.allocate(s, tech, rx, [one])
    assert "5.63 EU/kg of endotoxin, above the limit of 5 EU/kg" in refused.value.fields["units"]
    assert count(s, Allocation) == before
    small = enrol(s, nurse, "N-2", weight="1.0", cohort=level)
    ok = clinical.prescribe(s, doctor, small, planned_on=site_today())
    assert len(clinical.allocate(s, tech, ok, [two])) == 1
