"""The one release rule (domain/release.py): each fact alone blocks with its own reason, any mix of
facts blocks with exactly those reasons, and the lookback rule says when a decision no longer
stands."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.evaluation import Blocker
from lotrack.domain.release import (
    VOID_RELEASE,
    BankFact,
    LotFacts,
    OpenDeviation,
    OpenInvestigation,
    RunFlag,
    lookback,
    release_blockers,
    release_evaluation,
    uncovered,
)
from lotrack.domain.states import LotState
from tests.domain.test_evaluation import SPEC, TODAY, complete

GOOD = LotFacts(
    lot_number="CFM-2025-0100",
    spec=SPEC,
    today=TODAY,
    results=tuple(complete()),
    banks=(BankFact("WCB", "WCB-1", "qualified"), BankFact("MCB", "MCB-1", "qualified")),
    donor_code="FD-1",
    donor_determination="eligible",
)
# Each fact that blocks release, as a change to GOOD, and the blocker it must give.
FACTS = {
    "own OOS": (
        {"investigations": (OpenInvestigation("OOS-1", "CFM-2025-0100", "VIAB", "I"),)},
        ("investigation", "OOS-1", "OOS-1 (VIAB) is open, phase I."),
    ),
    "sibling OOS": (
        {"investigations": (OpenInvestigation("OOS-2", "CFM-2025-0099", "MYCO", "II"),)},
        ("investigation", "OOS-2", "OOS-2 on sibling lot CFM-2025-0099 (MYCO) is open, phase II."),
    ),
    "deviation": (
        {"deviations": (OpenDeviation("DEV-1", "incubator alarm"),)},
        ("deviation", "DEV-1", "Deviation DEV-1 is open: incubator alarm"),
    ),
    "WCB": (
        {"banks": (BankFact("WCB", "WCB-1", "not_qualified"), GOOD.banks[1])},
        ("bank", "WCB-1", "WCB WCB-1 is not_qualified."),
    ),
    "MCB": (
        {"banks": (GOOD.banks[0], BankFact("MCB", "MCB-1", "pending"))},
        ("bank", "MCB-1", "MCB MCB-1 is pending."),
    ),
    "donor ineligible": (
        {"donor_determination": "ineligible"},
        ("donor", "FD-1", "Donor FD-1 is ineligible."),
    ),
    "donor incomplete": (
        {"donor_determination": "incomplete"},
        ("donor", "FD-1", "Donor FD-1 is incomplete."),
    ),
    "passage": (
        {"run_flags": (RunFlag("passage", "RUN-1 P11", "Run RUN-1: passage 11 exceeds 10."),)},
        ("passage", "RUN-1 P11", "Run RUN-1: passage 11 exceeds 10."),
    ),
    "in-process": (
        {"run_flags": (RunFlag("in-process", "RUN-1 P7", "Run RUN-1 passage 7: VIAB 60."),)},
        ("in-process", "RUN-1 P7", "Run RUN-1 passage 7: VIAB 60."),
    ),
    "no spec": ({"spec": None}, ("spec", "Lot CFM-2025-0100", "Lot CFM-2025-0100 has no spec")),
}


def with_facts(*names: str) -> LotFacts:
    changes: dict[str, object] = {}
    for name in names:
        for key, value in FACTS[name][0].items():
            # Two facts of one field (own and sibling OOS, WCB and MCB) accumulate.
            if key in changes and isinstance(value, tuple):
                if key == "banks":
                    value = tuple(
                        min(a, b, key=lambda x: x.qualification == "qualified")
                        for a, b in zip(changes[key], value, strict=True)  # type: ignore[arg-type]
                    )
                else:
                    value = changes[key] + value  # type: ignore[operator]
            changes[key] = value
    return dataclasses.replace(GOOD, **changes)  # type: ignore[arg-type]


def test_a_lot_with_every_fact_in_order_is_releasable():
    ev = release_evaluation(GOOD)
    assert ev.releasable and release_blockers(GOOD) == ()


def test_each_fact_alone_blocks_with_its_reason():
    for name, (_changes, (kind, subject, message)) in FACTS.items():
        blockers = release_blockers(with_facts(name))
        assert [(b.kind, b.subject) for b in blockers] == [(kind, subject)], name
        assert blockers[0].message.startswith(message), name


@given(st.sets(st.sampled_from(sorted(FACTS))))
def test_any_mix_of_facts_blocks_with_exactly_those_reasons(names):
    blockers = release_blockers(with_facts(*names))
    assert {(b.kind, b.subject) for b in blockers} == {FACTS[n][1][:2] for n in names}
    assert release_evaluation(with_facts(*names)).releasable == (not names)


def test_an_eligible_donor_and_qualified_banks_are_what_release_needs():
    """No fact is read as a safe one: a determination other than 'eligible' blocks."""
    for determination in ("", "unknown", "Eligible", None):
        facts = dataclasses.replace(GOOD, donor_determination=determination)
        assert [b.kind for b in release_blockers(facts)] == ["donor"]


B = Blocker
ACCEPTED = [("pending", "STERILITY"), ("failing", "VIAB"), ("investigation", "OOS-1")]


def test_an_exceptional_release_accepts_what_it_named_and_the_completion_of_incomplete_tests():
    later = [
        B("unverified", "STERILITY", "reading not verified"),  # the pending test completed
        B("missing", "STERILITY", "invalidated"),  # still incomplete: accepted as such
        B("failing", "VIAB", "as named"),
        B("investigation", "OOS-1", "as named"),
    ]
    assert uncovered(later, ACCEPTED) == ()


def test_an_exceptional_release_accepts_nothing_adverse_it_did_not_name():
    new = [
        B("failing", "STERILITY", "growth"),  # the pending test failed
        B("investigation", "OOS-2", "its OOS"),
        B("unverified", "VIAB", "a new VIAB result to verify"),  # was failing, not incomplete
        B("deviation", "DEV-1", "new deviation"),
        B("donor", "FD-1", "donor ineligible"),
    ]
    assert uncovered(new, ACCEPTED) == tuple(new)


def test_lookback_by_state():
    blockers = [B("deviation", "DEV-1", "Deviation DEV-1 is open.")]
    assert lookback(LotState.RELEASED, []) == ()
    assert lookback(LotState.RELEASED, blockers) == ("Deviation DEV-1 is open.",)
    assert lookback(LotState.RELEASED, [], release_signature_void=True) == (VOID_RELEASE,)
    exceptional = LotState.EXCEPTIONAL_RELEASE
    assert lookback(exceptional, [B("failing", "VIAB", "x")], accepted=ACCEPTED) == ()
    assert lookback(exceptional, blockers, accepted=ACCEPTED) == ("Deviation DEV-1 is open.",)
    # Not out of QA's hands: nothing to look back on (its blockers keep it from release).
    for state in (LotState.QUARANTINE, LotState.ON_HOLD, LotState.REJECTED, LotState.RECALLED):
        assert lookback(state, blockers, release_signature_void=True) == ()
