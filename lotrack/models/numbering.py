"""Record numbers (OOS-2026-003, RCL-2026-001 ...) per kind and year."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lotrack.db import Base


class NumberSequence(Base):
    """Last number issued per record kind and year (OOS-2026-003, RCL-2026-001 ...); incremented by
    a guarded update so two people acting at once never get the same number."""

    __tablename__ = "number_sequence"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
