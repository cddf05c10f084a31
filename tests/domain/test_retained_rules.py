"""The retained-sample rules at their edges (hypothesis): what is left is what was laid down less
every withdrawal; a withdrawal of more than is left, of nothing, or of part of a vial is refused
naming the quantity; taking the last of a sample still to be kept needs a note; a lot's samples
are kept until the retention period after its expiry date, month ends included."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.retained import (
    QuantityUnit,
    SampleFact,
    WithdrawalAsked,
    WithdrawalReason,
    add_months,
    amount,
    remaining,
    retain_until,
    withdrawal_refusal,
    within_retention,
)

TODAY = dt.date(2026, 12, 4)
AMOUNTS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("500"), places=3)
WHOLE = st.integers(min_value=1, max_value=50).map(Decimal)


def fact(left: Decimal, until: dt.date | None = TODAY, unit=QuantityUnit.ML) -> SampleFact:
    return SampleFact("RS-2026-001", unit, left, until)


def asked(quantity: Decimal, note: str = "", reason=WithdrawalReason.RETEST) -> WithdrawalAsked:
    return WithdrawalAsked(quantity, reason, has_result=True, has_investigation=False, note=note)


@given(laid=AMOUNTS, taken=st.lists(AMOUNTS, max_size=6))
def test_what_is_left_is_laid_down_less_every_withdrawal(laid, taken):
    assert remaining(laid, taken) == laid - sum(taken, Decimal(0))
    assert remaining(laid, []) == laid


@given(laid=AMOUNTS, steps=st.lists(AMOUNTS, max_size=8))
def test_withdrawals_the_rule_allows_never_take_more_than_was_laid_down(laid, steps):
    """Whatever is asked, in whatever order, what the rule lets through never exceeds the sample."""
    taken: list[Decimal] = []
    for q in steps:
        left = remaining(laid, taken)
        refused = withdrawal_refusal(fact(left, until=None), asked(q, note="why"), TODAY)
        assert ("quantity" in refused) == (q > left)
        if not refused:
            taken.append(q)
    assert remaining(laid, taken) >= 0


@given(left=AMOUNTS, extra=AMOUNTS)
def test_more_than_is_left_is_refused_naming_the_quantity_and_what_is_left(left, extra):
    refused = withdrawal_refusal(fact(left), asked(left + extra, note="n"), TODAY)
    assert set(refused) == {"quantity"}
    assert f"{amount(left)} mL left" in refused["quantity"]


@given(left=WHOLE, part=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=2))
def test_vials_are_taken_whole(left, part):
    refused = withdrawal_refusal(fact(left, unit=QuantityUnit.VIAL), asked(part), TODAY)
    assert "whole number" in refused["quantity"]


@given(
    left=AMOUNTS,
    until=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2028, 12, 31)),
)
def test_taking_the_last_of_a_sample_still_to_be_kept_needs_a_note(left, until):
    refused = withdrawal_refusal(fact(left, until), asked(left), TODAY)
    assert ("note" in refused) == (until >= TODAY)
    assert not withdrawal_refusal(fact(left, until), asked(left, note="last vial, OOS"), TODAY)


def test_a_banks_sample_is_always_within_retention():
    assert within_retention(None, dt.date(2099, 1, 1))
    assert "note" in withdrawal_refusal(fact(Decimal(2), until=None), asked(Decimal(2)), TODAY)


def test_a_withdrawal_says_what_it_serves():
    none = WithdrawalAsked(Decimal(1), WithdrawalReason.RETEST, False, False, "")
    assert "result" in withdrawal_refusal(fact(Decimal(5)), none, TODAY)
    inv = WithdrawalAsked(Decimal(1), WithdrawalReason.INVESTIGATION, False, False, "")
    assert "investigation" in withdrawal_refusal(fact(Decimal(5)), inv, TODAY)
    other = WithdrawalAsked(Decimal(1), WithdrawalReason.OTHER, False, False, " ")
    assert "note" in withdrawal_refusal(fact(Decimal(5)), other, TODAY)
    assert "quantity" in withdrawal_refusal(fact(Decimal(5)), asked(Decimal(0)), TODAY)


@given(day=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31)))
def test_a_lots_samples_are_kept_a_year_after_its_expiry_month_ends_included(day):
    until = retain_until(day)
    assert until is not None and until.month == day.month and until.year == day.year + 1
    assert until.day == day.day or (day.month, day.day, until.day) == (2, 29, 28)
    assert retain_until(None) is None


def test_months_move_to_the_last_day_of_a_shorter_month():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2027, 12, 15), 18) == dt.date(2029, 6, 15)
