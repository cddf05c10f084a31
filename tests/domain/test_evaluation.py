"""`evaluate`: per test the latest valid result, for a panel the best alternative, and every blocker
named; informational tests never block."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from lotrack import PROJECT_ROOT
from lotrack.domain.evaluation import Blocker, ResultFact, evaluate
from lotrack.domain.spec_file import parse_spec
from lotrack.domain.specs import Verdict

TODAY = dt.date(2025, 10, 1)
SPEC = parse_spec(Path(PROJECT_ROOT, "specs/cfmsc-release.toml").read_text(), "release")
_ids = itertools.count(1)
P, A, F, PENDING = Verdict.PASS, Verdict.ALERT, Verdict.FAIL, Verdict.PENDING


def fact(analyte: str, verdict: Verdict = P, *, verified: bool = True, **kw) -> ResultFact:
    test = SPEC.test(analyte)
    assert test is not None
    return ResultFact(
        id=kw.pop("id", next(_ids)),
        test_code=test.code,
        analyte=analyte,
        value=kw.pop("value", "1"),
        unit=test.unit,
        verdict=verdict,
        verified=verified,
        invalidated=kw.pop("invalidated", False),
        due_on=kw.pop("due_on", None),
    )


def complete(**overrides: ResultFact | None) -> list[ResultFact]:
    """A passing, verified result for every analyte (CD14 and CD79a for the panels)."""
    analytes = [t.alternatives[0] if t.alternatives else t.code for t in SPEC.tests]
    out = [fact(a) for a in analytes if a not in overrides]
    return out + [f for f in overrides.values() if f is not None]


def kinds(ev) -> list[tuple[str, str]]:
    return [(b.kind, b.subject) for b in ev.blockers]


def test_every_required_test_passed_and_verified_is_releasable():
    ev = evaluate(SPEC, complete(), today=TODAY)
    assert ev.releasable and ev.blockers == () and ev.warnings == ()
    assert [o.test.code for o in ev.outcomes] == [t.code for t in SPEC.tests]
    assert {o.verdict for o in ev.outcomes} == {P}


def test_a_missing_required_test_blocks():
    ev = evaluate(SPEC, complete(MYCO=None), today=TODAY)
    assert kinds(ev) == [("missing", "MYCO")] and not ev.releasable
    assert ev.blockers[0].message == "Mycoplasma: no valid result recorded."


@pytest.mark.parametrize(
    "due, says",
    [(TODAY + dt.timedelta(days=3), "due on 2025-10-04"), (TODAY, "was due on 2025-10-01")],
)
def test_a_pending_result_blocks_with_its_due_date(due, says):
    pending = fact("STERILITY", PENDING, verified=False, due_on=due, value="pending")
    ev = evaluate(SPEC, complete(STERILITY=pending), today=TODAY)
    assert kinds(ev) == [("pending", "STERILITY")]  # not "unverified": nothing to verify yet
    assert says in ev.blockers[0].message


def test_a_failing_result_blocks_naming_value_and_criterion():
    ev = evaluate(SPEC, complete(VIAB=fact("VIAB", F, value="78.9")), today=TODAY)
    assert kinds(ev) == [("failing", "VIAB")]
    assert ev.blockers[0].message == "Viability: 78.9 % is out of specification (≥ 80.0%)."


def test_an_unverified_result_blocks_until_verified():
    ev = evaluate(SPEC, complete(CELLS=fact("CELLS", verified=False)), today=TODAY)
    assert kinds(ev) == [("unverified", "CELLS")]
    unverified_fail = fact("CELLS", F, verified=False)
    assert kinds(evaluate(SPEC, complete(CELLS=unverified_fail), today=TODAY)) == [
        ("failing", "CELLS"),
        ("unverified", "CELLS"),
    ]


def test_an_alert_result_warns_but_does_not_block():
    ev = evaluate(SPEC, complete(VIAB=fact("VIAB", A, value="82.0")), today=TODAY)
    assert ev.releasable and ev.warnings == (
        "Viability: 82.0 is within specification but at alert level.",
    )


@pytest.mark.parametrize("verdict", [F, A, PENDING, None])
def test_an_informational_test_never_blocks(verdict):
    bsa = None if verdict is None else fact("BSA", verdict, verified=False, value="Detected")
    ev = evaluate(SPEC, complete(BSA=bsa), today=TODAY)
    assert ev.releasable
    assert any("informational" in w for w in ev.warnings) == (verdict in (F, A))


def test_the_latest_valid_result_counts_and_invalidated_ones_are_ignored():
    old_fail = fact("POTENCY", F, id=1000, invalidated=True)
    replacement = fact("POTENCY", P, id=1001)
    ev = evaluate(SPEC, complete(POTENCY=replacement, x=old_fail), today=TODAY)
    assert ev.releasable
    outcome = next(o for o in ev.outcomes if o.test.code == "POTENCY")
    assert outcome.result == replacement
    only_invalid = evaluate(SPEC, complete(POTENCY=old_fail), today=TODAY)
    assert kinds(only_invalid) == [("missing", "POTENCY")]
    later_fail = fact("POTENCY", F, id=1002)
    assert kinds(evaluate(SPEC, complete(POTENCY=replacement, x=later_fail), today=TODAY)) == [
        ("failing", "POTENCY")
    ]


@pytest.mark.parametrize(
    "results, verdict",
    [
        ([("CD14", F), ("CD11b", P)], P),
        ([("CD14", P), ("CD11b", F)], P),
        ([("CD14", F), ("CD11b", A)], A),
        ([("CD11b", F)], F),
        ([("CD14", A)], A),
        ([("CD14", F), ("CD11b", F)], F),
    ],
)
def test_a_panel_takes_its_best_alternative(results, verdict):
    facts = [fact(a, v) for a, v in results]
    ev = evaluate(SPEC, complete(CD14=None) + facts, today=TODAY)
    outcome = next(o for o in ev.outcomes if o.test.code == "CD14-CD11B")
    assert outcome.verdict == verdict
    assert ("failing", "CD14-CD11B") in kinds(ev) if verdict == F else ev.releasable


def test_a_panel_with_no_alternative_measured_is_missing():
    ev = evaluate(SPEC, complete(CD79a=None), today=TODAY)
    assert kinds(ev) == [("missing", "CD79A-CD19")]


def test_a_panel_prefers_a_verified_alternative_among_equals():
    facts = [fact("CD14", verified=False), fact("CD11b", verified=True)]
    ev = evaluate(SPEC, complete(CD14=None) + facts, today=TODAY)
    assert ev.releasable


def test_blockers_and_warnings_from_outside_the_results_are_kept():
    donor = Blocker("donor", "FD-0001", "Donor FD-0001 is ineligible.")
    ev = evaluate(SPEC, complete(), today=TODAY, other_blockers=(donor,), warnings=("newer",))
    assert ev.blockers == (donor,) and ev.warnings == ("newer",) and not ev.releasable
