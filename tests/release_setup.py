"""A releasable lot for the release tests of every edge (API, web), built through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Flask

from lotrack.services import lot as lots
from lotrack.services import result, seed_quality
from tests.conftest import FACILITY, user


def make_lot(
    app: Flask,
    unverified: str = "",
    *,
    harvested_on: dt.date = dt.date(2025, 8, 18),
    left_out: tuple[str, ...] = (),
) -> str:
    """A fresh quarantined lot of two bags on RUN-2025-01 with every release result passing,
    entered by tech and verified by tech2 (except `unverified`, left for someone else to verify,
    and the tests `left_out`, not entered at all)."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        tech, tech2 = user(s, "tech"), user(s, "tech2")
        lot = lots.register_lot(
            s,
            tech,
            run_code="RUN-2025-01",
            harvested_on=harvested_on,
            expires_on=harvested_on + dt.timedelta(days=3 * 365 + 1),
        )
        s.flush()
        lots.fill_units(
            s,
            tech,
            lot,
            container="bag",
            count=2,
            cells_per_unit=72_000_000,
            volume_ml=Decimal("18.00"),
            facility_id=FACILITY,
            freezer="LN2-2",
            rack="C",
            box="2",
        )
        for analyte, value, unit in seed_quality.RELEASE_VALUES:
            if analyte in left_out:
                continue
            r = result.record_result(
                s, tech, lot, test=analyte, value=value, unit=unit, performed_on=lot.harvested_on
            )
            s.flush()
            if analyte != unverified:
                result.verify_result(s, tech2, r)
        s.commit()
        return lot.lot_number
