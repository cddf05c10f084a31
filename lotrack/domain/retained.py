"""Retained samples: the reserve kept of each lot and cell bank, and what may be withdrawn of it.

- `retain_until`: a lot's samples are kept until RETENTION_MONTHS after the lot's expiry date
  (EU GMP Annex 19 §3.1 and China GMP (2010) art. 225: retention samples of a finished product
  are kept at least one year after its expiry date). A cell bank has no expiry: its samples are
  kept as long as the bank is (no date), so they are always within retention.
- `remaining`: what is left is the quantity laid down less every withdrawal, computed each time
  from the append-only records, never stored.
- `withdrawal_refusal`: a withdrawal is of more than zero, of whole containers when the unit
  counts them, never of more than remains, says what it serves (the result a retest re-examines,
  the investigation or deviation it serves, or a note for any other reason), and a withdrawal
  that empties a sample still within retention says why (a note).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from lotrack.domain.text import N_, Said, said

# The setting's default and its source (config.py RETENTION_MONTHS_AFTER_EXPIRY).
RETENTION_MONTHS = 12
RETENTION_SOURCE = N_(
    "EU GMP Annex 19 §3.1; China GMP (2010) article 225: kept at least one year after the"
    " lot's expiry date"
)


class SampleType(StrEnum):
    CELLS = "cells"  # the product itself, in its final formulation
    SUPERNATANT = "supernatant"  # culture supernatant (sterility, mycoplasma, endotoxin retests)
    PELLET = "pellet"  # a cell pellet (identity, karyotype, DNA)


class SampleContainer(StrEnum):
    CRYOVIAL = "cryovial"
    BAG = "bag"
    TUBE = "tube"


class QuantityUnit(StrEnum):
    VIAL = "vial"
    BAG = "bag"
    ML = "mL"


# Units that count containers: a withdrawal takes whole ones.
WHOLE_UNITS = frozenset({QuantityUnit.VIAL, QuantityUnit.BAG})


class WithdrawalReason(StrEnum):
    RETEST = "retest"
    INVESTIGATION = "investigation"
    OTHER = "other"


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved on by whole calendar months; the 31st lands on a shorter month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def retain_until(expires_on: dt.date | None, months: int = RETENTION_MONTHS) -> dt.date | None:
    """The last day a sample must be kept: `months` after the lot's expiry; None for a bank's."""
    return None if expires_on is None else add_months(expires_on, months)


def within_retention(until: dt.date | None, today: dt.date) -> bool:
    """Whether a sample kept until `until` must still be kept on `today` (the whole day counts)."""
    return until is None or today <= until


def amount(quantity: Decimal) -> str:
    """A quantity as people write it: 3, 1.5, 10 (never 3.000 or 1E+1)."""
    return format(quantity.normalize(), "f")


def remaining(laid_down: Decimal, withdrawn: Iterable[Decimal]) -> Decimal:
    """What is left of a sample: laid down less every withdrawal."""
    return laid_down - sum(withdrawn, Decimal(0))


@dataclass(frozen=True)
class SampleFact:
    number: str  # "RS-2026-001"
    unit: QuantityUnit
    remaining: Decimal
    retain_until: dt.date | None


@dataclass(frozen=True)
class WithdrawalAsked:
    quantity: Decimal
    reason: WithdrawalReason
    has_result: bool
    has_investigation: bool  # an investigation (OOS) or a deviation
    note: str


def withdrawal_refusal(
    sample: SampleFact, asked: WithdrawalAsked, today: dt.date
) -> dict[str, str]:
    """Why the withdrawal may not be recorded, by field (empty: it may)."""
    fields: dict[str, str] = {}
    q = asked.quantity
    if q <= 0:
        fields["quantity"] = N_("more than zero")
    elif sample.unit in WHOLE_UNITS and q != q.to_integral_value():
        fields["quantity"] = said("a whole number of %(unit)s", unit=Said(str(sample.unit)))
    elif q > sample.remaining:
        fields["quantity"] = said(
            "more than the %(remaining)s %(unit)s left of sample %(sample)s",
            remaining=amount(sample.remaining),
            unit=Said(str(sample.unit)),
            sample=sample.number,
        )
    if asked.reason == WithdrawalReason.RETEST and not asked.has_result:
        fields["result"] = N_("required for a retest: the result the retest re-examines")
    if asked.reason == WithdrawalReason.INVESTIGATION and not asked.has_investigation:
        fields["investigation"] = N_("required: the investigation or deviation it serves")
    note = asked.note.strip()
    if asked.reason == WithdrawalReason.OTHER and not note:
        fields["note"] = N_("required: say why the sample is withdrawn")
    elif (
        "quantity" not in fields
        and q == sample.remaining
        and within_retention(sample.retain_until, today)
        and not note
    ):
        fields["note"] = (
            said(
                "required: this takes the last of a sample to be kept until %(date)s",
                date=sample.retain_until,
            )
            if sample.retain_until
            else N_("required: this takes the last of a cell bank's retained sample")
        )
    return fields
