"""The holes issue 13 found at the bedside, each through the services on the demo database:
1. a unit of a lot released by exception for patient A is NO-GO for patient B, with no
   acknowledgement offered even when one is sent;
4. expiry is judged by the site's calendar (23:59 / 00:00 Asia/Shanghai), not the UTC date;
7. the infusion runs the bedside rule again at its start (post-thaw window, lot state), starts
   neither before its GO check nor after the GO's validity, and the witness signs with their own
   password: a wrong one is refused, counts toward their lockout and writes nothing else.
And one unit is infused once, however many submissions race."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, DomainError, Forbidden, ValidationFailed
from lotrack.models import Allocation, BedsideScan, Infusion, Lot, Prescription, Unit
from lotrack.services import bedside, clinical
from lotrack.services import infusion as infusions
from lotrack.services import lot as lots
from tests import clinical_setup as cs
from tests.conftest import PASSWORDS, user

MIN = dt.timedelta(minutes=1)
SITE = ZoneInfo("Asia/Shanghai")


def check(app: Flask, wristband: str, din: str, **kw: Any) -> tuple[int, bedside.BedsideVerdict]:
    """nurse's bedside check of the unit's QR label, committed: (scan id, verdict)."""
    with cs.db(app) as s:
        row, verdict = bedside.check_scan(
            s,
            user(s, "nurse"),
            key=app.extensions["lotrack_signing_key"],
            patient_text=wristband,
            scan_text=cs.label(app, din),
            **kw,
        )
        s.commit()
        return row.id, verdict


def infuse(app: Flask, scan_id: int, started_at: dt.datetime, **signature: str) -> None:
    """nurse records the infusion after her check `scan_id` (nurse2 witnesses by default)."""
    with cs.db(app) as s:
        scan = s.get_one(BedsideScan, scan_id)
        try:
            infusions.record_infusion(
                s,
                user(s, "nurse"),
                scan,
                started_at=started_at,
                **{**cs.WITNESS, **cs.GIVEN, **signature},
            )
            s.commit()
        except DomainError as err:  # as the edges do: a refused signature keeps its count only
            if getattr(err, "keep_writes", False):
                s.commit()
            raise


def infusions_recorded(app: Flask) -> int:
    with cs.db(app) as s:
        return s.scalar(select(func.count()).select_from(Infusion)) or 0


def state_of(app: Flask, din: str) -> str:
    with cs.db(app) as s:
        return lots.get_unit(s, din).state


# ---- hole 1 ----------------------------------------------------------------------------------


def test_an_exceptional_unit_is_no_go_for_any_other_patient_even_acknowledged(demo_app):
    a, din, _check = cs.exceptional_unit(demo_app)  # released for A, allocated to A, thawed
    b = cs.enrol(demo_app, "SUBJ-041")
    for acknowledge in (False, True):
        _id, verdict = check(demo_app, b, din, acknowledge_exceptional=acknowledge)
        assert not verdict.go and not verdict.needs_acknowledgement, verdict.reasons
        assert "exceptional_other_patient" in verdict.codes
        assert "acknowledge_exceptional" not in verdict.codes
    _id, verdict = check(demo_app, a, din)
    assert verdict.codes == ("acknowledge_exceptional",) and verdict.needs_acknowledgement


def test_an_exceptional_unit_set_aside_for_another_patient_is_still_no_go(demo_app):
    """As the hole was found: the unit allocated to B (as allocation allowed before) and the
    acknowledgement sent; the release names A, so B gets NO-GO and no box."""
    a = cs.enrol(demo_app, "SUBJ-040")
    b = cs.enrol(demo_app, "SUBJ-041")
    cs.exceptional_release(demo_app, a)
    din, _check = cs.free_din(demo_app, "CFM-2025-0002")
    cs.ship(demo_app, din)
    with cs.db(demo_app) as s:  # written directly: the allocation service now refuses it
        rx = s.scalars(
            select(Prescription).where(
                Prescription.patient_id == clinical.get_patient(s, user(s, "qa"), b).id
            )
        ).one()
        unit = lots.get_unit(s, din)
        s.add(
            Allocation(prescription_id=rx.id, unit_id=unit.id, allocated_by_id=user(s, "tech").id)
        )
        s.commit()
    cs.thaw(demo_app, din)
    scan_id, verdict = check(demo_app, b, din, acknowledge_exceptional=True)
    assert not verdict.go and not verdict.needs_acknowledgement
    assert verdict.codes == ("exceptional_other_patient",), verdict.reasons
    assert verdict.reasons[0].endswith("released by exception for another patient only.")
    with cs.db(demo_app) as s:  # the acknowledgement sent for B is not recorded as given
        assert not s.get_one(BedsideScan, scan_id).exceptional_acknowledged


# ---- hole 4 ----------------------------------------------------------------------------------


def test_a_unit_expires_at_midnight_at_the_site_not_at_midnight_utc(demo_app):
    din, _check = cs.ready_din(demo_app)
    day = cs.today() - dt.timedelta(days=3)
    last_minute = dt.datetime.combine(day, dt.time(23, 59), SITE).astimezone(dt.UTC)
    midnight = last_minute + MIN  # 00:00 on the next day at the site
    assert midnight.date() == day  # ... and 16:00 on the expiry date itself in UTC
    with cs.db(demo_app) as s:  # time has passed: the lot's expiry date is behind us
        s.execute(update(Lot).where(Lot.lot_number == cs.DEMO_LOT).values(expires_on=day))
        infusions.record_thaw(s, user(s, "nurse"), din, last_minute - 10 * MIN)
        s.commit()
    _id, verdict = check(demo_app, cs.READY, din, now=last_minute)
    assert verdict.go, verdict.reasons
    _id, verdict = check(demo_app, cs.READY, din, now=midnight)
    assert not verdict.go and verdict.codes == ("expired",), verdict.reasons
    assert f"expired at the end of {day} (Asia/Shanghai)" in verdict.reasons[0]


# ---- hole 7 ----------------------------------------------------------------------------------


def test_an_infusion_past_the_post_thaw_window_is_refused_though_the_go_is_valid(demo_app):
    din, _check = cs.ready_din(demo_app)
    now = utcnow()
    cs.thaw(demo_app, din, minutes_ago=89)
    # The GO at the window's last minute (60 minutes after the thaw) is valid for 30 more.
    scan_id, verdict = check(demo_app, cs.READY, din, now=now - 29 * MIN)
    assert verdict.go, verdict.reasons
    with pytest.raises(Conflict) as refused:
        infuse(demo_app, scan_id, now + MIN)  # 90 minutes after the thaw: 30 past the window
    assert "started_at" in refused.value.fields
    assert "must be infused within 60 minutes of thawing" in refused.value.message
    assert (infusions_recorded(demo_app), state_of(demo_app, din)) == (0, "thawed")
    infuse(demo_app, scan_id, now - 29 * MIN)  # at the GO's own moment it was fine
    assert (infusions_recorded(demo_app), state_of(demo_app, din)) == (1, "infused")


def test_an_infusion_cannot_start_before_its_go_check_nor_after_its_validity(demo_app):
    din, _check = cs.ready_din(demo_app)
    now = utcnow()
    cs.thaw(demo_app, din, minutes_ago=20)
    scan_id, verdict = check(demo_app, cs.READY, din, now=now - 5 * MIN)
    assert verdict.go, verdict.reasons
    for started in (now - 10 * MIN, now + 26 * MIN):  # after the thaw but before the GO; too late
        with pytest.raises(ValidationFailed) as refused:
            infuse(demo_app, scan_id, started)
        assert "started_at" in refused.value.fields
    assert infusions_recorded(demo_app) == 0
    infuse(demo_app, scan_id, (now - 5 * MIN).replace(second=0, microsecond=0))  # its minute
    assert infusions_recorded(demo_app) == 1


def test_a_witness_with_a_wrong_password_is_refused_counted_and_nothing_is_written(demo_app):
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    scan_id, _verdict = check(demo_app, cs.READY, din)
    with cs.db(demo_app) as s:
        scan = s.get_one(BedsideScan, scan_id)
        with pytest.raises(Forbidden) as refused:
            infusions.record_infusion(
                s,
                user(s, "nurse"),
                scan,
                started_at=utcnow(),
                **{**cs.WITNESS, **cs.GIVEN, "witness_password": "not-the-password"},
            )
        assert refused.value.fields == {"witness_password": "wrong password"}
        assert getattr(refused.value, "keep_writes", False)  # the edge commits the count only
        s.commit()
    with cs.db(demo_app) as s:
        assert user(s, "nurse2").failed_signings == 1
    assert (infusions_recorded(demo_app), state_of(demo_app, din)) == (0, "thawed")
    with pytest.raises(ValidationFailed) as refused:  # the meaning is part of the signature
        infuse(demo_app, scan_id, utcnow(), witness_meaning="approved for release")
    assert "witness_meaning" in refused.value.fields
    infuse(demo_app, scan_id, utcnow())
    with cs.db(demo_app) as s:
        infusion = s.scalars(select(Infusion)).one()
        assert (infusion.witness.username, infusion.witness_meaning) == ("nurse2", "witnessed")
        assert infusion.witness_signed_at is not None
        assert user(s, "nurse2").failed_signings == 0  # a good signature clears the count


def test_a_locked_witness_cannot_sign(demo_app):
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    scan_id, _verdict = check(demo_app, cs.READY, din)
    for _ in range(cs.LOCKOUT.max_failures):
        with pytest.raises(Forbidden):
            infuse(demo_app, scan_id, utcnow(), witness_password="wrong")
    with pytest.raises(Forbidden) as refused:
        infuse(demo_app, scan_id, utcnow(), witness_password=PASSWORDS["nurse2"])
    assert refused.value.fields == {"witness_password": "signing locked"}
    assert infusions_recorded(demo_app) == 0


def test_racing_submissions_of_one_infusion_record_it_once(demo_app):
    """A double tap on "Record the infusion": each submission in its own session; the guarded
    move thawed -> infused (and the unique unit_id) lets one through, the others get a Conflict."""
    din, _check = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    scan_id, _verdict = check(demo_app, cs.READY, din)
    started = utcnow()
    barrier = threading.Barrier(3)
    outcomes: list[Any] = [None] * 3

    def submit(i: int) -> None:
        try:
            with cs.db(demo_app) as s:
                nurse, scan = user(s, "nurse"), s.get_one(BedsideScan, scan_id)
                s.commit()
                barrier.wait(timeout=60)
                try:
                    infusions.record_infusion(
                        s, nurse, scan, started_at=started, **cs.WITNESS, **cs.GIVEN
                    )
                    s.commit()
                    outcomes[i] = "ok"
                except Conflict as err:
                    s.rollback()
                    outcomes[i] = err
        except BaseException as err:  # reported by the assertions below
            outcomes[i] = err

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert outcomes.count("ok") == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if o != "ok"), outcomes
    assert (infusions_recorded(demo_app), state_of(demo_app, din)) == (1, "infused")
    with cs.db(demo_app) as s:
        assert s.scalar(select(Unit.state).where(Unit.din == din)) == "infused"
