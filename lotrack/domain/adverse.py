"""An adverse event's life: its current state computed from its history (the first report and
every follow-up after it, none ever overwritten), and the expedited-reporting clock.

The clock (ICH E2A "Clinical Safety Data Management", III.A-B; China's NMPA/CDE 《药物临床试验期间
安全性数据快速报告标准和程序》 (2018) applies the same timelines; shared/reference does not cover
reporting timelines, so these are cited from the guidelines themselves):
- a serious event is notified by the site to the sponsor at once (ICH E6(R2) 4.11.1, China's GCP
  (2020) art. 26 "立即"); lotrack reads "at once" as within one calendar day of awareness;
- a suspected unexpected serious adverse reaction (SUSAR: serious, related, not expected by the
  investigator's brochure) is reported to the regulator within 7 calendar days of awareness when
  fatal or life-threatening, otherwise within 15;
- the clock starts on the day the site became aware of the facts that make the report due,
  which may be a follow-up (a grade 2 event that becomes life-threatening starts its clock then).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from lotrack.domain.clinical import RELATED, AdverseOutcome

SPONSOR_DAYS = 1
FAST_DAYS = 7  # fatal or life-threatening SUSAR
OTHER_DAYS = 15  # any other SUSAR
FAST_CRITERIA = frozenset({"death", "life_threatening"})
# An outcome after which the event is over: its resolution (or the death) is on record.
CLOSED = frozenset(
    {AdverseOutcome.RECOVERED, AdverseOutcome.RECOVERED_WITH_SEQUELAE, AdverseOutcome.FATAL}
)


class ReportKind(StrEnum):
    SPONSOR = "sponsor"  # the site's notification of a serious event to the sponsor
    REGULATORY = "regulatory"  # the expedited (SUSAR) report to the regulator


REPORT_KINDS = tuple(ReportKind)


@dataclass(frozen=True)
class Entry:
    """What one record of the history says; None: unchanged by it."""

    aware_on: dt.date
    grade: int | None = None
    outcome: str | None = None
    resolved_on: dt.date | None = None
    attribution: str | None = None
    seriousness: tuple[str, ...] | None = None
    treatment: str = ""


@dataclass(frozen=True)
class State:
    grade: int
    worst_grade: int
    outcome: str
    attribution: str
    seriousness: tuple[str, ...]
    resolved_on: dt.date | None = None
    aware_on: dt.date | None = None  # of the last entry applied

    @property
    def serious(self) -> bool:
        return bool(self.seriousness)

    @property
    def related(self) -> bool:
        return self.attribution in RELATED

    @property
    def closed(self) -> bool:
        return self.outcome in CLOSED


def first_state(first: Entry) -> State:
    """The state the first report records (every field of it is given)."""
    assert first.grade is not None and first.outcome and first.attribution is not None
    return State(
        grade=first.grade,
        worst_grade=first.grade,
        outcome=first.outcome,
        attribution=first.attribution,
        seriousness=tuple(sorted(first.seriousness or ())),
        resolved_on=first.resolved_on,
        aware_on=first.aware_on,
    )


def apply(state: State, entry: Entry) -> State:
    """The state after a follow-up: what it names changes, the rest stays."""
    grade = entry.grade if entry.grade is not None else state.grade
    return replace(
        state,
        grade=grade,
        worst_grade=max(state.worst_grade, grade),
        outcome=entry.outcome or state.outcome,
        attribution=entry.attribution or state.attribution,
        seriousness=(
            tuple(sorted(entry.seriousness)) if entry.seriousness is not None else state.seriousness
        ),
        resolved_on=entry.resolved_on or state.resolved_on,
        aware_on=entry.aware_on,
    )


def states(first: Entry, follow_ups: list[Entry]) -> list[State]:
    """The state after each record of the history, oldest first."""
    out = [first_state(first)]
    for entry in follow_ups:
        out.append(apply(out[-1], entry))
    return out


@dataclass(frozen=True)
class Clock:
    sponsor_due: dt.date | None = None  # serious: notify the sponsor by then
    regulatory_due: dt.date | None = None  # SUSAR: report to the regulator by then
    regulatory_days: int | None = None  # 7 or 15


def clock(history: list[State], *, expected: bool) -> Clock:
    """The reports an event's history makes due, and by when (see the module's note)."""
    sponsor: dt.date | None = None
    regulatory: dt.date | None = None
    days: int | None = None
    for state in history:
        aware = state.aware_on
        assert aware is not None
        if state.serious and sponsor is None:
            sponsor = aware + dt.timedelta(days=SPONSOR_DAYS)
        if state.serious and state.related and not expected:
            fast = bool(FAST_CRITERIA & set(state.seriousness))
            due = aware + dt.timedelta(days=FAST_DAYS if fast else OTHER_DAYS)
            # A SUSAR that becomes fatal or life-threatening later is due 7 days from then,
            # unless its first clock runs out sooner.
            if regulatory is None or due < regulatory:
                regulatory, days = due, FAST_DAYS if fast else OTHER_DAYS
    return Clock(sponsor, regulatory, days)


@dataclass(frozen=True)
class Overdue:
    kind: ReportKind
    due: dt.date
    days_late: int


def overdue(due: Clock, reported: dict[ReportKind, dt.date], today: dt.date) -> list[Overdue]:
    """Reports due before `today` (the site's date) and not recorded."""
    out = []
    for kind, when in (
        (ReportKind.SPONSOR, due.sponsor_due),
        (ReportKind.REGULATORY, due.regulatory_due),
    ):
        if when is not None and kind not in reported and when < today:
            out.append(Overdue(kind, when, (today - when).days))
    return out
