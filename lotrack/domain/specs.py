"""Specification tests and the exact judgement of one result against one test.

Values are kept as the analyst typed them and judged as `Decimal` after rounding half up to the
decimals the test states (USP General Notices 7.20: round, then compare with the limit). A value
such as "<0.5" (below a detection limit) is the interval it stands for; it is judged when that
interval lies wholly inside or wholly outside the limits, and refused when it straddles one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, said


class Stage(StrEnum):
    RELEASE = "release"
    MCB = "MCB"
    WCB = "WCB"
    IN_PROCESS = "in-process"


class Kind(StrEnum):
    NUMERIC = "numeric"
    QUALITATIVE = "qualitative"
    PANEL = "panel"  # numeric limits met by any one of several alternative analytes


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    ALERT = "alert"  # inside the specification, outside the alert limits
    FAIL = "fail"  # out of specification
    PENDING = "pending"  # e.g. sterility incubating until its due date
    INVALID = "invalid"  # invalidated with a reason; kept, never judged again
    MISSING = "missing"  # evaluation only: no valid result for a test


PENDING_WORDS = frozenset({"pending", "incubating"})
MAX_VALUE_LENGTH = 60
MAX_MAGNITUDE = Decimal("1e15")


@dataclass(frozen=True)
class Bound:
    """One end of an interval: None is unbounded."""

    value: Decimal | None
    inclusive: bool = True


@dataclass(frozen=True)
class Interval:
    lower: Bound = Bound(None)
    upper: Bound = Bound(None)

    def describe(self, unit: str = "") -> str:
        u = f" {unit}" if unit and unit != "%" else unit
        lo, hi = self.lower, self.upper
        if lo.value is not None and hi.value is not None:
            left = "≥" if lo.inclusive else ">"
            right = "≤" if hi.inclusive else "<"
            return f"{left} {lo.value}{u} and {right} {hi.value}{u}"
        if lo.value is not None:
            return f"{'≥' if lo.inclusive else '>'} {lo.value}{u}"
        if hi.value is not None:
            return f"{'≤' if hi.inclusive else '<'} {hi.value}{u}"
        return "any value"


def _above_lower(v: Bound, lo: Bound) -> bool:
    """Every value just above the interval's lower end `v` lies above the limit `lo`."""
    if lo.value is None:
        return True
    if v.value is None:
        return False
    return v.value > lo.value or (v.value == lo.value and (lo.inclusive or not v.inclusive))


def _below_upper(v: Bound, hi: Bound) -> bool:
    if hi.value is None:
        return True
    if v.value is None:
        return False
    return v.value < hi.value or (v.value == hi.value and (hi.inclusive or not v.inclusive))


def contains(outer: Interval, inner: Interval) -> bool:
    return _above_lower(inner.lower, outer.lower) and _below_upper(inner.upper, outer.upper)


def disjoint(a: Interval, b: Interval) -> bool:
    def before(end: Bound, start: Bound) -> bool:  # `end` closes before `start` opens
        if end.value is None or start.value is None:
            return False
        return end.value < start.value or (
            end.value == start.value and not (end.inclusive and start.inclusive)
        )

    return before(a.upper, b.lower) or before(b.upper, a.lower)


@dataclass(frozen=True)
class SpecTest:
    code: str
    name: str
    method: str
    unit: str
    kind: Kind
    source: str
    required: bool = True
    decimals: int = 0
    limits: Interval = Interval()
    alert: Interval = Interval()
    accepted: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    incubation_days: int | None = None

    @property
    def analytes(self) -> tuple[str, ...]:
        """The codes a result may carry for this test: its alternatives, or its own code."""
        return self.alternatives or (self.code,)

    def criterion(self) -> str:
        if self.kind == Kind.QUALITATIVE:
            return " or ".join(self.accepted)
        text = self.limits.describe(self.unit)
        if self.alternatives:
            text = f"{' or '.join(self.alternatives)} {text}"
        return text


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    rounded: str | None = None  # the value as compared, after rounding
    due_on: dt.date | None = None  # when a pending result is due
    note: str = ""


_NUMBER = re.compile(
    r"^(?P<q><=|>=|<|>|≤|≥)?\s*(?P<n>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?)$"
)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def same_unit(a: str, b: str) -> bool:
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()


def parse_value(test: SpecTest, value: str) -> Interval:
    """The interval a numeric entry stands for, rounded to the test's decimals; refuses the rest."""
    text = (value or "").strip()
    m = _NUMBER.match(text)
    if not m:
        raise ValidationFailed(
            said(
                "%(test)s: '%(value)s' is not a number.",
                test=test.code,
                value=text[:MAX_VALUE_LENGTH],
            ),
            {"value": N_("a number such as 95.2, or <0.5 below a detection limit")},
        )
    try:
        number = Decimal(m.group("n"))
        if abs(number) >= MAX_MAGNITUDE:
            raise InvalidOperation
        quantum = Decimal(1).scaleb(-test.decimals)
        rounded = number.quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValidationFailed(
            said("%(test)s: %(value)s is out of range.", test=test.code, value=text),
            {"value": N_("out of range")},
        ) from None
    q = {"≤": "<=", "≥": ">="}.get(m.group("q") or "", m.group("q") or "")
    if q == "":
        point = Bound(rounded)
        return Interval(point, point)
    # A bound stated at the test's precision keeps its qualifier ("<0.50" is a rounded value below
    # 0.50). A finer bound stands for values that may round onto it: "<0.503" includes 0.502,
    # which rounds to 0.50, so it is "<=0.50" (unless it sits exactly where rounding goes up).
    exact = rounded == number
    half = quantum / 2
    if q.startswith("<"):
        inclusive = q == "<=" or not (exact or number == rounded - half)
        return Interval(Bound(None), Bound(rounded, inclusive))
    inclusive = q == ">=" or not (exact or number == rounded + half)
    return Interval(Bound(rounded, inclusive), Bound(None))


def _shown(iv: Interval) -> str:
    lo, hi = iv.lower, iv.upper
    if lo.value is not None and hi.value is not None and lo.value == hi.value:
        return str(lo.value)
    if hi.value is not None:
        return f"{'<=' if hi.inclusive else '<'}{hi.value}"
    return f"{'>=' if lo.inclusive else '>'}{lo.value}"


def check_entry(test: SpecTest, *, value: str, unit: str, analyte: str | None = None) -> str:
    """Refuse what cannot be judged (wrong unit, unknown analyte, over-long text); the analyte."""
    if len(value or "") > MAX_VALUE_LENGTH:
        raise ValidationFailed(
            said(
                "%(test)s: the value is longer than %(max)s characters.",
                test=test.code,
                max=MAX_VALUE_LENGTH,
            ),
            {"value": said("at most %(max)s characters", max=MAX_VALUE_LENGTH)},
        )
    if not (value or "").strip():
        raise ValidationFailed(
            said("%(test)s: a value is required.", test=test.code), {"value": N_("required")}
        )
    if not same_unit(unit or "", test.unit):
        if test.unit:
            raise ValidationFailed(
                said(
                    "%(test)s: the unit '%(unit)s' does not match the specification"
                    " ('%(wanted)s').",
                    test=test.code,
                    unit=unit,
                    wanted=test.unit,
                ),
                {"unit": said("the specification states '%(wanted)s'", wanted=test.unit)},
            )
        raise ValidationFailed(
            said(
                "%(test)s: the unit '%(unit)s' does not match the specification (no unit).",
                test=test.code,
                unit=unit,
            ),
            {"unit": N_("the specification states no unit")},
        )
    chosen = (analyte or "").strip() or (test.code if not test.alternatives else "")
    for known in test.analytes:
        if chosen.casefold() == known.casefold():
            return known
    choices = ", ".join(test.analytes)
    raise ValidationFailed(
        said("%(test)s: the analyte must be one of %(choices)s.", test=test.code, choices=choices),
        {"analyte": said("one of %(choices)s", choices=choices)},
    )


def judge(
    test: SpecTest,
    *,
    value: str,
    unit: str,
    analyte: str | None = None,
    performed_on: dt.date,
    recorded_on: dt.date,
) -> Judgement:
    """The verdict of one entry, or ValidationFailed naming the field when it cannot be judged."""
    check_entry(test, value=value, unit=unit, analyte=analyte)
    text = value.strip()
    if test.incubation_days is not None:
        due = performed_on + dt.timedelta(days=test.incubation_days)
        if _fold(text) in PENDING_WORDS:
            return Judgement(Verdict.PENDING, due_on=due, note=f"incubating until {due}")
        if recorded_on < due:
            raise ValidationFailed(
                said(
                    "%(test)s: incubation started %(started)s runs %(days)s days, until %(due)s;"
                    " record 'pending' now and the reading from %(due)s.",
                    test=test.code,
                    started=performed_on,
                    days=test.incubation_days,
                    due=due,
                ),
                {
                    "value": said(
                        "a final reading is accepted from %(due)s; enter 'pending' until then",
                        due=due,
                    )
                },
            )
    if test.kind == Kind.QUALITATIVE:
        folded = _fold(text)
        if folded in {_fold(a) for a in test.accepted}:
            return Judgement(Verdict.PASS, rounded=text)
        if folded in {_fold(r) for r in test.rejected}:
            return Judgement(Verdict.FAIL, rounded=text, note=f"expected {test.criterion()}")
        allowed = ", ".join(test.accepted + test.rejected)
        raise ValidationFailed(
            said(
                "%(test)s: '%(value)s' is not a recognised result; use one of %(choices)s.",
                test=test.code,
                value=text,
                choices=allowed,
            ),
            {"value": said("one of %(choices)s", choices=allowed)},
        )
    entered = parse_value(test, text)
    shown = _shown(entered)
    if contains(test.limits, entered):
        if contains(test.alert, entered):
            return Judgement(Verdict.PASS, rounded=shown)
        return Judgement(
            Verdict.ALERT, rounded=shown, note=f"outside the alert limits {test.alert.describe()}"
        )
    if disjoint(test.limits, entered):
        return Judgement(Verdict.FAIL, rounded=shown, note=f"expected {test.criterion()}")
    raise ValidationFailed(
        said(
            "%(test)s: %(value)s cannot be judged against %(criterion)s; report a number.",
            test=test.code,
            value=text,
            criterion=test.criterion(),
        ),
        {
            "value": said(
                "straddles the limit (%(criterion)s); report a number",
                criterion=test.criterion(),
            )
        },
    )


@dataclass(frozen=True)
class SpecContent:
    """One specification file, parsed: what a version holds."""

    product: str
    stage: Stage
    title: str
    tests: tuple[SpecTest, ...]
    limits: dict[str, str] = field(default_factory=dict)

    def test(self, code: str) -> SpecTest | None:
        """The test a result code belongs to: its own code or one of its alternatives."""
        folded = code.strip().casefold()
        for t in self.tests:
            if folded == t.code.casefold() or folded in {a.casefold() for a in t.alternatives}:
                return t
        return None
