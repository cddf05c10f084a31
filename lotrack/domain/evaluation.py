"""Whether a subject (a lot, a bank) meets its specification, and every reason it does not yet.

Per test the latest valid result counts; for a panel, the best of its alternatives' latest results.
Informational tests are shown but never block. Facts from outside the results (donor eligibility,
bank qualification, passage limits, open investigations, deviations) arrive as ready-made blockers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lotrack.domain.specs import SpecContent, SpecTest, Verdict
from lotrack.domain.text import Said, said

# Best first: the order in which a panel's alternatives satisfy it.
_RANK = {Verdict.PASS: 0, Verdict.ALERT: 1, Verdict.PENDING: 2, Verdict.FAIL: 3}


@dataclass(frozen=True)
class ResultFact:
    id: int
    test_code: str
    analyte: str
    value: str
    unit: str
    verdict: Verdict
    verified: bool
    invalidated: bool
    due_on: dt.date | None = None


@dataclass(frozen=True)
class Blocker:
    kind: str  # missing, pending, failing, unverified, investigation, passage, donor, bank, ...
    subject: str  # the test code or record the blocker concerns
    message: str


@dataclass(frozen=True)
class TestOutcome:
    test: SpecTest
    verdict: Verdict
    result: ResultFact | None
    verified: bool


@dataclass(frozen=True)
class Evaluation:
    outcomes: tuple[TestOutcome, ...]
    blockers: tuple[Blocker, ...]
    warnings: tuple[str, ...]

    @property
    def releasable(self) -> bool:
        return not self.blockers


def _latest(results: list[ResultFact], analyte: str) -> ResultFact | None:
    valid = [r for r in results if r.analyte == analyte and not r.invalidated]
    return max(valid, key=lambda r: r.id) if valid else None


def outcome(test: SpecTest, results: list[ResultFact]) -> TestOutcome:
    latest = [r for a in test.analytes if (r := _latest(results, a)) is not None]
    if not latest:
        return TestOutcome(test, Verdict.MISSING, None, False)
    best = min(latest, key=lambda r: (_RANK.get(r.verdict, 9), not r.verified, -r.id))
    return TestOutcome(test, best.verdict, best, best.verified)


def _single_spaced(text: str) -> str:
    """A part of a failure's sentence with its double spaces made single (as the sentence was
    before it was said in parts)."""
    return text.replace("  ", " ")


def evaluate(
    spec: SpecContent,
    results: list[ResultFact],
    *,
    today: dt.date,
    other_blockers: tuple[Blocker, ...] = (),
    warnings: tuple[str, ...] = (),
) -> Evaluation:
    by_test: dict[str, list[ResultFact]] = {}
    for r in results:
        by_test.setdefault(r.test_code, []).append(r)
    outcomes = tuple(outcome(t, by_test.get(t.code, [])) for t in spec.tests)
    blockers: list[Blocker] = []
    notes = list(warnings)
    for o in outcomes:
        t = o.test
        if not t.required:
            if o.verdict in (Verdict.FAIL, Verdict.ALERT):
                notes.append(
                    said(
                        "%(test)s (informational) is %(verdict)s.",
                        test=t.name,
                        verdict=Said(str(o.verdict)),  # a coded word, translated
                    )
                )
            continue
        if o.verdict == Verdict.MISSING:
            blockers.append(
                Blocker("missing", t.code, said("%(test)s: no valid result recorded.", test=t.name))
            )
            continue
        assert o.result is not None
        if o.verdict == Verdict.PENDING:
            due = o.result.due_on
            late = due is not None and due <= today
            blockers.append(
                Blocker(
                    "pending",
                    t.code,
                    said("%(test)s: pending, the reading was due on %(due)s.", test=t.name, due=due)
                    if late
                    else said("%(test)s: pending, due on %(due)s.", test=t.name, due=due),
                )
            )
        elif o.verdict == Verdict.FAIL:
            blockers.append(
                Blocker(
                    "failing",
                    t.code,
                    said(
                        "%(test)s: %(value)s is out of specification (%(criterion)s).",
                        test=_single_spaced(t.name),
                        value=_single_spaced(
                            " ".join(x for x in (o.result.value, o.result.unit) if x)
                        ),
                        criterion=_single_spaced(t.criterion()),
                    ),
                )
            )
        elif o.verdict == Verdict.ALERT:
            notes.append(
                said(
                    "%(test)s: %(value)s is within specification but at alert level.",
                    test=t.name,
                    value=o.result.value,
                )
            )
        if not o.verified and o.verdict != Verdict.PENDING:
            blockers.append(
                Blocker(
                    "unverified",
                    t.code,
                    said("%(test)s: the result is not verified yet.", test=t.name),
                )
            )
    blockers.extend(other_blockers)
    return Evaluation(outcomes, tuple(blockers), tuple(notes))
