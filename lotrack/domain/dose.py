"""The dose, as clinics give it: whole containers, then a volume drawn from the last one.

`plan` is the ONE dose rule. Allocation, the bedside check (`bedside._dose`), the nurse's page and
print-out, and the infusion record all ask it; nothing else multiplies cells by millilitres.

Given the prescription's target cells and tolerance (±, a protocol setting), the containers
allocated to it (in allocation order) and what was already infused from them, it answers which
containers are given whole, how many mL to draw from the last one, the achieved cells and
cells/kg, what is discarded, and the endotoxin the patient receives; or the one reason why no
dose can be given from these containers. Exact `Decimal` arithmetic throughout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, said


class DoseBasis(StrEnum):
    """How a dose level is stated: cells per kg of body weight, or a fixed number of cells."""

    PER_KG = "per_kg"
    FIXED = "fixed"


DOSE_BASES = tuple(DoseBasis)

# What a nurse can draw and read on a syringe: 0.1 mL. Volumes are rounded to this step.
DRAW_STEP = Decimal("0.1")
# USP <85> Bacterial Endotoxins Test (and ChP 2020 Vol. IV <1143> alike): the endotoxin limit of a
# parenteral product is K/M, K = 5 EU/kg for any route but intrathecal (0.2 EU/kg), per hour when
# infused (shared/reference/msc_release_specs.md, "USP <85>" row; the ChP figure is not in the
# reference and is cited from the pharmacopoeia itself). A cfMSC infusion runs well under an hour,
# so the whole prescription's endotoxin is judged as if given within one hour: the strictest
# reading of "per hour".
ENDOTOXIN_K = Decimal("5")  # EU per kg (per hour), intravenous

# Why no dose can be given (codes the edges translate and the bedside rule shows).
NO_CONTAINERS = "no_containers"
UNDER_DOSE = "under_dose"  # every container in full stays below the low bound
OVER_DOSE = "over_dose"  # the containers given whole already pass the high bound
NOT_NEEDED = "container_not_needed"  # the last container would add nothing: allocate fewer
NO_DRAWABLE_VOLUME = "no_drawable_volume"  # no multiple of DRAW_STEP lands within tolerance
ENDOTOXIN_UNKNOWN = "endotoxin_unknown"  # a lot's endotoxin result is not on record
ENDOTOXIN_OVER = "endotoxin_over_limit"
BAD_PRESCRIPTION = "bad_prescription"  # no target, weight or tolerance to judge against
BAD_CONTAINER = "bad_container"  # a container recorded without cells or volume


@dataclass(frozen=True)
class Container:
    """One allocated bag or vial. Cells per mL at thaw: from the unit's record (cells ÷ volume
    filled); lotrack records no post-thaw count yet, and when it does, that count replaces this
    figure here, in one place (`cells_per_ml`)."""

    key: str  # the DIN
    cells: int
    volume_ml: Decimal
    eu_per_ml: Decimal | None  # the lot's endotoxin result (its bound for "<x"); None: none
    given_ml: Decimal | None = None  # infused already: the volume given (None: not yet infused)

    @property
    def cells_per_ml(self) -> Decimal:
        return Decimal(self.cells) / self.volume_ml


@dataclass(frozen=True)
class Draw:
    key: str
    volume_ml: Decimal  # to give (or given, for a container infused already)
    whole: bool  # the container is given whole: no drawing
    cells: Decimal  # volume × cells per mL
    discard_ml: Decimal  # what is left in the container and discarded
    given: bool = False  # infused already


@dataclass(frozen=True)
class DosePlan:
    target_cells: int
    low: Decimal  # the tolerance's bounds, in cells
    high: Decimal
    draws: tuple[Draw, ...] = ()
    problem: str = ""  # one of the codes above; "" when the plan may be given
    achieved_cells: Decimal = Decimal(0)
    achieved_per_kg: Decimal = Decimal(0)
    endotoxin_eu_per_kg: Decimal | None = None
    available_cells: Decimal = Decimal(0)  # given already plus every container not yet given

    @property
    def ok(self) -> bool:
        return not self.problem

    def draw_for(self, key: str) -> Draw | None:
        return next((d for d in self.draws if d.key == key), None)


def _volume_candidates(need_cells: Decimal, per_ml: Decimal) -> list[Decimal]:
    """Drawable volumes nearest the exact one: to the nearest step first, then the steps either
    side (one of which may keep the dose within tolerance when the nearest does not)."""
    exact = need_cells / per_ml
    seen: list[Decimal] = []
    for rounding in (ROUND_HALF_UP, ROUND_FLOOR, ROUND_CEILING):
        v = exact.quantize(DRAW_STEP, rounding=rounding)
        if v not in seen:
            seen.append(v)
    return seen


def _draw(c: Container, volume: Decimal, *, given: bool = False) -> Draw:
    volume = min(volume, c.volume_ml)
    cells = Decimal(c.cells) if volume == c.volume_ml else volume * c.cells_per_ml
    return Draw(c.key, volume, volume == c.volume_ml, cells, c.volume_ml - volume, given)


def plan(
    target_cells: int,
    tolerance: Decimal,
    weight_kg: Decimal,
    containers: tuple[Container, ...],
) -> DosePlan:
    """Whole containers, then a drawn volume from the last one not yet infused.

    The achieved dose must lie within target × (1 ± tolerance). Containers infused already count
    at the volume given. Of the rest, all but the last are given whole; the last is given whole
    when that stays within tolerance (no open-system draw is needed), otherwise a volume is drawn:
    the exact volume rounded to the nearest 0.1 mL (half up), or else the 0.1 mL step below or
    above it, whichever first keeps the achieved dose within tolerance; never 0 mL and never more
    than the container holds. No such volume: refused (NO_DRAWABLE_VOLUME), never rounded past
    the tolerance. The endotoxin (Σ volume × the lot's EU/mL ÷ weight) must not exceed K.
    """
    low = Decimal(target_cells) * (1 - tolerance)
    high = Decimal(target_cells) * (1 + tolerance)

    available = Decimal(0)

    def refused(code: str, draws: tuple[Draw, ...] = ()) -> DosePlan:
        return DosePlan(target_cells, low, high, draws, code, available_cells=available)

    if target_cells <= 0 or weight_kg <= 0 or not 0 <= tolerance < 1:
        return refused(BAD_PRESCRIPTION)
    if not containers:
        return refused(NO_CONTAINERS)
    if any(c.cells <= 0 or c.volume_ml <= 0 for c in containers):
        return refused(BAD_CONTAINER)
    done = tuple(_draw(c, c.given_ml, given=True) for c in containers if c.given_ml is not None)
    rest = [c for c in containers if c.given_ml is None]
    available = sum((d.cells for d in done), Decimal(0)) + sum(c.cells for c in rest)
    wholes = tuple(_draw(c, c.volume_ml) for c in rest[:-1])
    so_far = sum((d.cells for d in done + wholes), Decimal(0))
    if not rest:  # all infused: the plan is what was given, still judged against tolerance
        if so_far < low:
            return refused(UNDER_DOSE, done)
        if so_far > high:
            return refused(OVER_DOSE, done)
        return _finish(target_cells, low, high, weight_kg, containers, done)
    last = rest[-1]
    if so_far > high:
        return refused(OVER_DOSE, done + wholes)
    if so_far + last.cells < low:
        return refused(UNDER_DOSE, done + wholes)
    if so_far >= target_cells:
        return refused(NOT_NEEDED, done + wholes)
    if so_far + last.cells <= high:
        final = _draw(last, last.volume_ml)
    else:
        fits = [
            v
            for v in _volume_candidates(Decimal(target_cells) - so_far, last.cells_per_ml)
            if Decimal(0) < v <= last.volume_ml and low <= so_far + v * last.cells_per_ml <= high
        ]
        if not fits:  # the others within tolerance already: the last one is one too many
            code = NOT_NEEDED if so_far >= low else NO_DRAWABLE_VOLUME
            return refused(code, done + wholes)
        final = _draw(last, fits[0])
    return _finish(target_cells, low, high, weight_kg, containers, done + wholes + (final,))


def _finish(
    target_cells: int,
    low: Decimal,
    high: Decimal,
    weight_kg: Decimal,
    containers: tuple[Container, ...],
    draws: tuple[Draw, ...],
) -> DosePlan:
    achieved = sum((d.cells for d in draws), Decimal(0))
    eu = endotoxin_per_kg(containers, draws, weight_kg)
    problem = ""
    if eu is None:
        problem = ENDOTOXIN_UNKNOWN
    elif eu > ENDOTOXIN_K:
        problem = ENDOTOXIN_OVER
    return DosePlan(target_cells, low, high, draws, problem, achieved, achieved / weight_kg, eu)


def endotoxin_per_kg(
    containers: tuple[Container, ...], draws: tuple[Draw, ...], weight_kg: Decimal
) -> Decimal | None:
    """EU/kg the patient receives: Σ volume × the lot's EU/mL ÷ body weight (None: a lot's
    endotoxin is unknown, which is never read as none)."""
    by_key = {c.key: c for c in containers}
    total = Decimal(0)
    for d in draws:
        eu = by_key[d.key].eu_per_ml
        if eu is None:
            return None
        total += d.volume_ml * eu
    return total / weight_kg


_RESULT = re.compile(r"^\s*(?:<|≤|<=)?\s*(\d+(?:\.\d+)?)\s*$")


def eu_per_ml(value: str) -> Decimal | None:
    """An endotoxin result as entered ("0.12", "<0.25"): the figure, a "less than" read as its
    bound (the most the lot can hold); None when it is no such figure."""
    found = _RESULT.match(value or "")
    return Decimal(found.group(1)) if found else None


def check_tolerance(text: str) -> Decimal:
    """The dose tolerance setting: a fraction from 0 to 0.5 (e.g. "0.10" for ±10 %)."""
    try:
        value = Decimal(text.strip())
    except (ArithmeticError, ValueError, AttributeError):
        value = Decimal(-1)
    if not value.is_finite() or not Decimal(0) <= value <= Decimal("0.5"):
        raise ValidationFailed(
            said("LOTRACK_DOSE_TOLERANCE %(value)s: a fraction from 0 to 0.5.", value=text),
            {"LOTRACK_DOSE_TOLERANCE": N_("a fraction from 0 to 0.5, e.g. 0.10")},
        )
    return value


_REFUSALS = {
    NO_CONTAINERS: N_("No container is allocated for this dose."),
    UNDER_DOSE: N_(
        "The allocated containers hold %(total)s cells in all, below the prescribed"
        " %(prescribed)s (±%(tolerance)s)."
    ),
    OVER_DOSE: N_(
        "The containers given whole already come to %(total)s cells, above the prescribed"
        " %(prescribed)s (±%(tolerance)s)."
    ),
    NOT_NEEDED: N_(
        "The other containers already give the prescribed %(prescribed)s cells: the last"
        " container is not needed."
    ),
    NO_DRAWABLE_VOLUME: N_(
        "No volume drawable in 0.1 mL steps from the last container keeps the dose within"
        " ±%(tolerance)s of the prescribed %(prescribed)s cells."
    ),
    ENDOTOXIN_UNKNOWN: N_(
        "A lot's endotoxin result is not on record: the endotoxin the patient would receive"
        " cannot be judged."
    ),
    ENDOTOXIN_OVER: N_(
        "The patient would receive %(eu)s EU/kg of endotoxin, above the limit of %(limit)s EU/kg"
        " (USP <85>, intravenous)."
    ),
    BAD_PRESCRIPTION: N_("The prescription states no dose, weight or tolerance to judge by."),
    BAD_CONTAINER: N_("A container is recorded without cells or volume."),
}


def refusal(p: DosePlan, tolerance: Decimal) -> tuple[str, dict[str, str]]:
    """Why `p` may not be given, as a template and its parameters (the edges say it)."""
    shown = {
        "prescribed": f"{p.target_cells:,}",
        "tolerance": f"{tolerance:.0%}" if tolerance.is_finite() else str(tolerance),
        "limit": str(ENDOTOXIN_K),
    }
    if p.problem == UNDER_DOSE:
        shown["total"] = f"{int(p.available_cells):,}"
    elif p.problem == OVER_DOSE:
        shown["total"] = f"{int(sum((d.cells for d in p.draws), Decimal(0))):,}"
    elif p.problem == ENDOTOXIN_OVER and p.endotoxin_eu_per_kg is not None:
        # Shown to the hundredth, half up (the judgement above is exact).
        shown["eu"] = str(p.endotoxin_eu_per_kg.quantize(Decimal("0.01"), ROUND_HALF_UP))
    return _REFUSALS[p.problem], shown
