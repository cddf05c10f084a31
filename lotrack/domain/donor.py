"""Donor eligibility: which screening results allow a determination of 'eligible'.

Markers follow 21 CFR 1271.85 as applied to the cfMSC programme (HIV-1/2, HBV, HCV, syphilis,
HTLV-I/II for viable leukocyte-rich cells, CMV). A reactive CMV does not by itself make a donor
ineligible (1271.85(b)), but the test must have been done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lotrack.domain.text import said

MARKERS: tuple[str, ...] = ("HIV-1/2", "HBV", "HCV", "syphilis", "HTLV-I/II", "CMV")
RESULTS: tuple[str, ...] = ("non-reactive", "reactive", "indeterminate")
# Markers whose reactive result rules the donor out.
EXCLUDING_MARKERS = frozenset(MARKERS) - {"CMV"}


@dataclass(frozen=True)
class ScreeningResult:
    marker: str
    method: str
    result: str


def eligibility_problems(results: Iterable[ScreeningResult]) -> list[str]:
    """Every reason a donor cannot be determined eligible; empty when eligible is allowed."""
    by_marker: dict[str, list[ScreeningResult]] = {}
    for r in results:
        by_marker.setdefault(r.marker, []).append(r)
    problems: list[str] = []
    for marker in MARKERS:
        found = by_marker.get(marker, [])
        if not found:
            problems.append(said("%(marker)s: no screening result recorded", marker=marker))
            continue
        if marker in EXCLUDING_MARKERS and any(r.result == "reactive" for r in found):
            problems.append(said("%(marker)s: reactive", marker=marker))
        elif any(r.result == "indeterminate" for r in found):
            problems.append(said("%(marker)s: indeterminate result", marker=marker))
    return problems
