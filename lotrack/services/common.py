"""Small helpers the services share: pagination and record codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from lotrack.domain.errors import ValidationFailed

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
            f"{field}: 2 to 32 letters, digits, '.', '-' or '_', starting with a letter or digit.",
            {field: "2-32 letters, digits, '.', '-' or '_'"},
        )
    return value
