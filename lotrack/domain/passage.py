"""Population doublings and the passage/doubling limits of a product."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from lotrack.domain.text import said

PDL_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class PassageLimits:
    max_passage: int
    max_cumulative_pdl: Decimal
    source: str


def population_doublings(cells_seeded: int, cells_harvested: int) -> Decimal:
    """log2(harvested / seeded), rounded to 0.01 (half-even), as a Decimal."""
    if cells_seeded <= 0:
        raise ValueError("cells seeded must be greater than zero")
    if cells_harvested <= 0:
        raise ValueError("cells harvested must be greater than zero")
    value = math.log2(cells_harvested) - math.log2(cells_seeded)
    return Decimal(repr(value)).quantize(PDL_PLACES, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class PassageFigures:
    number: int
    doublings: Decimal
    cumulative_pdl: Decimal
    flags: tuple[str, ...]


def accumulate(
    bank_pdl: Decimal,
    passages: list[tuple[int, int, int]],
    limits: PassageLimits,
) -> list[PassageFigures]:
    """From the bank's level at banking, add each passage's doublings; flag what exceeds a limit.

    `passages` are (number, cells_seeded, cells_harvested) in passage order.
    """
    level = bank_pdl
    out: list[PassageFigures] = []
    for number, seeded, harvested in passages:
        pd = population_doublings(seeded, harvested)
        level = level + pd
        flags: list[str] = []
        if number > limits.max_passage:
            flags.append(
                said(
                    "passage %(number)s exceeds the limit of %(limit)s",
                    number=number,
                    limit=limits.max_passage,
                )
            )
        if level > limits.max_cumulative_pdl:
            flags.append(
                said(
                    "cumulative population doublings %(level)s exceed the limit of %(limit)s",
                    level=level,
                    limit=limits.max_cumulative_pdl,
                )
            )
        out.append(PassageFigures(number, pd, level, tuple(flags)))
    return out
