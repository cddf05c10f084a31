"""Honest test dates through the result service (issue 13, item 7 and hole 9): a result is not
dated before its subject existed nor after the facility's today, and an incubation's start never
moves earlier, whether by completing a pending entry, correcting it, or invalidating it and
recording afresh, so a lot is never released on a shortened sterility incubation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.models import AuditEvent, Lot, Result, Signature
from lotrack.services import clock, production, release, result
from lotrack.services import lot as lots
from lotrack.services.cellbank import get_bank
from lotrack.services.seed_quality import RELEASE_VALUES
from tests.conftest import FACILITY, PASSWORDS, user

HARVEST = dt.date(2025, 8, 18)
DAYS = dt.timedelta(days=1)


def written(s: Session) -> tuple[int, int]:
    """Results and audit events: what a refused entry must leave as it found them."""
    s.flush()
    return (
        s.scalar(select(func.count()).select_from(Result)) or 0,
        s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    )


def sterility_waiting_lot(s: Session, started: dt.date) -> tuple[Lot, Result]:
    """A quarantined lot of two bags on RUN-2025-01 whose every release result passes and is
    verified by tech2, except sterility: inoculated on `started`, still incubating."""
    tech, tech2 = user(s, "tech"), user(s, "tech2")
    new = lots.register_lot(
        s, tech, run_code="RUN-2025-01", harvested_on=HARVEST,
        expires_on=HARVEST + dt.timedelta(days=3 * 365),
    )  # fmt: skip
    s.flush()
    lots.fill_units(
        s, tech, new, container="bag", count=2, cells_per_unit=72_000_000,
        volume_ml=Decimal("18.00"), facility_id=FACILITY, freezer="LN2-2", rack="C", box="9",
    )  # fmt: skip
    pending = None
    for analyte, value, unit in RELEASE_VALUES:
        sterility = analyte == "STERILITY"
        r = result.record_result(
            s, tech, new, test=analyte, value="pending" if sterility else value, unit=unit,
            performed_on=started if sterility else HARVEST,
        )  # fmt: skip
        s.flush()
        if sterility:
            pending = r
        else:
            result.verify_result(s, tech2, r)
    s.flush()
    assert pending is not None and pending.verdict == "pending"
    return new, pending


def qa_releases(s: Session, lot: Lot) -> Signature:
    sign_in = release.SignIn("qa", PASSWORDS["qa"], "approved for release", "dossier reviewed")
    return release.decide(
        s, user(s, "qa"), lot, release.Action.RELEASE, sign_in, release.Lockout(5, 15)
    )


# ---- hole 9: a sterility result dated before the lot's harvest --------------------------------


def test_hole_9_a_sterility_result_dated_before_harvest_is_refused(session):
    s = session
    new = lots.register_lot(
        s, user(s, "tech"), run_code="RUN-2025-01", harvested_on=HARVEST,
        expires_on=HARVEST + dt.timedelta(days=365),
    )  # fmt: skip
    s.flush()
    before = written(s)
    with pytest.raises(ValidationFailed) as err:
        # dated 20 days before harvest, so the 14 days look complete on the harvest's week
        result.record_result(
            s, user(s, "tech"), new, test="STERILITY", value="No growth", unit="",
            performed_on=HARVEST - 20 * DAYS,
        )  # fmt: skip
    assert err.value.fields == {
        "performed_on": f"not before {HARVEST} (the harvest of lot {new.lot_number})"
    }
    assert written(s) == before
    # the harvest day itself is the first day a sample exists
    assert result.record_result(
        s, user(s, "tech"), new, test="STERILITY", value="pending", unit="", performed_on=HARVEST
    ).verdict == "pending"  # fmt: skip


def test_a_passage_result_is_not_dated_before_its_seeding(session):
    s = session
    passage = production.get_run(s, "RUN-2025-02").passages[0]  # no results yet
    before = written(s)
    with pytest.raises(ValidationFailed) as err:
        result.record_result(
            s, user(s, "tech"), passage, test="VIAB", value="93.0", unit="%",
            performed_on=passage.seeded_on - DAYS,
        )  # fmt: skip
    assert err.value.fields == {
        "performed_on": f"not before {passage.seeded_on} (the seeding of passage 6 of run"
        " RUN-2025-02)"
    }
    assert written(s) == before


def test_a_bank_result_is_not_corrected_to_a_day_before_its_banking(session):
    s = session
    bank = get_bank(s, "WCB-001-B")
    viab = next(
        r for r in result.results_of(s, bank) if r.analyte == "VIAB" and r.invalidated_at is None
    )
    before = written(s)
    with pytest.raises(ValidationFailed) as err:
        result.correct_result(
            s, user(s, "tech"), viab, reason="date retyped", value=viab.value, unit="%",
            performed_on=bank.banked_on - DAYS,
        )  # fmt: skip
    assert err.value.fields == {
        "performed_on": f"not before {bank.banked_on} (the banking of {bank.code})"
    }
    assert written(s) == before and viab.invalidated_at is None


# ---- hole 9: a correction moving the inoculation back to end the incubation early -------------


def test_hole_9_a_correction_cannot_shorten_the_incubation_so_the_lot_is_not_released(session):
    s = session
    today = clock.today(s)
    new, pending = sterility_waiting_lot(s, started=today - 3 * DAYS)
    before = written(s)
    # The attack: "the inoculation was really 15 days ago", and the reading is final at once.
    with pytest.raises(ValidationFailed) as err:
        result.correct_result(
            s, user(s, "tech"), pending, reason="inoculation date mistyped", value="No growth",
            performed_on=today - 15 * DAYS,
        )  # fmt: skip
    assert err.value.fields == {
        "performed_on": f"not before {pending.performed_on} (the incubation on record started"
        " then; a wrong start date is explained in a deviation or investigation)"
    }
    assert "deviation or an investigation" in err.value.message
    # Refused before anything was touched: the pending entry is still the valid one.
    assert written(s) == before and pending.invalidated_at is None
    assert not release.review(s, new).releasable
    with pytest.raises(Conflict):
        qa_releases(s, new)
    assert new.state == "QUARANTINE"


def test_a_final_reading_completing_a_pending_entry_cannot_predate_it(session):
    s = session
    today = clock.today(s)
    new, pending = sterility_waiting_lot(s, started=today - 3 * DAYS)
    before = written(s)
    with pytest.raises(ValidationFailed) as err:
        result.record_result(
            s, user(s, "tech"), new, test="STERILITY", value="No growth", unit="",
            performed_on=today - 15 * DAYS,
        )  # fmt: skip
    assert f"not before {pending.performed_on}" in err.value.fields["performed_on"]
    assert written(s) == before
    assert not release.review(s, new).releasable


def test_invalidating_and_recording_afresh_cannot_predate_the_incubation_either(session):
    s = session
    today = clock.today(s)
    new, pending = sterility_waiting_lot(s, started=today - 3 * DAYS)
    result.invalidate_result(s, user(s, "tech2"), pending, "sample bottle label unreadable")
    s.flush()
    with pytest.raises(ValidationFailed) as err:
        result.record_result(
            s, user(s, "tech"), new, test="STERILITY", value="No growth", unit="",
            performed_on=today - 15 * DAYS,
        )  # fmt: skip
    assert f"not before {pending.performed_on}" in err.value.fields["performed_on"]
    # A new inoculation (today or any day since the first) starts a new incubation.
    again = result.record_result(
        s, user(s, "tech"), new, test="STERILITY", value="pending", unit="", performed_on=today
    )
    assert (again.verdict, again.due_on) == ("pending", today + 14 * DAYS)


def test_moving_the_inoculation_later_is_allowed_because_the_wait_only_grows(session):
    s = session
    today = clock.today(s)
    new, pending = sterility_waiting_lot(s, started=today - 3 * DAYS)
    later = result.correct_result(
        s, user(s, "tech"), pending, reason="inoculated a day later than entered",
        value="pending", unit="", performed_on=today - 2 * DAYS,
    )  # fmt: skip
    assert (later.replaces, later.verdict) == (pending, "pending")
    assert later.due_on == pending.due_on + DAYS
    # and its reading still waits for the whole, later, incubation
    with pytest.raises(ValidationFailed) as err:
        result.record_result(
            s, user(s, "tech"), new, test="STERILITY", value="No growth", unit="",
            performed_on=today - 2 * DAYS,
        )  # fmt: skip
    assert "a final reading is accepted from" in err.value.fields["value"]


def test_a_test_without_incubation_may_be_corrected_to_an_earlier_day_not_before_harvest(session):
    s = session
    new, _pending = sterility_waiting_lot(s, started=clock.today(s))
    viab = next(r for r in result.results_of(s, new) if r.analyte == "VIAB")
    assert viab.performed_on == HARVEST
    later = result.correct_result(
        s, user(s, "tech"), viab, reason="tested the day after harvest", value="93.4",
        unit="%", performed_on=HARVEST + 2 * DAYS,
    )  # fmt: skip
    earlier = result.correct_result(
        s, user(s, "tech"), later, reason="the log book says the harvest day", value="93.4",
        unit="%", performed_on=HARVEST,
    )  # fmt: skip
    assert earlier.performed_on == HARVEST and earlier.replaces is later
    with pytest.raises(ValidationFailed) as err:
        result.correct_result(
            s, user(s, "tech"), earlier, reason="typo", value="93.4", unit="%",
            performed_on=HARVEST - DAYS,
        )  # fmt: skip
    assert err.value.fields == {
        "performed_on": f"not before {HARVEST} (the harvest of lot {new.lot_number})"
    }
    assert earlier.invalidated_at is None  # refused before the old result was invalidated


# ---- "today" is the facility's date (Asia/Shanghai, 8 hours ahead of UTC) ---------------------


def freeze(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    """Stop the clock at `moment` (UTC) wherever a result's date is judged."""
    for module in (clock, result):
        monkeypatch.setattr(module, "utcnow", lambda: moment)


D = dt.date(2026, 3, 10)
JUST_AFTER_MIDNIGHT = dt.datetime(2026, 3, 9, 16, 30, tzinfo=dt.UTC)  # 00:30 on D in Shanghai
JUST_BEFORE_MIDNIGHT = dt.datetime(2026, 3, 9, 15, 59, tzinfo=dt.UTC)  # 23:59 on D-1 there


@pytest.mark.parametrize(
    "moment, allowed, refused_day",
    [
        # At 00:30 in Shanghai the facility's date is already D while the UTC date is still D-1:
        # a result dated D was tested today, and the day after is the future.
        (JUST_AFTER_MIDNIGHT, D, D + DAYS),
        # A minute before midnight there, D is still tomorrow.
        (JUST_BEFORE_MIDNIGHT, D - DAYS, D),
    ],
    ids=["00:30 Asia/Shanghai", "23:59 Asia/Shanghai"],
)
def test_the_future_is_judged_by_the_facility_calendar(
    session, monkeypatch, moment, allowed, refused_day
):
    s = session
    freeze(monkeypatch, moment)
    assert clock.today(s) == allowed
    new = lots.register_lot(
        s, user(s, "tech"), run_code="RUN-2025-01", harvested_on=HARVEST,
        expires_on=HARVEST + dt.timedelta(days=3 * 365),
    )  # fmt: skip
    s.flush()
    done = result.record_result(
        s, user(s, "tech"), new, test="VIAB", value="93.4", unit="%", performed_on=allowed
    )
    assert (done.performed_on, done.verdict) == (allowed, "pass")
    before = written(s)
    with pytest.raises(ValidationFailed) as err:
        result.record_result(
            s, user(s, "tech"), new, test="CD105", value="98.7", unit="%",
            performed_on=refused_day,
        )  # fmt: skip
    assert err.value.fields == {"performed_on": f"in the future (today is {allowed})"}
    assert written(s) == before


def test_an_incubation_ends_by_the_facility_calendar_too(session, monkeypatch):
    """Inoculated 14 days before D: at 00:30 on D in Shanghai its reading is due, not tomorrow."""
    s = session
    freeze(monkeypatch, JUST_AFTER_MIDNIGHT)
    new = lots.register_lot(
        s, user(s, "tech"), run_code="RUN-2025-01", harvested_on=HARVEST,
        expires_on=HARVEST + dt.timedelta(days=3 * 365),
    )  # fmt: skip
    s.flush()
    started = D - 14 * DAYS
    pending = result.record_result(
        s, user(s, "tech"), new, test="STERILITY", value="pending", unit="", performed_on=started
    )
    assert pending.due_on == D
    final = result.record_result(
        s, user(s, "tech"), new, test="STERILITY", value="No growth", unit="",
        performed_on=started,
    )  # fmt: skip
    assert (final.verdict, final.replaces) == ("pass", pending)
