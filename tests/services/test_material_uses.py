"""The rules at the moment of use hold on every path: an instrument CSV's rows name their material
lots and instruments and are refused row by row (nothing written) like a single entry; a use is
append-only, struck by a new record with a reason; a calibration found out of tolerance makes the
results since the last good one a release blocker."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.models import MaterialUse
from lotrack.services import equipment, material_uses, result
from lotrack.services.evaluation import evaluate_lot
from tests.conftest import execute_as_owner, user
from tests.services.test_result_import import DAY, refused, run
from tests.services.test_results import fresh_lot


def test_an_import_records_each_rows_material_lots(session: Session) -> None:
    s = session
    new = fresh_lot(s)
    body = f"test,value,unit,date,instrument,material_lots\nVIAB,95,%,{DAY},FCM-01,MAT-2025-006\n"
    done = run(s, body, new)
    (viab,) = done.results
    uses = s.scalars(select(MaterialUse).where(MaterialUse.result_id == viab.id)).all()
    assert [(u.material_lot.number, str(u.used_on)) for u in uses] == [("MAT-2025-006", DAY)]


def test_an_import_row_on_an_unusable_lot_or_instrument_writes_nothing(session: Session) -> None:
    s = session
    new = fresh_lot(s)
    instrument = equipment.register_instrument(s, user(s, "tech"), code="OLD-01", name="Old")
    s.flush()
    equipment.record_event(
        s, user(s, "tech"), instrument, kind="calibration", performed_on=dt.date(2024, 1, 2),
        due_on=dt.date(2025, 1, 2), passed=True,
    )  # fmt: skip
    body = (
        "test,value,unit,date,instrument,material_lots\n"
        f"VIAB,95,%,{DAY},FCM-01,MAT-2025-006\n"
        f"CD73,99,%,{DAY},OLD-01,\n"
        f"CD90,99,%,{DAY},,MAT-2099-001\n"
    )
    fields = refused(s, body, new)
    assert "out of calibration on 2025-09-22" in fields["line 3"]
    assert "no material lot MAT-2099-001" in fields["line 4"]
    assert "line 2" not in fields


def test_a_use_is_struck_by_a_new_record_and_never_changed(session: Session, demo_app) -> None:
    s = session
    tech = user(s, "tech")
    use = s.scalars(select(MaterialUse).order_by(MaterialUse.id)).first()
    with pytest.raises(ValidationFailed):
        material_uses.strike_use(s, tech, use, " ")
    strike = material_uses.strike_use(s, tech, use, "entered on the wrong run")
    s.flush()
    assert (strike.strikes_id, strike.material_lot_id, strike.run_id) == (
        use.id,
        use.material_lot_id,
        use.run_id,
    )
    with pytest.raises(Conflict):
        material_uses.strike_use(s, tech, use, "again")
    s.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        execute_as_owner(demo_app, "UPDATE material_use SET used_on = '2020-01-01'")


def test_an_out_of_tolerance_calibration_puts_the_results_since_in_doubt(session: Session) -> None:
    s = session
    tech = user(s, "tech")
    lot = fresh_lot(s)
    tech2 = user(s, "tech2")
    for analyte, value in (("VIAB", "95"), ("CD73", "99"), ("CD90", "99")):
        r = result.record_result(
            s, tech, lot, test=analyte, value=value, unit="%", performed_on=lot.harvested_on,
            instrument="CC-01",
        )  # fmt: skip
        s.flush()
        result.verify_result(s, tech2, r)
    assert not [b for b in evaluate_lot(s, lot).evaluation.blockers if b.kind == "instrument"]
    cc = equipment.get_instrument(s, "CC-01")
    equipment.record_event(
        s, tech, cc, kind="calibration", performed_on=lot.harvested_on + dt.timedelta(days=3),
        due_on=lot.harvested_on + dt.timedelta(days=3), passed=False, note="as found: +8 %",
    )  # fmt: skip
    s.flush()
    doubts = [b for b in evaluate_lot(s, lot).evaluation.blockers if b.kind == "instrument"]
    assert len(doubts) == 3
    assert "Instrument CC-01 was found out of tolerance on" in doubts[0].message
