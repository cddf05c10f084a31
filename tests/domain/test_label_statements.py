"""Label statements from facts (domain/label_statements.py): the jurisdiction's investigational
statement always, the reference's two warnings whenever the donor is not determined eligible,
the exceptional-release warning for such a lot; warnings first, nothing typed by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.label_statements import (
    ADVISE_RISKS,
    EXCEPTIONAL,
    INVESTIGATIONAL,
    JURISDICTIONS,
    NOT_EVALUATED,
    LabelFacts,
    label_statements,
)
from lotrack.domain.states import Determination, LotState

CN, US = INVESTIGATIONAL["CN"], INVESTIGATIONAL["US"]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (LabelFacts("CN", LotState.RELEASED, Determination.ELIGIBLE), (CN,)),
        (LabelFacts("US", LotState.RELEASED, Determination.ELIGIBLE), (US,)),
        # isbt128.md: "Released before donor eligibility is complete".
        (
            LabelFacts("CN", LotState.EXCEPTIONAL_RELEASE, Determination.INCOMPLETE),
            (NOT_EVALUATED, ADVISE_RISKS, EXCEPTIONAL, CN),
        ),
        (
            LabelFacts("US", LotState.QUARANTINE, Determination.INELIGIBLE),
            (NOT_EVALUATED, ADVISE_RISKS, US),
        ),
        (LabelFacts("CN", LotState.QUARANTINE, None), (NOT_EVALUATED, ADVISE_RISKS, CN)),
        (
            LabelFacts("US", LotState.EXCEPTIONAL_RELEASE, Determination.ELIGIBLE),
            (EXCEPTIONAL, US),
        ),
    ],
)
def test_statements_follow_the_facts(facts: LabelFacts, expected: tuple) -> None:
    assert label_statements(facts) == expected


def test_the_reference_wording_is_kept() -> None:
    assert NOT_EVALUATED.en == "NOT EVALUATED FOR INFECTIOUS SUBSTANCES"
    assert ADVISE_RISKS.en == "WARNING: Advise patient of communicable disease risks"
    assert US.en.startswith("Caution: New Drug") and "investigational use" in US.en
    assert CN.zh == "仅用于临床试验"


@given(
    jurisdiction=st.sampled_from(JURISDICTIONS),
    state=st.sampled_from(list(LotState)),
    determination=st.sampled_from([*Determination, None]),
)
def test_every_label_says_what_its_facts_require_and_no_more(
    jurisdiction: str, state: LotState, determination: Determination | None
) -> None:
    chosen = label_statements(LabelFacts(jurisdiction, state, determination))
    codes = [s.code for s in chosen]
    assert len(codes) == len(set(codes))
    assert [s for s in chosen if s in INVESTIGATIONAL.values()] == [INVESTIGATIONAL[jurisdiction]]
    not_eligible = determination != Determination.ELIGIBLE
    assert (NOT_EVALUATED in chosen) == (ADVISE_RISKS in chosen) == not_eligible
    assert (EXCEPTIONAL in chosen) == (state == LotState.EXCEPTIONAL_RELEASE)
    warnings = [s.warning for s in chosen]
    assert warnings == sorted(warnings, reverse=True)  # every warning before any other statement
    assert all(s.en and s.zh for s in chosen)
