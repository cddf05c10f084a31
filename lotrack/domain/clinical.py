"""Clinical rules: the trial's eligibility checklist, dose arithmetic, CTCAE grading, attribution,
seriousness and the expedited-reporting clock."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from lotrack.domain import ctcae
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


def ctcae_terms() -> dict[str, dict[str, Any]]:
    """The CTCAE v4.03 terms lotrack offers (domain/ctcae.py: built-in or loaded), by term."""
    return ctcae.active().terms


check_grade = ctcae.check_grade  # a term allows only the grades CTCAE defines for it


def grade_problems(grade: int, seriousness: list[str], outcome: str) -> dict[str, Any]:
    """What contradicts a grade, by field: grade 5 is death, which is serious and fatal."""
    fields: dict[str, Any] = {}
    if grade == 5 and "death" not in seriousness:
        fields["seriousness"] = N_("a grade 5 event (death) is serious: include 'death'")
    if outcome == AdverseOutcome.FATAL and grade != 5:
        fields["grade"] = N_("a fatal outcome is grade 5")
    return fields
