"""QC results through their service: judged on entry, verified by a second person, append-only,
corrected only with a reason, and every write in the audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.domain.specs import Verdict
from lotrack.models import Attachment, AuditEvent, Investigation, Lot, Result
from lotrack.services import (
    audit,
    clock,
    evaluation,
    lot,
    production,
    raw_data,
    result,
    result_subject,
    specs,
)
from lotrack.services.seed_quality import RELEASE_VALUES
from tests.conftest import user

PASSING = {a: v for a, v, _u in RELEASE_VALUES}
HARVEST = dt.date(2025, 9, 22)


def fresh_lot(s: Session, harvested_on: dt.date = HARVEST) -> Lot:
    """A new quarantined lot of RUN-2025-02 (a clean run on qualified banks), no results yet."""
    new = lot.register_lot(
        s,
        user(s, "tech"),
        run_code="RUN-2025-02",
        harvested_on=harvested_on,
        expires_on=harvested_on + dt.timedelta(days=365),
    )
    s.flush()
    return new


def rec(s: Session, subject, test: str, value: str | None = None, **kw) -> Result:
    """Record as tech (unless `actor`), in the spec's unit, a passing value unless given."""
    actor = kw.pop("actor", None) or user(s, "tech")
    spec_test = specs.content_of(result_subject.pinned_version(subject)).test(test)
    return result.record_result(
        s,
        actor,
        subject,
        test=test,
        value=PASSING[test] if value is None else value,
        unit=kw.pop("unit", spec_test.unit if spec_test else ""),
        performed_on=kw.pop("performed_on", HARVEST),
        **kw,
    )


def counts(s: Session) -> tuple[int, int, int]:
    return tuple(
        s.scalar(select(func.count()).select_from(m)) or 0
        for m in (Result, Investigation, Attachment)
    )  # type: ignore[return-value]


def test_a_result_keeps_the_text_as_entered_and_its_verdict(session):
    s = session
    new = fresh_lot(s)
    r = rec(s, new, "CD105", " 94.95 ", method="", instrument="Canto II", reagent_lot="RL-1")
    assert (r.value, r.rounded, r.verdict) == ("94.95", "95.0", Verdict.PASS)
    assert (r.unit, r.method, r.instrument, r.reagent_lot) == (
        "%",
        "Flow cytometry",
        "Canto II",
        "RL-1",
    )
    assert r.analyst.username == "tech" and r.spec_version is new.spec_version
    panel = rec(s, new, "cd11b", "0.7")
    assert (panel.test_code, panel.analyte, panel.verdict) == ("CD14-CD11B", "CD11b", "pass")
    s.commit()
    assert [e.action for e in audit.history(s, "result", str(r.id))] == ["create"]
    assert audit.verify(s).ok


@pytest.mark.parametrize(
    "test, value, unit, performed_on, field",
    [
        ("NOPE", "1", "%", HARVEST, "test"),
        ("VIAB", "ninety", "%", HARVEST, "value"),
        ("VIAB", "90.0", "fraction", HARVEST, "unit"),
        ("VIAB", "90.0", "%", "tomorrow", "performed_on"),  # by the facility's calendar
        ("CD14-CD11B", "0.5", "%", HARVEST, "analyte"),
        ("STERILITY", "No growth", "", utcnow().date(), "value"),  # still incubating
    ],
)
def test_bad_entries_are_refused_by_field_and_write_nothing(
    session, test, value, unit, performed_on, field
):
    new = fresh_lot(session)
    if performed_on == "tomorrow":
        performed_on = clock.today(session) + dt.timedelta(days=1)
    before = counts(session)
    with pytest.raises(ValidationFailed) as err:
        rec(session, new, test, value, unit=unit, performed_on=performed_on)
    assert field in err.value.fields
    assert counts(session) == before


@pytest.mark.parametrize("field", ["method", "instrument", "reagent_lot"])
def test_over_long_details_are_refused_naming_the_field(session, field):
    new = fresh_lot(session)
    with pytest.raises(ValidationFailed) as err:
        rec(session, new, "VIAB", **{field: "x" * 201})
    assert field in err.value.fields


@pytest.mark.parametrize("role_user", ["qa", "nurse", "admin"])
def test_only_technicians_record_results(session, role_user):
    with pytest.raises(Forbidden):
        rec(session, fresh_lot(session), "VIAB", actor=user(session, role_user))


def test_four_eyes_the_analyst_cannot_verify_and_a_result_is_verified_once(session):
    s = session
    r = rec(s, fresh_lot(s), "VIAB")
    with pytest.raises(Forbidden) as err:
        result.verify_result(s, user(s, "tech"), r)
    assert err.value.fields == {"verifier": "must not be the analyst"}
    with pytest.raises(Forbidden):
        result.verify_result(s, user(s, "nurse"), r)
    result.verify_result(s, user(s, "tech2"), r)
    assert r.verified_by.username == "tech2" and r.verified_at is not None
    with pytest.raises(Conflict) as err:
        result.verify_result(s, user(s, "qa"), r)
    assert err.value.fields == {"result": "verified already"}
    s.commit()
    assert [e.actor for e in audit.history(s, "result", str(r.id))] == ["tech", "tech2"]
    assert audit.verify(s).ok


def test_the_database_refuses_a_verification_by_the_analyst(session):
    s = session
    r = rec(s, fresh_lot(s), "VIAB")
    s.commit()
    with pytest.raises(DBAPIError) as err:
        s.execute(
            update(Result)
            .where(Result.id == r.id)
            .values(verified_by_id=Result.analyst_id, verified_at=utcnow())
        )
    assert "four_eyes" in str(err.value)
    s.rollback()
    assert s.get(Result, r.id).verified_by_id is None


def test_a_pending_result_is_not_verified_and_its_final_reading_replaces_it(session):
    s = session
    new = fresh_lot(s)
    started = utcnow().date() - dt.timedelta(days=15)
    pending = rec(s, new, "STERILITY", "pending", performed_on=started)
    assert (pending.verdict, pending.due_on) == ("pending", started + dt.timedelta(days=14))
    with pytest.raises(Conflict) as err:
        result.verify_result(s, user(s, "tech2"), pending)
    assert err.value.fields == {"result": "pending"}
    final = rec(s, new, "STERILITY", "No growth", performed_on=started)
    assert final.verdict == "pass" and final.replaces is pending
    result.verify_result(s, user(s, "tech2"), final)
    # the pending entry was completed, not wrong: it cannot be corrected into a second reading
    with pytest.raises(Conflict):
        result.correct_result(
            s, user(s, "tech"), pending, reason="typo", value="No growth", performed_on=started
        )
    s.flush()
    valid = [r for r in result.results_of(s, new) if r.invalidated_at is None]
    assert [r.value for r in valid if r.test_code == "STERILITY"] == ["pending", "No growth"]


def test_invalidating_needs_a_reason_and_keeps_the_result_visible(session):
    s = session
    r = rec(s, fresh_lot(s), "VIAB")
    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as err:
            result.invalidate_result(s, user(s, "tech2"), r, reason)
        assert err.value.fields == {"reason": "required"}
    assert r.invalidated_at is None
    result.invalidate_result(s, user(s, "tech2"), r, " sample mix-up ")
    assert (r.invalidation_reason, r.shown_verdict) == ("sample mix-up", "invalid")
    with pytest.raises(Conflict):
        result.invalidate_result(s, user(s, "tech2"), r, "again")
    s.commit()
    assert r in result.results_of(s, r.lot)
    assert audit.history(s, "result", str(r.id))[-1].reason == "sample mix-up"


def test_a_failing_result_is_neither_invalidated_nor_corrected_outside_its_investigation(session):
    s = session
    new = fresh_lot(s)
    failing = rec(s, new, "VIAB", "79.94")
    assert failing.verdict == "fail"
    for call in (
        lambda: result.invalidate_result(s, user(s, "qa"), failing, "looks wrong"),
        lambda: result.correct_result(
            s, user(s, "tech"), failing, reason="retyped", value="85.0", unit="%",
            performed_on=HARVEST,
        ),
    ):  # fmt: skip
        with pytest.raises(Conflict) as err:
            call()
        assert "investigation" in err.value.fields["result"]
    assert failing.invalidated_at is None
    assert [r.id for r in result.results_of(s, new)] == [failing.id]


def test_a_correction_links_the_new_result_to_the_old_and_both_remain(session):
    s = session
    new = fresh_lot(s)
    old = rec(s, new, "CD90", "99.4")
    result.verify_result(s, user(s, "tech2"), old)
    fixed = result.correct_result(
        s, user(s, "tech"), old, reason="the report reads 92.4", value="92.4", unit="%",
        performed_on=HARVEST,
    )  # fmt: skip
    s.flush()
    assert fixed.replaces is old and fixed.verdict == "fail"  # judged like any entry
    assert old.invalidated_at is not None and old.invalidation_reason == "the report reads 92.4"
    assert [r.id for r in result.results_of(s, new)] == [old.id, fixed.id]
    outcome = next(
        o for o in evaluation.evaluate_lot(s, new).evaluation.outcomes if o.test.code == "CD90"
    )
    assert outcome.result.id == fixed.id
    s.commit()
    assert audit.history(s, "result", str(old.id))[-1].reason == "the report reads 92.4"
    assert audit.verify(s).ok


def test_a_second_result_for_a_test_with_a_valid_one_is_a_conflict(session):
    s = session
    new = fresh_lot(s)
    first = rec(s, new, "VIAB")
    with pytest.raises(Conflict) as err:
        rec(s, new, "viab", "94.0")
    assert f"result {first.id}" in err.value.fields["test"]
    rec(s, new, "CD14", "0.4")
    rec(s, new, "CD11b", "0.5")  # the other alternative of the panel may be measured too
    with pytest.raises(Conflict):
        rec(s, new, "CD14", "0.3")


@pytest.mark.parametrize("state, open_", [("REJECTED", False), ("RELEASED", False),
                                          ("RECALLED", False), ("ON_HOLD", True)])  # fmt: skip
def test_a_decided_lot_takes_no_new_results(session, state, open_):
    s = session
    new = fresh_lot(s)
    s.execute(text("UPDATE lot SET state = :s WHERE id = :i"), {"s": state, "i": new.id})
    s.expire(new)
    if open_:
        assert rec(s, new, "VIAB").verdict == "pass"
        return
    with pytest.raises(Conflict) as err:
        rec(s, new, "VIAB")
    assert err.value.fields == {"lot": f"is {state}"}


def test_a_raw_data_file_is_kept_with_its_sha256_and_a_safe_name(session):
    s = session
    data = b"marker,percent\nCD105,98.7\n"
    raw = raw_data.RawFile(r"C:\exports\..\..\run 7.CSV", data)
    r = rec(s, fresh_lot(s), "CD105", raw_file=raw)
    s.commit()
    a = s.get(Attachment, r.attachment_id)
    assert (a.filename, a.content_type, a.size) == ("run 7.CSV", "text/csv", len(data))
    assert a.sha256 == hashlib.sha256(data).hexdigest() and a.data == data
    assert raw_data.safe_filename("../../etc/passwd.csv") == "passwd.csv"
    assert s.scalar(select(func.count()).where(AuditEvent.entity_type == "attachment")) >= 1
    assert audit.verify(s).ok


@pytest.mark.parametrize(
    "filename, data",
    [("report.exe", b"MZ"), ("noextension", b"x"), ("run.csv.sh", b"x"), ("run.csv", b""),
     ("big.csv", b"x" * (raw_data.MAX_RAW_BYTES + 1))],
)  # fmt: skip
def test_a_bad_raw_data_file_is_refused_and_nothing_written(session, filename, data):
    new = fresh_lot(session)
    before = counts(session)
    with pytest.raises(ValidationFailed) as err:
        rec(session, new, "CD105", raw_file=raw_data.RawFile(filename, data))
    assert list(err.value.fields) == ["raw_file"]
    session.flush()
    assert counts(session) == before


def test_passage_results_are_judged_by_the_in_process_spec_without_an_investigation(session):
    s = session
    run = production.get_run(s, "RUN-2025-02")
    passage = run.passages[0]
    r = rec(s, passage, "VIAB", "79.9")
    assert r.verdict == "fail" and r.spec_version is run.spec_version
    assert result_subject.subject_label(passage) == "passage 6 of run RUN-2025-02"
    assert s.scalar(select(func.count()).where(Investigation.result_id == r.id)) == 0
