"""Trends: one numeric test's results across lots in time order, beside the limits in effect, so QA
sees drift before a lot fails.

Each lot contributes its latest valid result (not invalidated, not pending) for the test, as the
analyst entered it and as it was compared (`Result.rounded`, exact). A lot is judged by the version
it pinned; when that version's limits differ from the effective one's, the point says so.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.specs import Interval, Kind, SpecTest, Verdict
from lotrack.domain.text import said
from lotrack.models import Lot, Result, SpecVersion
from lotrack.services import specs

MAX_LIMIT = 1000
PLOTTED = (Kind.NUMERIC, Kind.PANEL)
# The comparison text judge() stores: a number, or a bound such as "<0.25" for a censored value.
_ROUNDED = re.compile(r"^(?P<q><=|>=|<|>)?(?P<n>.+)$")


@dataclass(frozen=True)
class LimitLine:
    """One horizontal line of the chart: a spec or alert limit of the effective version."""

    kind: str  # "spec" or "alert"
    side: str  # "lower" or "upper"
    value: Decimal
    inclusive: bool

    @property
    def label(self) -> str:
        sign = {
            ("lower", True): "≥",
            ("lower", False): ">",
            ("upper", True): "≤",
            ("upper", False): "<",
        }[(self.side, self.inclusive)]
        return f"{self.kind} {sign} {self.value}"


@dataclass(frozen=True)
class TrendPoint:
    result_id: int
    lot_number: str
    harvested_on: dt.date
    performed_on: dt.date
    analyte: str
    value: str  # as entered
    compared: Decimal  # as compared after rounding; for a censored value, its bound
    censored: str  # "" for a measured value, else the qualifier: "<", "<=", ">" or ">="
    verdict: str
    verified: bool
    spec_version: str  # the label of the version the lot pinned and was judged by
    limits_differ: bool  # judged by a version whose limits differ from the effective ones
    criterion: str  # the criterion it was judged against


@dataclass(frozen=True)
class Trend:
    product: str
    stage: str
    spec_version: str  # the effective version whose lines are drawn
    test: SpecTest
    lines: tuple[LimitLine, ...]
    points: tuple[TrendPoint, ...]
    truncated: bool  # more lots have results than `limit`: the oldest are left out
    notes: tuple[str, ...]


def lines_of(test: SpecTest) -> tuple[LimitLine, ...]:
    out = []
    for kind, interval in (("spec", test.limits), ("alert", test.alert)):
        for side, bound in (("lower", interval.lower), ("upper", interval.upper)):
            if bound.value is not None:
                out.append(LimitLine(kind, side, bound.value, bound.inclusive))
    return tuple(out)


def numeric_tests(
    session: Session, product: str = "cfMSC", stage: str = "release"
) -> list[SpecTest]:
    """The tests of the effective specification that can be charted (numeric and panel)."""
    version = specs.effective(session, product, stage)
    if version is None:
        return []
    return [t for t in specs.content_of(version).tests if t.kind in PLOTTED]


def _plotted_test(version: SpecVersion, test_code: str) -> SpecTest:
    test = specs.content_of(version).test(test_code or "")
    if test is None:
        raise NotFound(
            said(
                "No test %(test)s in %(spec)s; trends are drawn for its tests only.",
                test=test_code,
                spec=version.label,
            ),
            {
                "test": said(
                    "%(test)s is not a test of %(spec)s", test=test_code, spec=version.label
                )
            },
        )
    if test.kind not in PLOTTED:
        raise ValidationFailed(
            said(
                "%(test)s (%(name)s) is a qualitative test; trends are drawn for numeric tests"
                " only.",
                test=test.code,
                name=test.name,
            ),
            {
                "test": said(
                    "%(test)s is qualitative (%(criterion)s)",
                    test=test.code,
                    criterion=test.criterion(),
                )
            },
        )
    return test


def _compared(rounded: str | None) -> tuple[Decimal, str] | None:
    match = _ROUNDED.match(rounded or "")
    if match is None:
        return None
    try:
        return Decimal(match.group("n")), match.group("q") or ""
    except InvalidOperation:
        return None


def _same_limits(a: SpecTest | None, b: SpecTest) -> bool:
    return a is not None and (a.limits, a.alert) == (b.limits, b.alert)


def _criterion(test: SpecTest | None) -> str:
    if test is None:
        return said("not a test of that version")
    if test.alert != Interval():
        return said(
            "%(criterion)s (alert %(alert)s)",
            criterion=test.criterion(),
            alert=test.alert.describe(test.unit),
        )
    return test.criterion()


def trend(
    session: Session,
    test_code: str,
    product: str = "cfMSC",
    stage: str = "release",
    limit: int = 200,
) -> Trend:
    """The latest valid result per lot for one numeric test, oldest lot first (the newest
    `limit` lots), with the effective specification's limit and alert lines."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            said("The number of lots must be 1 to %(max)s.", max=MAX_LIMIT),
            {"limit": said("1 to %(max)s", max=MAX_LIMIT)},
        )
    version = specs.require_effective(session, product, stage)
    test = _plotted_test(version, test_code)

    # One query: rank each lot's valid results newest first, keep the first, newest lots first.
    ranked = (
        select(
            Result.id,
            Result.lot_id,
            Result.spec_version_id,
            Result.analyte,
            Result.value,
            Result.rounded,
            Result.verdict,
            Result.performed_on,
            Result.verified_at,
            func.row_number()
            .over(partition_by=Result.lot_id, order_by=Result.id.desc())
            .label("rank"),
        )
        .join(SpecVersion, Result.spec_version_id == SpecVersion.id)
        .where(
            Result.lot_id.is_not(None),
            Result.test_code == test.code,
            Result.invalidated_at.is_(None),
            Result.verdict != Verdict.PENDING.value,
            SpecVersion.product == product,
            SpecVersion.stage == stage,
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked, Lot.lot_number, Lot.harvested_on, SpecVersion.version)
        .join(Lot, Lot.id == ranked.c.lot_id)
        .join(SpecVersion, SpecVersion.id == ranked.c.spec_version_id)
        .where(ranked.c.rank == 1)
        .order_by(Lot.harvested_on.desc(), Lot.lot_number.desc())
        .limit(limit + 1)
    ).all()
    truncated = len(rows) > limit
    rows = list(reversed(rows[:limit]))

    # Older versions' limits, for the points they judged: one more query, only when needed.
    judged_by: dict[int, SpecTest | None] = {version.id: test}
    labels = {version.id: version.label}
    older = {r.spec_version_id for r in rows} - {version.id}
    if older:
        for v in session.scalars(select(SpecVersion).where(SpecVersion.id.in_(older))):
            judged_by[v.id] = specs.content_of(v).test(test.code)
            labels[v.id] = v.label

    points = []
    for r in rows:
        compared = _compared(r.rounded)
        if compared is None:  # not a number in the version that judged it: nothing to plot
            continue
        judged = judged_by[r.spec_version_id]
        points.append(
            TrendPoint(
                result_id=r.id,
                lot_number=r.lot_number,
                harvested_on=r.harvested_on,
                performed_on=r.performed_on,
                analyte=r.analyte,
                value=r.value,
                compared=compared[0],
                censored=compared[1],
                verdict=r.verdict,
                verified=r.verified_at is not None,
                spec_version=labels[r.spec_version_id],
                limits_differ=not _same_limits(judged, test),
                criterion=_criterion(judged),
            )
        )
    return Trend(
        product=product,
        stage=stage,
        spec_version=version.label,
        test=test,
        lines=lines_of(test),
        points=tuple(points),
        truncated=truncated,
        notes=_notes(version, test, points, truncated, limit),
    )


def _notes(
    version: SpecVersion, test: SpecTest, points: list[TrendPoint], truncated: bool, limit: int
) -> tuple[str, ...]:
    out = []
    differing: dict[str, list[str]] = {}
    criteria: dict[str, str] = {}
    for p in points:
        if p.limits_differ:
            differing.setdefault(p.spec_version, []).append(p.lot_number)
            criteria[p.spec_version] = p.criterion
    for label, lots in differing.items():
        said_of = {
            "lots": ", ".join(lots),
            "judged_by": label,
            "criterion": criteria[label],
            "drawn_from": version.label,
            "drawn": _criterion(test),
        }
        out.append(
            said(
                "%(lots)s was judged by %(judged_by)s (%(criterion)s), not by the lines drawn"
                " from %(drawn_from)s (%(drawn)s).",
                **said_of,
            )
            if len(lots) == 1
            else said(
                "%(lots)s were judged by %(judged_by)s (%(criterion)s), not by the lines drawn"
                " from %(drawn_from)s (%(drawn)s).",
                **said_of,
            )
        )
    if truncated:
        out.append(
            said("Only the most recently harvested lot is shown.")
            if limit == 1
            else said("Only the most recently harvested %(num)s lots are shown.", num=limit)
        )
    return tuple(out)
