"""Clinical rules: the trial's eligibility checklist, dose arithmetic, CTCAE grading, attribution,
seriousness and the expedited-reporting clock."""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, Said, said

# shared/reference/trial.md (NCT03123458): inclusion and exclusion criteria, as checklist items.
INCLUSION = (
    ("consent", N_("Informed consent given")),
    ("no_alternative", N_("No available alternative treatment can reduce the symptoms")),
    (
        "documented_disorder",
        N_("Clinically documented immune-related disorder (incl. acute or chronic GVHD)"),
    ),
)
EXCLUSION = (
    (
        "genetic_or_infectious",
        N_("Symptoms associated with genetic defects or infectious diseases"),
    ),
    ("cannot_consent", N_("Unable to give informed consent")),
    ("infection_or_cancer", N_("Ongoing infection or history of cancer")),
    ("life_expectancy", N_("Poor clinical condition with life expectancy under 14 days")),
    ("pregnancy", N_("Pregnancy")),
)
INDICATIONS = ("acute_gvhd", "chronic_gvhd", "other_immune")


def eligibility_problems(answers: dict[str, Any]) -> list[str]:
    """Every reason a patient is not eligible; an unanswered item is a reason too."""
    problems = []
    for key, text in INCLUSION:
        if answers.get(key) is not True:
            problems.append(said("inclusion not met: %(item)s", item=Said(text)))
    for key, text in EXCLUSION:
        if answers.get(key) is not False:
            problems.append(
                said("exclusion applies: %(item)s", item=Said(text))
                if answers.get(key)
                else said("exclusion not assessed: %(item)s", item=Said(text))
            )
    return problems


# Far above any MSC dose (10^6-10^7 cells/kg): a larger figure is a typing error, and would
# overflow the 64-bit cell count once multiplied by the weight.
MAX_DOSE_PER_KG = 10**10


def cells_needed(dose_per_kg: int, weight_kg: Decimal) -> int:
    """Cells for one infusion: dose (cells/kg) × weight, to the whole cell, half up."""
    if dose_per_kg <= 0:
        raise ValidationFailed(
            N_("The dose must be above zero."), {"dose_per_kg": N_("above zero")}
        )
    if dose_per_kg > MAX_DOSE_PER_KG:
        most = f"{MAX_DOSE_PER_KG:.0e}"
        raise ValidationFailed(
            said("A dose above %(max)s cells/kg is not plausible.", max=most),
            {"dose_per_kg": said("at most %(max)s cells/kg", max=most)},
        )
    if weight_kg <= 0:
        raise ValidationFailed(
            N_("The weight must be above zero."), {"weight_kg": N_("above zero")}
        )
    return int((Decimal(dose_per_kg) * weight_kg).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class AgeBand(StrEnum):
    """Age at enrolment, by ICH E11's paediatric bands and adults: no date of birth is kept."""

    NEWBORN = "0-27d"
    INFANT = "28d-23m"
    CHILD = "2-11y"
    ADOLESCENT = "12-17y"
    ADULT = "18-64y"
    OLDER = "65+y"


AGE_BANDS = tuple(AgeBand)


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


SEXES = tuple(Sex)


# ---- adverse events ------------------------------------------------------------------------


class Attribution(StrEnum):
    UNRELATED = "unrelated"
    UNLIKELY = "unlikely"
    POSSIBLE = "possible"
    PROBABLE = "probable"
    DEFINITE = "definite"


ATTRIBUTIONS = tuple(Attribution)
# Common protocol practice (the reference marks it unverified): possible or stronger is "related".
RELATED = frozenset({Attribution.POSSIBLE, Attribution.PROBABLE, Attribution.DEFINITE})
# ICH E2A / 21 CFR 312.32(a): criteria that make an adverse event serious.
SERIOUSNESS = (
    "death",
    "life_threatening",
    "hospitalization",
    "disability",
    "congenital_anomaly",
    "medically_important",
)


class AdverseOutcome(StrEnum):
    RECOVERED = "recovered"
    RECOVERING = "recovering"
    NOT_RECOVERED = "not_recovered"
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae"
    FATAL = "fatal"
    UNKNOWN = "unknown"


OUTCOMES = tuple(AdverseOutcome)


class Response(StrEnum):
    """The one-month visit's response (the trial's secondary outcome)."""

    IMPROVED = "improved"
    STABLE = "stable"
    WORSE = "worse"


RESPONSES = tuple(Response)
# The trial's secondary outcome: "participants with reduced symptoms or stabilized conditions one
# month after infusion" (shared/reference/trial.md) — improved and stable, summed.
REDUCED_OR_STABILISED = frozenset({Response.IMPROVED, Response.STABLE})


def visit_problem(
    visit_on: dt.date, first_infusion: dt.date, today: dt.date, *, day: int, window: int
) -> dict[str, str]:
    """Why the one-month visit may not be dated `visit_on` ({}: it may). All dates are the site's
    calendar days. The visit is never in the future, and lies inside the protocol window: day
    `day` after the first infusion, ± `window` days (LOTRACK_VISIT_DAY, LOTRACK_VISIT_WINDOW_DAYS).
    """
    if visit_on > today:
        return {"visit_on": N_("not in the future")}
    earliest = first_infusion + dt.timedelta(days=day - window)
    latest = first_infusion + dt.timedelta(days=day + window)
    if not earliest <= visit_on <= latest:
        return {
            "visit_on": said(
                "from %(earliest)s to %(latest)s (day %(day)s ± %(window)s after the first"
                " infusion)",
                earliest=earliest.isoformat(),
                latest=latest.isoformat(),
                day=day,
                window=window,
            )
        }
    return {}


@lru_cache(maxsize=1)
def ctcae_terms() -> dict[str, dict[str, Any]]:
    """The CTCAE v4.03 terms lotrack offers (shared/reference/ctcae_v403_terms.json), by term."""
    data = json.loads((Path(__file__).with_name("ctcae_v403_terms.json")).read_text("utf-8"))
    return {t["term"]: t for t in data["terms"]}


def check_grade(term: str, grade: int) -> dict[str, Any]:
    """The term's entry if `grade` is one CTCAE defines for it; refuses otherwise."""
    entry = ctcae_terms().get(term)
    if entry is None:
        raise ValidationFailed(
            said("'%(term)s' is not a CTCAE v4.03 term offered here.", term=term),
            {"term": N_("unknown term")},
        )
    if str(grade) not in entry["grades"]:
        allowed = ", ".join(sorted(entry["grades"]))
        raise ValidationFailed(
            said("CTCAE v4.03 defines grades %(grades)s for %(term)s.", grades=allowed, term=term),
            {"grade": said("one of %(choices)s", choices=allowed)},
        )
    return entry


def report_due(
    onset: dt.date, *, serious: bool, related: bool, criteria: list[str]
) -> dt.date | None:
    """Expedited report due date for a serious, related event (21 CFR 312.32(c)): 7 calendar days
    when fatal or life-threatening, else 15; None when no expedited report is due."""
    if not (serious and related):
        return None
    fast = "death" in criteria or "life_threatening" in criteria
    return onset + dt.timedelta(days=7 if fast else 15)
