"""Retained samples through the services, on both databases: laid down for a lot (kept a year
after its expiry) and for a bank; withdrawn for a retest naming the result it re-examines and for
an investigation naming the OOS record; what is left computed from the withdrawals; a withdrawal
of more than is left refused naming the quantity, with nothing written; the records append-only;
the lot's timeline naming them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lotrack.domain.errors import Forbidden, ValidationFailed
from lotrack.models import AuditEvent, Result, RetainedSample, RetainedSampleWithdrawal
from lotrack.services import cellbank, investigation, retained, timeline
from lotrack.services import lot as lots
from tests.conftest import execute_as_owner, user

OOS_LOT = "CFM-2025-0003"  # failed viability, an open OOS investigation


def lay(s: Session, *, lot=None, bank=None, quantity="4", unit="vial", **kw) -> RetainedSample:
    subject = lot if lot is not None else bank
    day = subject.harvested_on if lot is not None else subject.banked_on
    return retained.lay_down(
        s,
        kw.pop("actor", None) or user(s, "tech"),
        lot=lot,
        bank=bank,
        sample_type=kw.pop("sample_type", "cells"),
        container=kw.pop("container", "cryovial"),
        quantity=Decimal(quantity),
        unit=unit,
        freezer="LN2-RET",
        rack="R1",
        box="B2",
        position=kw.pop("position", "A1"),
        laid_down_on=day,
        **kw,
    )


def viability_of(s: Session, lot) -> Result:
    return s.scalars(
        select(Result).where(Result.lot_id == lot.id, Result.test_code == "VIAB")
    ).first()


def withdrawals(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(RetainedSampleWithdrawal)) or 0


def test_samples_are_laid_down_for_a_lot_and_for_a_bank(session: Session) -> None:
    s = session
    lot = lots.get_lot(s, OOS_LOT)
    bank = cellbank.get_bank(s, "MCB-001")
    of_lot = lay(s, lot=lot)
    of_bank = lay(s, bank=bank, quantity="2.5", unit="mL", container="tube")
    assert of_lot.number.startswith("RS-") and of_lot.number != of_bank.number
    assert of_lot.retain_until == lot.expires_on.replace(year=lot.expires_on.year + 1)
    assert of_bank.retain_until is None  # kept as long as the bank
    assert retained.left(of_lot) == 4 and retained.left(of_bank) == Decimal("2.5")
    assert [x.number for x in retained.samples_of(s, lot=lot)] == [of_lot.number]
    assert [x.number for x in retained.samples_of(s, bank=bank)] == [of_bank.number]
    assert of_lot.location == "LN2-RET / rack R1 / box B2 / A1"


def test_a_sample_is_of_a_lot_or_a_bank_and_laid_down_sensibly(session: Session) -> None:
    s = session
    lot = lots.get_lot(s, OOS_LOT)
    with pytest.raises(ValidationFailed) as both:
        lay(s, lot=lot, bank=cellbank.get_bank(s, "MCB-001"))
    assert "subject" in both.value.fields
    with pytest.raises(ValidationFailed) as bad:
        lay(s, lot=lot, quantity="1.5", unit="vial", sample_type="blood")
    assert {"quantity", "sample_type"} <= set(bad.value.fields)
    with pytest.raises(ValidationFailed) as unknown:
        retained.subject_of(s, "CFM-1999-0001", None)
    assert "lot" in unknown.value.fields


def test_withdrawals_for_a_retest_and_an_investigation_are_linked_and_counted(
    session: Session,
) -> None:
    s = session
    lot = lots.get_lot(s, OOS_LOT)
    sample = lay(s, lot=lot)
    oos = investigation.open_for_lot(s, lot)[0]
    retest = retained.withdraw(
        s, user(s, "tech"), sample, quantity=Decimal(1), reason="retest",
        result=viability_of(s, lot).id,
    )  # fmt: skip
    for_oos = retained.withdraw(
        s, user(s, "qa"), sample, quantity=Decimal(1), reason="investigation",
        investigation=oos.number.lower(),
    )  # fmt: skip
    assert retest.result.test_code == "VIAB" and retest.withdrawn_by.username == "tech"
    assert for_oos.investigation.number == oos.number and for_oos.withdrawn_by.username == "qa"
    assert retained.left(retained.get_sample(s, sample.number)) == 2
    assert sample.quantity == 4  # laid down stays as it was: what is left is computed


def test_more_than_is_left_is_refused_naming_the_quantity_and_nothing_is_written(
    session: Session,
) -> None:
    s = session
    lot = lots.get_lot(s, OOS_LOT)
    sample = lay(s, lot=lot, quantity="2")
    result_id = viability_of(s, lot).id
    retained.withdraw(s, user(s, "tech"), sample, quantity=Decimal(1), reason="retest",
                      result=result_id)  # fmt: skip
    s.flush()
    before = withdrawals(s)
    with pytest.raises(ValidationFailed) as refused:
        retained.withdraw(s, user(s, "tech"), sample, quantity=Decimal(2), reason="retest",
                          result=result_id)  # fmt: skip
    assert set(refused.value.fields) == {"quantity"}
    assert "more than the 1 vial left" in refused.value.fields["quantity"]
    s.flush()
    assert withdrawals(s) == before and retained.left(sample) == 1


def test_taking_the_last_of_a_sample_still_kept_needs_a_note(session: Session) -> None:
    s = session
    lot = lots.get_lot(s, OOS_LOT)
    sample = lay(s, lot=lot, quantity="1")
    result_id = viability_of(s, lot).id
    with pytest.raises(ValidationFailed) as refused:
        retained.withdraw(s, user(s, "tech"), sample, quantity=Decimal(1), reason="retest",
                          result=result_id)  # fmt: skip
    assert "note" in refused.value.fields and str(sample.retain_until) in str(
        refused.value.fields["note"]
    )
    retained.withdraw(s, user(s, "tech"), sample, quantity=Decimal(1), reason="retest",
                      result=result_id, note="the last vial: OOS retest ordered by QA")  # fmt: skip
    assert retained.left(sample) == 0


def test_a_retest_names_a_result_of_the_same_material(session: Session) -> None:
    s = session
    sample = lay(s, lot=lots.get_lot(s, OOS_LOT))
    other = viability_of(s, lots.get_lot(s, "CFM-2025-0001"))
    with pytest.raises(ValidationFailed) as refused:
        retained.withdraw(s, user(s, "tech"), sample, quantity=Decimal(1), reason="retest",
                          result=other.id)  # fmt: skip
    assert "not a result of CFM-2025-0003" in refused.value.fields["result"]
    with pytest.raises(ValidationFailed) as missing:
        retained.withdraw(s, user(s, "tech"), sample, quantity=Decimal(1),
                          reason="investigation", deviation="DEV-1999-001")  # fmt: skip
    assert "deviation" in missing.value.fields


def test_only_the_roles_allowed_lay_down_and_withdraw(session: Session) -> None:
    s = session
    lot = lots.get_lot(s, OOS_LOT)
    with pytest.raises(Forbidden):
        lay(s, lot=lot, actor=user(s, "qa"))
    sample = lay(s, lot=lot)
    with pytest.raises(Forbidden):
        retained.withdraw(s, user(s, "nurse"), sample, quantity=Decimal(1), reason="other",
                          note="x")  # fmt: skip


def test_the_records_are_append_only(demo_app: Flask, session: Session) -> None:
    s = session
    sample = lay(s, lot=lots.get_lot(s, OOS_LOT))
    retained.withdraw(s, user(s, "tech"), sample, quantity=Decimal(1), reason="other",
                      note="training")  # fmt: skip
    s.commit()
    for statement in (
        "UPDATE retained_sample SET quantity = 40",
        "DELETE FROM retained_sample_withdrawal",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            execute_as_owner(demo_app, statement)


def test_the_lots_timeline_names_its_samples_and_withdrawals(session: Session) -> None:
    s = session
    lot = lots.get_lot(s, OOS_LOT)
    sample = lay(s, lot=lot)
    w = retained.withdraw(s, user(s, "tech"), sample, quantity=Decimal(1), reason="retest",
                          result=viability_of(s, lot).id)  # fmt: skip
    s.commit()
    records = [e.record for e in timeline.lot_timeline(s, lot)]
    assert f"retained_sample {sample.number}" in records
    assert f"retained_sample_withdrawal {w.id} from {sample.number}" in records
    assert s.scalar(select(func.count()).where(AuditEvent.entity_type == "retained_sample"))
