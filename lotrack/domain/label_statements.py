"""Which statements a unit label carries, chosen from the lot's facts and the site's jurisdiction:
one pure rule, so no statement is ever typed by hand at a print.

Sources (shared/reference/isbt128.md, "Label statements seen on investigational cell products"):
the US investigational-use caution is 21 CFR 312.6; the two warnings for a product released
before donor eligibility is complete are those the reference lists. China's GCP (NMPA/NHC
announcement 2020 No. 57, art. 44) asks that an investigational product's label state that it is
"仅用于临床试验" (for clinical trial use only). The other Chinese texts are this project's
translations of the English ones, for QA to confirm before first use (README).
"""

from __future__ import annotations

from dataclasses import dataclass

from lotrack.domain.states import Determination, LotState

JURISDICTIONS = ("CN", "US")


@dataclass(frozen=True)
class Statement:
    """One label statement in both languages, and whether it is a warning (printed first, bold)."""

    code: str
    en: str
    zh: str
    warning: bool = False


INVESTIGATIONAL = {
    # China's GCP art. 44: "应当标明仅用于临床试验".
    "CN": Statement("clinical_trial_only", "For clinical trial use only", "仅用于临床试验"),
    # 21 CFR 312.6(a), as the reference quotes it.
    "US": Statement(
        "us_investigational",
        "Caution: New Drug—Limited by Federal (or United States) law to investigational use.",
        "注意：新药——依美国联邦法律仅限研究用途。",
    ),
}
# The reference: "Released before donor eligibility is complete".
NOT_EVALUATED = Statement(
    "not_evaluated", "NOT EVALUATED FOR INFECTIOUS SUBSTANCES", "未经传染性物质评价", warning=True
)
ADVISE_RISKS = Statement(
    "advise_risks",
    "WARNING: Advise patient of communicable disease risks",
    "警告：须告知患者传染病风险",
    warning=True,
)
EXCEPTIONAL = Statement(
    "exceptional_release",
    "EXCEPTIONAL RELEASE: does not meet every release criterion; for the named patient only",
    "例外放行：未满足全部放行标准；仅限指定患者",
    warning=True,
)


@dataclass(frozen=True)
class LabelFacts:
    """What the statements depend on: the site's jurisdiction and the lot's facts at print."""

    jurisdiction: str
    lot_state: str
    donor_determination: str | None  # None: no donor on record, which is not "eligible" either


def label_statements(f: LabelFacts) -> tuple[Statement, ...]:
    """The label's statements, warnings first; unknown jurisdictions are refused at start-up."""
    chosen: list[Statement] = []
    if f.donor_determination != Determination.ELIGIBLE:
        chosen += [NOT_EVALUATED, ADVISE_RISKS]
    if f.lot_state == LotState.EXCEPTIONAL_RELEASE:
        chosen.append(EXCEPTIONAL)
    chosen.append(INVESTIGATIONAL[f.jurisdiction])
    return tuple(chosen)
