"""Small helpers the services share: pagination, record codes, and sentences said one after
another."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, Said, said

T = TypeVar("T")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,31}$")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def page_of(session: Session, stmt: Select[Any], page: int, per_page: int) -> Page[Any]:
    page, per_page = max(1, page), max(1, min(per_page, 500))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total)


def norm(code: str | None) -> str:
    """A code as looked up: codes are stored upper-case, so 'fd-0001' finds FD-0001."""
    return (code or "").strip().upper()


def check_code(code: str, field: str) -> str:
    """Record codes: 2-32 characters, capitals, digits, '.', '-' or '_' (stored upper-case)."""
    value = (code or "").strip().upper()
    if not CODE_RE.match(value):
        raise ValidationFailed(
            said(
                "%(field)s: 2 to 32 letters, digits, '.', '-' or '_', starting with a letter or"
                " digit.",
                field=field,
            ),
            {field: N_("2-32 letters, digits, '.', '-' or '_'")},
        )
    return value


# Sentences (domain/text.py) joined so that each is still said in the reader's language: in
# English exactly `" ".join(parts)` and `"; ".join(parts)`; Chinese joins them its own way.
def sentences(parts: Iterable[str]) -> str:
    """Whole sentences one after another ("A. B.")."""
    items = [part(p) for p in parts]
    if not items:
        return ""
    return reduce(lambda first, then: said("%(first)s %(then)s", first=first, then=then), items)


def in_turn(parts: Iterable[str]) -> str:
    """Reasons one after another, separated by semicolons ("a; b")."""
    items = [part(p) for p in parts]
    if not items:
        return ""
    return reduce(lambda first, then: said("%(first)s; %(then)s", first=first, then=then), items)


def part(text: str) -> Said:
    """A sentence as a part of another, so that the edge says it too: a fixed one (N_) is said
    again from the catalog, anything the catalog does not hold as it is."""
    return text if isinstance(text, Said) else Said(text)
