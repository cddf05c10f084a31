"""A measured grade is proposed from the term's CTCAE v4.03 definition: the edges of each grade
(38.0 / 39.0 / 40.0 °C and 24 h; counts against the LLN and the fixed cuts; multiples of the
ULN) fall where the definition's words put them, and the proposal is a grade the term allows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain import ctcae
from lotrack.domain.ctcae_measures import RULES, Measurement, propose
from lotrack.domain.errors import ValidationFailed

temps = st.decimals(min_value="30.0", max_value="45.0", places=1)
hours = st.decimals(min_value="0", max_value="200", places=1)


@given(temps, hours)
def test_fever_follows_the_definition_at_every_tenth_of_a_degree(t, h):
    grade = propose("Fever", Measurement(str(t), hours=str(h))).grade
    if t < Decimal("38.0"):
        assert grade is None
    elif t <= Decimal("39.0"):
        assert grade == 1  # 38.0 - 39.0
    elif t <= Decimal("40.0"):
        assert grade == 2  # >39.0 - 40.0
    else:
        assert grade == (3 if h <= 24 else 4)  # >40.0 for <=24 h, for >24 h


@pytest.mark.parametrize(
    "value, hours, grade",
    [
        ("37.9", "", None),
        ("38.0", "", 1),
        ("39.0", "", 1),
        ("39.1", "", 2),
        ("40.0", "", 2),
        ("40.1", "24", 3),
        ("40.1", "24.1", 4),
    ],
)
def test_fever_edges(value, hours, grade):
    assert propose("Fever", Measurement(value, hours=hours)).grade == grade


def test_above_40_degrees_the_hours_are_asked_for():
    with pytest.raises(ValidationFailed) as refused:
        propose("Fever", Measurement("40.5"))
    assert list(refused.value.fields) == ["hours"]


LOW = {
    "Neutrophil count decreased": ("1.5", "1.0", "0.5"),
    "Platelet count decreased": ("75", "50", "25"),
    "White blood cell decreased": ("3.0", "2.0", "1.0"),
    "Lymphocyte count decreased": ("0.8", "0.5", "0.2"),
}


@given(
    st.sampled_from(sorted(LOW)),
    st.decimals(min_value="0", max_value="500", places=2),
    st.decimals(min_value="0.5", max_value="450", places=1),
)
def test_counts_below_the_lln_and_the_cuts(term, value, lln):
    g2, g3, g4 = (Decimal(c) for c in LOW[term])
    expected = (
        4 if value < g4 else 3 if value < g3 else 2 if value < g2 else 1 if value < lln else None
    )
    proposal = propose(term, Measurement(str(value), str(lln)))
    assert proposal.grade == expected
    if proposal.grade is not None:
        ctcae.check_grade(term, proposal.grade)  # always a grade the term defines


ULN = {
    "Alanine aminotransferase increased": ("3.0", "5.0", "20.0"),
    "Aspartate aminotransferase increased": ("3.0", "5.0", "20.0"),
    "Alkaline phosphatase increased": ("2.5", "5.0", "20.0"),
    "GGT increased": ("2.5", "5.0", "20.0"),
    "Blood bilirubin increased": ("1.5", "3.0", "10.0"),
    "Creatinine increased": ("1.5", "3.0", "6.0"),
}


@given(
    st.sampled_from(sorted(ULN)),
    st.integers(min_value=0, max_value=3000),
    st.integers(min_value=1, max_value=100),
)
def test_multiples_of_the_uln(term, value, uln):
    c2, c3, c4 = (Decimal(c) for c in ULN[term])
    ratio = Decimal(value) / Decimal(uln)
    expected = (
        4 if ratio > c4 else 3 if ratio > c3 else 2 if ratio > c2 else 1 if ratio > 1 else None
    )
    proposal = propose(term, Measurement(str(value), str(uln)))
    assert proposal.grade == expected
    if proposal.grade is not None:
        ctcae.check_grade(term, proposal.grade)


@pytest.mark.parametrize(
    "value, uln, grade",
    [
        ("40", "40", None),
        ("41", "40", 1),
        ("120", "40", 1),
        ("121", "40", 2),
        ("200", "40", 2),
        ("201", "40", 3),
        ("800", "40", 3),
        ("801", "40", 4),
    ],
)
def test_alt_edges_are_exact(value, uln, grade):
    """>ULN - 3.0 × ULN is grade 1: exactly 3 × ULN is still grade 1, a unit more is grade 2."""
    assert propose("Alanine aminotransferase increased", Measurement(value, uln)).grade == grade


def test_anemia_stops_at_grade_3_life_threatening_is_judged():
    assert propose("Anemia", Measurement("7.9", "12.0")).grade == 3
    assert propose("Anemia", Measurement("8.0", "12.0")).grade == 2
    assert propose("Anemia", Measurement("11.9", "12.0")).grade == 1


@pytest.mark.parametrize(
    "term, m, field",
    [
        ("Nausea", Measurement("3"), "measurement"),  # not graded by a measurement
        ("Fever", Measurement("hot"), "measurement"),
        ("Fever", Measurement("NaN"), "measurement"),
        ("Platelet count decreased", Measurement("60"), "reference"),  # the LLN is needed
        ("Blood bilirubin increased", Measurement("30", "0"), "reference"),
        ("Blood bilirubin increased", Measurement("-3", "20"), "measurement"),
    ],
)
def test_a_measurement_that_cannot_grade_is_refused_naming_the_field(term, m, field):
    with pytest.raises(ValidationFailed) as refused:
        propose(term, m)
    assert list(refused.value.fields) == [field]


def test_every_measured_term_is_in_the_dictionary():
    assert set(RULES) <= set(ctcae.builtin().terms)
