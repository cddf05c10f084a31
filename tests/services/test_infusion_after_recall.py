"""A GO answers for the moment it was given: a recall between the scan and the infusion stops it
(the infusion runs the bedside rule again at its start)."""

from __future__ import annotations

import pytest

from lotrack.domain.errors import Conflict
from lotrack.models import Infusion, Unit
from lotrack.services import bedside
from lotrack.services import infusion as infusions
from tests import clinical_setup as cs
from tests.conftest import user


def test_a_lot_recalled_after_the_go_scan_cannot_be_infused(demo_app) -> None:
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    with cs.db(demo_app) as s:
        scan, verdict = bedside.check_scan(
            s,
            user(s, "nurse"),
            key=demo_app.extensions["lotrack_signing_key"],
            patient_text=cs.READY,
            scan_text=cs.label(demo_app, din),
        )
        s.commit()
        assert verdict.go, verdict.reasons
        scan_id = scan.id
    cs.recall(demo_app)
    with cs.db(demo_app) as s:
        scan = s.get(type(scan), scan_id)
        with pytest.raises(Conflict, match="NO-GO: Lot CFM-2025-0001 has been RECALLED") as no:
            infusions.record_infusion(
                s, user(s, "nurse"), scan, started_at=cs.now(), **cs.WITNESS, **cs.GIVEN
            )
        assert "scan" in no.value.fields
        s.rollback()
        assert s.query(Infusion).count() == 0
        assert s.get(Unit, scan.unit_id).state == "thawed"
