"""Retained samples: laid down for a lot or a cell bank with their place and quantity, and
withdrawn for a retest or an investigation, each withdrawal linked to the record it serves.

Both are append-only records; what is left of a sample is computed from them each time
(domain/retained.py). A withdrawal locks the sample's lot or bank row first, so two people
withdrawing at once cannot together take more than is left."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.db import utcnow
from lotrack.domain import retained as rules
from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.retained import (
    QuantityUnit,
    SampleContainer,
    SampleType,
    WithdrawalAsked,
    WithdrawalReason,
)
from lotrack.domain.text import N_, Said, said
from lotrack.models import (
    CellBank,
    Deviation,
    Investigation,
    Lot,
    Result,
    RetainedSample,
    RetainedSampleWithdrawal,
    User,
)
from lotrack.services import audit, clock
from lotrack.services.common import Page, norm, page_of
from lotrack.services.numbering import issue

LOCATION = ("freezer", "rack", "box", "position")
LOCATION_LENGTH = {"freezer": 40, "rack": 20, "box": 20, "position": 20}


def left(sample: RetainedSample) -> Decimal:
    """What is left of the sample now."""
    return rules.remaining(sample.quantity, (w.quantity for w in sample.withdrawals))


def _one_of(value: str, enum: Any, field: str, fields: dict[str, str]) -> None:
    if value not in {m.value for m in enum}:
        fields[field] = said("one of %(values)s", values=", ".join(m.value for m in enum))


def lay_down(
    session: Session,
    actor: User,
    *,
    lot: Lot | None = None,
    bank: CellBank | None = None,
    sample_type: str,
    container: str,
    quantity: Decimal,
    unit: str,
    freezer: str,
    rack: str,
    box: str,
    position: str,
    laid_down_on: dt.date,
    note: str = "",
    retention_months: int = rules.RETENTION_MONTHS,
) -> RetainedSample:
    """Record reserve samples of one lot or one bank; a lot's are kept until `retention_months`
    after its expiry date (the date is fixed now, with the setting in force)."""
    require(actor.role, "retained.write")
    fields: dict[str, str] = {}
    if (lot is None) == (bank is None):
        fields["subject"] = N_("a lot or a cell bank, not both")
    _one_of(sample_type, SampleType, "sample_type", fields)
    _one_of(container, SampleContainer, "container", fields)
    _one_of(unit, QuantityUnit, "unit", fields)
    if quantity <= 0:
        fields["quantity"] = N_("more than zero")
    elif unit in rules.WHOLE_UNITS and quantity != quantity.to_integral_value():
        fields["quantity"] = said("a whole number of %(unit)s", unit=Said(unit))
    given = (freezer, rack, box, position)
    place = {name: (value or "").strip() for name, value in zip(LOCATION, given, strict=True)}
    for name, value in place.items():
        if not value or len(value) > LOCATION_LENGTH[name]:
            fields[name] = said("1 to %(max)s characters", max=LOCATION_LENGTH[name])
    made_on = lot.harvested_on if lot is not None else bank.banked_on if bank is not None else None
    if laid_down_on > clock.today(session):
        fields["laid_down_on"] = N_("in the future")
    elif made_on is not None and laid_down_on < made_on:
        fields["laid_down_on"] = said("before the material was made, on %(date)s", date=made_on)
    if fields:
        raise ValidationFailed(N_("The retained sample cannot be recorded."), fields)
    sample = RetainedSample(
        number=issue(session, "RS", utcnow().year, RetainedSample.number, 3),
        lot_id=lot.id if lot is not None else None,
        bank_id=bank.id if bank is not None else None,
        sample_type=SampleType(sample_type),
        container=SampleContainer(container),
        quantity=quantity,
        unit=QuantityUnit(unit),
        laid_down_on=laid_down_on,
        retain_until=rules.retain_until(lot.expires_on, retention_months) if lot else None,
        note=(note or "").strip(),
        laid_down_by_id=actor.id,
        **place,
    )
    audit.created(session, actor, sample)
    session.flush()
    return sample


def _loaded() -> list[Any]:
    return [
        joinedload(RetainedSample.lot),
        joinedload(RetainedSample.bank),
        joinedload(RetainedSample.laid_down_by),
        selectinload(RetainedSample.withdrawals).options(
            joinedload(RetainedSampleWithdrawal.withdrawn_by),
            joinedload(RetainedSampleWithdrawal.result),
            joinedload(RetainedSampleWithdrawal.investigation),
            joinedload(RetainedSampleWithdrawal.deviation),
        ),
    ]


def get_sample(session: Session, number: str) -> RetainedSample:
    found = session.scalar(
        select(RetainedSample).where(RetainedSample.number == norm(number)).options(*_loaded())
    )
    if found is None:
        raise NotFound(
            said("No retained sample %(number)s.", number=number),
            {"sample": N_("no such retained sample")},
        )
    return found


def list_samples(
    session: Session,
    page: int = 1,
    per_page: int = 50,
    *,
    lot: Lot | None = None,
    bank: CellBank | None = None,
) -> Page[RetainedSample]:
    """A page of retained samples, newest first, with their withdrawals (a fixed few queries)."""
    stmt = select(RetainedSample).options(*_loaded())
    if lot is not None:
        stmt = stmt.where(RetainedSample.lot_id == lot.id)
    if bank is not None:
        stmt = stmt.where(RetainedSample.bank_id == bank.id)
    stmt = stmt.order_by(RetainedSample.recorded_at.desc(), RetainedSample.id.desc())
    return page_of(session, stmt, page, per_page)


def samples_of(
    session: Session, *, lot: Lot | None = None, bank: CellBank | None = None
) -> list[RetainedSample]:
    """Every retained sample of a lot or a bank, oldest first, with its withdrawals."""
    subject = (
        RetainedSample.lot_id == lot.id
        if lot is not None
        else RetainedSample.bank_id == (bank.id if bank is not None else None)
    )
    return list(
        session.scalars(
            select(RetainedSample).where(subject).options(*_loaded()).order_by(RetainedSample.id)
        )
    )


def _lock_subject(session: Session, sample: RetainedSample) -> None:
    """Hold the lot's or bank's row until commit: withdrawals from its samples wait in turn.
    (The samples' own rows are append-only: the runtime role may not lock them.)"""
    model: Any = Lot if sample.lot_id is not None else CellBank
    key = sample.lot_id if sample.lot_id is not None else sample.bank_id
    session.execute(select(model.id).where(model.id == key).with_for_update())
    session.expire(sample, ["withdrawals"])


def _links(
    session: Session,
    sample: RetainedSample,
    result_id: int | None,
    investigation: str | None,
    deviation: str | None,
    fields: dict[str, str],
) -> tuple[Result | None, Investigation | None, Deviation | None]:
    """The records the withdrawal names, each checked to exist (a bad one is a bad field)."""
    found_result = session.get(Result, result_id) if result_id is not None else None
    if result_id is not None and found_result is None:
        fields["result"] = said("no result %(id)s", id=result_id)
    elif found_result is not None and not (
        (sample.lot_id is not None and found_result.lot_id == sample.lot_id)
        or (sample.bank_id is not None and found_result.bank_id == sample.bank_id)
    ):
        fields["result"] = said("not a result of %(subject)s", subject=sample.subject)
    found_inv = found_dev = None
    if investigation:
        found_inv = session.scalar(
            select(Investigation).where(Investigation.number == norm(investigation))
        )
        if found_inv is None:
            fields["investigation"] = said("no investigation %(number)s", number=investigation)
    if deviation:
        found_dev = session.scalar(select(Deviation).where(Deviation.number == norm(deviation)))
        if found_dev is None:
            fields["deviation"] = said("no deviation %(number)s", number=deviation)
    return found_result, found_inv, found_dev


def withdraw(
    session: Session,
    actor: User,
    sample: RetainedSample,
    *,
    quantity: Decimal,
    reason: str,
    result: int | None = None,
    investigation: str | None = None,
    deviation: str | None = None,
    note: str = "",
    withdrawn_on: dt.date | None = None,
) -> RetainedSampleWithdrawal:
    """Take `quantity` from the sample for a retest (naming the result it re-examines), an
    investigation (naming the OOS investigation or the deviation) or another reason (a note).
    Refused, with nothing written, when more than is left is asked."""
    require(actor.role, "retained.withdraw")
    _lock_subject(session, sample)
    today = clock.today(session)
    day = withdrawn_on or today
    fields: dict[str, str] = {}
    if reason not in {r.value for r in WithdrawalReason}:
        fields["reason"] = said(
            "one of %(values)s", values=", ".join(r.value for r in WithdrawalReason)
        )
    found_result, found_inv, found_dev = _links(
        session, sample, result, investigation, deviation, fields
    )
    if day > today:
        fields["withdrawn_on"] = N_("in the future")
    elif day < sample.laid_down_on:
        fields["withdrawn_on"] = said(
            "before the sample was laid down, on %(date)s", date=sample.laid_down_on
        )
    if "reason" not in fields:
        fact = rules.SampleFact(sample.number, sample.unit, left(sample), sample.retain_until)
        asked = WithdrawalAsked(
            quantity,
            WithdrawalReason(reason),
            found_result is not None or "result" in fields,
            found_inv is not None
            or found_dev is not None
            or bool({"investigation", "deviation"} & set(fields)),
            note or "",
        )
        fields = {**rules.withdrawal_refusal(fact, asked, today), **fields}
    if fields:
        raise ValidationFailed(
            said("Nothing was withdrawn from retained sample %(sample)s.", sample=sample.number),
            fields,
        )
    withdrawal = RetainedSampleWithdrawal(
        sample_id=sample.id,
        quantity=quantity,
        reason=WithdrawalReason(reason),
        result_id=found_result.id if found_result else None,
        investigation_id=found_inv.id if found_inv else None,
        deviation_id=found_dev.id if found_dev else None,
        note=(note or "").strip(),
        withdrawn_on=day,
        withdrawn_by_id=actor.id,
    )
    audit.created(session, actor, withdrawal, reason=withdrawal.note or reason)
    session.flush()
    session.expire(sample, ["withdrawals"])
    return withdrawal


def subject_of(
    session: Session, lot: str | None, bank: str | None
) -> tuple[Lot | None, CellBank | None]:
    """The lot or bank a sample is of, as named in a form or a body (a bad name is a bad field)."""
    if bool(lot) == bool(bank):
        raise ValidationFailed(
            N_("Name a lot or a cell bank, one of the two."),
            {"lot": N_("a lot number or a cell bank code, one of the two")},
        )
    if lot:
        found_lot = session.scalar(select(Lot).where(Lot.lot_number == norm(lot)))
        if found_lot is None:
            raise ValidationFailed(
                said("No lot %(lot)s.", lot=lot), {"lot": said("no lot %(lot)s", lot=lot)}
            )
        return found_lot, None
    found_bank = session.scalar(select(CellBank).where(CellBank.code == norm(bank)))
    if found_bank is None:
        raise ValidationFailed(
            said("No cell bank with code %(code)s.", code=bank),
            {"bank": said("no cell bank with code %(code)s", code=bank)},
        )
    return None, found_bank


def record_sample(
    session: Session, actor: User, data: dict[str, Any], retention_months: int
) -> RetainedSample:
    """Lay down samples as a form or a body names them (`lot` or `bank` by number or code)."""
    require(actor.role, "retained.write")
    fields = dict(data)
    lot, bank = subject_of(session, fields.pop("lot", None), fields.pop("bank", None))
    return lay_down(session, actor, lot=lot, bank=bank, retention_months=retention_months, **fields)
