"""Clinical rules (domain/clinical.py): the trial's eligibility checklist, the dose arithmetic,
CTCAE v4.03 term and grade, and the expedited-reporting clock."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain import clinical as rules
from lotrack.domain.errors import ValidationFailed

ALL_CLEAR = {k: True for k, _t in rules.INCLUSION} | {k: False for k, _t in rules.EXCLUSION}


def test_the_checklist_follows_the_protocol():
    assert [k for k, _t in rules.INCLUSION] == ["consent", "no_alternative", "documented_disorder"]
    assert [k for k, _t in rules.EXCLUSION] == [
        "genetic_or_infectious",
        "cannot_consent",
        "infection_or_cancer",
        "life_expectancy",
        "pregnancy",
    ]
    assert rules.eligibility_problems(ALL_CLEAR) == []


def test_an_unanswered_checklist_lists_every_item():
    problems = rules.eligibility_problems({})
    assert len(problems) == len(rules.INCLUSION) + len(rules.EXCLUSION)
    assert "inclusion not met: Informed consent given" in problems
    assert "exclusion not assessed: Pregnancy" in problems


@pytest.mark.parametrize(
    "key, answer, problem",
    [
        ("consent", False, "inclusion not met: Informed consent given"),
        ("no_alternative", None, "inclusion not met: No available alternative"),
        ("documented_disorder", "yes", "inclusion not met: Clinically documented"),
        ("pregnancy", True, "exclusion applies: Pregnancy"),
        ("life_expectancy", True, "exclusion applies: Poor clinical condition"),
        ("infection_or_cancer", None, "exclusion not assessed: Ongoing infection"),
        ("cannot_consent", "no", "exclusion applies: Unable to give informed consent"),
    ],
)
def test_one_wrong_or_unclear_answer_is_one_problem(key, answer, problem):
    (only,) = rules.eligibility_problems(ALL_CLEAR | {key: answer})
    assert only.startswith(problem)


@pytest.mark.parametrize(
    "dose, weight, cells",
    [
        (2_000_000, Decimal("36"), 72_000_000),
        (1_000_000, Decimal("70.55"), 70_550_000),
        (3, Decimal("0.5"), 2),  # 1.5 -> 2
        (1, Decimal("2.5"), 3),  # 2.5 -> 3: half up, not to even
        (1, Decimal("2.49"), 2),
        (1_000_001, Decimal("0.5"), 500_001),  # 500 000.5 -> 500 001
    ],
)
def test_cells_needed_is_dose_times_weight_rounded_half_up(dose, weight, cells):
    assert rules.cells_needed(dose, weight) == cells


@pytest.mark.parametrize(
    "dose, weight, field",
    [
        (0, Decimal("70"), "dose_per_kg"),
        (-1, Decimal("70"), "dose_per_kg"),
        (rules.MAX_DOSE_PER_KG + 1, Decimal("70"), "dose_per_kg"),
        (10**18, Decimal("1"), "dose_per_kg"),
        (1_000_000, Decimal("0"), "weight_kg"),
        (1_000_000, Decimal("-3"), "weight_kg"),
    ],
)
def test_an_implausible_dose_or_a_weight_not_above_zero_is_refused(dose, weight, field):
    with pytest.raises(ValidationFailed) as refused:
        rules.cells_needed(dose, weight)
    assert field in refused.value.fields


@given(st.integers(1, 10**8), st.decimals("0.01", "400", places=2))
def test_cells_needed_is_within_half_a_cell_of_the_exact_product(dose, weight):
    exact = Decimal(dose) * weight
    cells = rules.cells_needed(dose, weight)
    assert isinstance(cells, int) and abs(cells - exact) <= Decimal("0.5")
    assert cells - exact != Decimal("-0.5")  # a half is rounded up


REFERENCE = Path(__file__).parents[3] / "shared" / "reference" / "ctcae_v403_terms.json"


def test_the_ctcae_terms_hold_the_reference_list():
    terms = rules.ctcae_terms()
    reference = json.loads(REFERENCE.read_text("utf-8"))["terms"] if REFERENCE.exists() else []
    for ref in reference:  # shared/reference/ctcae_v403_terms.json, where the project has it
        assert terms[ref["term"]]["grades"] == ref["grades"], ref["term"]
        assert terms[ref["term"]]["meddra"] == ref["meddra"]
    assert terms["Anaphylaxis"]["meddra"] == "10002218"
    assert sorted(terms["Anaphylaxis"]["grades"]) == ["3", "4", "5"]
    assert sorted(terms["Chills"]["grades"]) == ["1", "2", "3"]


@pytest.mark.parametrize(
    "term, grade", [("Fever", 1), ("Anaphylaxis", 3), ("Anaphylaxis", 5), ("Chills", 3)]
)
def test_a_grade_the_term_defines_is_accepted(term, grade):
    assert rules.check_grade(term, grade)["term"] == term


@pytest.mark.parametrize(
    "term, grade, field",
    [
        ("Anaphylaxis", 1, "grade"),  # anaphylaxis starts at grade 3
        ("Anaphylaxis", 2, "grade"),
        ("Chills", 4, "grade"),  # chills stop at grade 3
        ("Infusion site extravasation", 1, "grade"),
        ("Fever", 0, "grade"),
        ("Fever", 6, "grade"),
        ("fever", 1, "term"),  # the CTCAE spelling, exactly
        ("Headache of the soul", 2, "term"),
        ("", 1, "term"),
    ],
)
def test_a_grade_the_term_lacks_or_an_unknown_term_is_refused(term, grade, field):
    with pytest.raises(ValidationFailed) as refused:
        rules.check_grade(term, grade)
    assert list(refused.value.fields) == [field]


def test_the_refusal_names_the_grades_the_term_has():
    with pytest.raises(ValidationFailed) as refused:
        rules.check_grade("Anaphylaxis", 1)
    assert refused.value.fields == {"grade": "one of 3, 4, 5"}


def test_related_means_possible_or_stronger():
    assert {"possible", "probable", "definite"} == rules.RELATED
    assert set(rules.ATTRIBUTIONS) - rules.RELATED == {"unrelated", "unlikely"}
