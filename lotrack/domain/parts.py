"""Long documents in parts of a bounded size: one request renders at most one part, so a lot
with thousands of units or events never makes one PDF of unbounded size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import said

T = TypeVar("T")


@dataclass(frozen=True)
class Part:
    number: int  # 1-based
    count: int  # parts in all
    start: int  # index of the part's first item
    stop: int  # index after its last

    def of(self, items: Sequence[T]) -> list[T]:
        return list(items[self.start : self.stop])


def part_count(total: int, size: int) -> int:
    """Parts of at most `size` items that hold `total` (one, even when there is nothing)."""
    return max(1, -(-total // size))


def choose_part(total: int, size: int, number: int | None) -> Part:
    """The part a request asks for; without one, the whole, if it fits in one part. Refused
    up front (naming the field `part` and the limit) before anything is rendered."""
    count = part_count(total, size)
    if number is None:
        if total > size:
            raise ValidationFailed(
                said(
                    "%(total)s items are more than one document holds (at most %(size)s):"
                    " ask for part 1 to %(count)s",
                    total=total,
                    size=size,
                    count=count,
                ),
                {"part": said("required: 1 to %(count)s", count=count)},
            )
        number = 1
    if not 1 <= number <= count:
        raise ValidationFailed(
            said("There is no part %(part)s: 1 to %(count)s.", part=number, count=count),
            {"part": said("1 to %(count)s", count=count)},
        )
    start = (number - 1) * size
    return Part(number, count, start, min(total, start + size))
