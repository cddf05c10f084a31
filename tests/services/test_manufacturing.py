"""The manufacturing record through its services: rules, refusals, DINs, lineage."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.domain.isbt128 import check_character
from lotrack.models import AuditEvent, CellBank, Lot, Passage, ProductionRun, Unit, Vial
from lotrack.services import audit, cellbank, donor, lineage, lot, production
from tests.conftest import FACILITY, counting, user

D = dt.date


def counts(session: Session) -> dict[str, int]:
    return {
        m.__name__: session.scalar(select(func.count()).select_from(m)) or 0
        for m in (CellBank, Vial, ProductionRun, Passage, Lot, Unit, AuditEvent)
    }


def test_every_demo_unit_has_a_unique_din_with_the_right_check_character(session) -> None:
    units = session.scalars(select(Unit)).all()
    assert len(units) == 14
    assert len({u.din for u in units}) == 14
    for u in units:
        assert len(u.din) == 13 and u.din.startswith(FACILITY)
        assert u.check_character == check_character(u.din)


def test_passage_numbers_follow_the_bank_and_doublings_accumulate(session) -> None:
    run = production.get_run(session, "RUN-2025-01")
    figures = production.passage_figures(run)
    assert [f.number for f in figures] == [6, 7]  # WCB banked at passage 5
    assert figures[0].doublings == Decimal("2.81")  # log2(14e6 / 2e6)
    assert figures[-1].cumulative_pdl == Decimal("18.20") + sum(f.doublings for f in figures)


@pytest.mark.parametrize(
    "call,field",
    [
        (
            lambda s, t: cellbank.register_bank(
                s,
                t,
                code="WCB-X",
                tier="WCB",
                parent_code="WCB-001-A",
                passage_at_banking=7,
                pdl_at_banking=Decimal("20"),
                banked_on=D(2025, 8, 1),
            ),
            "parent",
        ),
        (
            lambda s, t: cellbank.register_bank(
                s,
                t,
                code="MCB-X",
                tier="MCB",
                parent_code="NO-CLONE",
                passage_at_banking=3,
                pdl_at_banking=Decimal("10"),
                banked_on=D(2025, 8, 1),
            ),
            "parent",
        ),
        (
            lambda s, t: cellbank.register_bank(
                s,
                t,
                code="MCB-001",
                tier="MCB",
                parent_code="CL-0001",
                passage_at_banking=3,
                pdl_at_banking=Decimal("10"),
                banked_on=D(2025, 8, 1),
            ),
            "code",
        ),
        (
            lambda s, t: production.start_run(
                s, t, code="RUN-X", bank_code="MCB-001", vial_numbers=[2], started_on=D(2025, 9, 1)
            ),
            "bank",
        ),
        (
            lambda s, t: production.start_run(
                s,
                t,
                code="RUN-X",
                bank_code="WCB-001-A",
                vial_numbers=[1],
                started_on=D(2025, 9, 1),
            ),
            "vials",
        ),
        (
            lambda s, t: production.start_run(
                s,
                t,
                code="RUN-X",
                bank_code="WCB-001-A",
                vial_numbers=[99],
                started_on=D(2025, 9, 1),
            ),
            "vials",
        ),
        (
            lambda s, t: production.record_passage(
                s,
                t,
                production.get_run(s, "RUN-2025-01"),
                seeded_on=D(2025, 9, 1),
                harvested_on=D(2025, 9, 7),
                cells_seeded=2_000_000,
                cells_harvested=0,
                viability_percent=Decimal("95"),
            ),
            "cells_harvested",
        ),
        (
            lambda s, t: lot.register_lot(
                s, t, run_code="RUN-2025-01", harvested_on=D(2025, 9, 1), expires_on=D(2025, 8, 1)
            ),
            "expires_on",
        ),
        (
            lambda s, t: lot.register_lot(
                s,
                t,
                run_code="RUN-2025-01",
                harvested_on=D(2025, 9, 1),
                expires_on=D(2026, 9, 1),
                lot_number="CFM-2025-0001",
            ),
            "lot_number",
        ),
        (
            lambda s, t: donor.register_clone(
                s, t, code="CL-0002", donor_code="FD-9999", derived_on=D(2025, 4, 2)
            ),
            "donor",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(session, call, field) -> None:
    tech = user(session, "tech")
    before = counts(session)
    with pytest.raises((ValidationFailed, Conflict)) as info:
        call(session, tech)
        session.commit()
    assert field in info.value.fields, info.value.fields
    assert info.value.message
    session.rollback()
    assert counts(session) == before


def test_a_vial_is_withdrawn_once(session) -> None:
    tech = user(session, "tech")
    vial = cellbank.get_vial(session, "WCB-001-B", 2)
    cellbank.withdraw_vial(session, tech, vial, purpose="stability study")
    session.commit()
    with pytest.raises(Conflict, match="cannot be withdrawn"):
        cellbank.withdraw_vial(session, tech, vial, purpose="again")
    session.rollback()
    assert vial.state == "withdrawn"


def test_two_people_withdrawing_the_same_vial_at_once_only_one_succeeds(demo_app) -> None:
    maker = demo_app.extensions["lotrack_db"].sessionmaker
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        barrier.wait(timeout=30)  # all start together; SQLite then serializes the writers
        with maker() as s:
            vial = cellbank.get_vial(s, "WCB-001-B", 3)
            try:
                cellbank.withdraw_vial(s, user(s, "tech"), vial, purpose="race")
                s.commit()
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["ok"]
    with maker() as s:
        assert audit.verify(s).ok


def test_concurrent_fills_never_share_a_din(demo_app) -> None:
    maker = demo_app.extensions["lotrack_db"].sessionmaker
    errors: list[BaseException] = []

    def fill() -> None:
        try:
            with maker() as s:
                target = lot.get_lot(s, "CFM-2025-0003")
                lot.fill_units(
                    s,
                    user(s, "tech"),
                    target,
                    container="vial",
                    count=5,
                    cells_per_unit=25_000_000,
                    volume_ml=Decimal("3.8"),
                    facility_id=FACILITY,
                )
                s.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fill) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with maker() as s:
        dins = s.scalars(select(Unit.din)).all()
        assert len(dins) == 14 + 20 and len(set(dins)) == len(dins)


def test_roles_are_enforced_by_the_services(session) -> None:
    with pytest.raises(Forbidden):
        donor.register_donor(
            session, user(session, "qa"), code="FD-0002", consent_date=D(2025, 1, 1)
        )
    with pytest.raises(Forbidden):
        lineage.lot_back(session, user(session, "nurse"), "CFM-2025-0001")
    with pytest.raises(Forbidden):
        donor.determine_eligibility(
            session,
            user(session, "tech"),
            donor.get_donor(session, "FD-0001"),
            determination="ineligible",
            responsible_person="x",
            reason="y",
        )


def test_eligible_is_refused_while_screening_is_incomplete(session) -> None:
    tech, qa = user(session, "tech"), user(session, "qa")
    new = donor.register_donor(session, tech, code="FD-0002", consent_date=D(2025, 1, 1))
    donor.record_screening(
        session,
        tech,
        new,
        marker="HIV-1/2",
        method="NAT",
        result="non-reactive",
        tested_on=D(2025, 1, 2),
    )
    session.flush()
    with pytest.raises(ValidationFailed, match="HBV: no screening result"):
        donor.determine_eligibility(
            session, qa, new, determination="eligible", responsible_person="Dr Q", reason="review"
        )


def test_lineage_costs_the_same_number_of_queries_whatever_the_tree_size(demo_app) -> None:
    maker = demo_app.extensions["lotrack_db"].sessionmaker

    def measure() -> tuple[int, int]:
        with maker() as s:
            tech = user(s, "tech")
            with counting(demo_app) as back:
                tree = lineage.lot_back(s, tech, "CFM-2025-0001")
                _ = [u.din for u in tree.lot.units], tree.donor.code
            with counting(demo_app) as fwd:
                f = lineage.bank_forward(s, tech, "MCB-001")
                _ = f.unit_count, [p.number for r in f.runs for p in r.passages]
            return len(back), len(fwd)

    small = measure()
    with maker() as s:
        tech = user(s, "tech")
        for code in ("CFM-2025-0002", "CFM-2025-0003"):
            lot.fill_units(
                s,
                tech,
                lot.get_lot(s, code),
                container="bag",
                count=40,
                cells_per_unit=72_000_000,
                volume_ml=Decimal("18"),
                facility_id=FACILITY,
            )
        s.commit()
    assert measure() == small
    assert small[0] <= 6 and small[1] <= 8


def test_lineage_walks_from_lot_to_donor(session) -> None:
    tree = lineage.lot_back(session, user(session, "qa"), "CFM-2025-0004")
    chain = [tree.donor.code, tree.clone.code, tree.mcb.code, tree.wcb.code, tree.run.code]
    assert chain == ["FD-0001", "CL-0001", "MCB-001", "WCB-001-B", "RUN-2025-03"]
    assert [f.number for f in tree.figures] == [6, 7, 8, 9, 10, 11]
    assert tree.figures[-1].flags == ("passage 11 exceeds the limit of 10",)
    assert len(tree.lot.units) == 2
