"""QC results: recorded and judged against the subject's pinned specification, verified by a second
person, and corrected only by invalidating with a reason and linking the replacement."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.specs import Judgement, SpecTest, Verdict, judge
from lotrack.domain.states import InvestigationStatus, LotState
from lotrack.domain.text import N_, Said, said
from lotrack.models import CellBank, Investigation, Lot, Passage, Result, User
from lotrack.services import audit, clock, equipment, lookback, material_uses
from lotrack.services.raw_data import RawFile, store_raw
from lotrack.services.result_dates import check_date
from lotrack.services.result_subject import Subject, pinned_test

# A lot takes results until its decision; afterwards its dossier is closed (an exceptional release
# may still await a late reading, e.g. sterility, which must then be recorded).
OPEN_LOT_STATES = frozenset({LotState.QUARANTINE, LotState.ON_HOLD, LotState.EXCEPTIONAL_RELEASE})
# The stored column sizes; an instrument export may carry longer text than a form allows.
DETAIL_LENGTHS = {"method": 200, "instrument": 120, "reagent_lot": 60}


def results_of(session: Session, subject: Subject) -> list[Result]:
    """Every result of a subject, invalidated ones included, oldest first."""
    column = {Lot: Result.lot_id, CellBank: Result.bank_id, Passage: Result.passage_id}
    return list(
        session.scalars(
            select(Result)
            .where(column[type(subject)] == subject.id)
            .order_by(Result.id)
            .options(
                selectinload(Result.analyst),
                selectinload(Result.verified_by),
                selectinload(Result.invalidated_by),
                selectinload(Result.attachment),
            )
        )
    )


def lots_reached(session: Session, result: Result) -> list[Lot]:
    """The lots whose release a change to this result can undo: its lot, or its run's lots."""
    if result.lot is not None:
        return [result.lot]
    if result.passage is not None:
        return lookback.lots_of_runs(session, [result.passage.run_id])
    return []  # a bank's result: its qualification is QA's decision (services/evaluation.py)


def _reassess(session: Session, actor: User, result: Result, cause: str) -> None:
    """The lookback for every lot a change to this result reaches."""
    lookback.reassess(session, actor, lots_reached(session, result), cause=cause, trigger=result)


def get_result(session: Session, result_id: int) -> Result:
    found = session.get(Result, result_id)
    if found is None:
        raise NotFound(said("No result %(id)s.", id=result_id), {"result": N_("no such result")})
    return found


def _check_open(
    session: Session, subject: Subject, test: SpecTest, analyte: str, correcting: bool
) -> Result | None:
    """Refuse what would test into compliance; returns a pending result the entry completes."""
    if isinstance(subject, Lot):
        if subject.state not in OPEN_LOT_STATES:
            raise Conflict(
                said(
                    "Lot %(lot)s is %(state)s; its results are closed.",
                    lot=subject.lot_number,
                    state=Said(str(subject.state)),  # a coded word, translated
                ),
                {"lot": said("is %(state)s", state=Said(str(subject.state)))},
            )
        open_oos = session.scalar(
            select(Investigation.number)
            .join(Result, Investigation.result_id == Result.id)
            .where(
                Investigation.lot_id == subject.id,
                Investigation.status == InvestigationStatus.OPEN,
                Result.test_code == test.code,
            )
        )
        if open_oos:
            raise Conflict(
                said(
                    "%(investigation)s is open for %(test)s; a retest is allowed only when it"
                    " concludes with an assignable cause.",
                    investigation=open_oos,
                    test=test.name,
                ),
                {"test": said("%(investigation)s is open", investigation=open_oos)},
            )
    if correcting:
        return None
    current = [
        r
        for r in results_of(session, subject)
        if r.test_code == test.code and r.analyte == analyte and r.invalidated_at is None
    ]
    if not current:
        return None
    latest = current[-1]
    if latest.verdict == Verdict.PENDING:
        return latest
    if latest.verdict == Verdict.FAIL:
        raise Conflict(
            said(
                "%(test)s failed (result %(id)s) and the failure stands; it is not retested.",
                test=test.name,
                id=latest.id,
            ),
            {"test": said("out of specification (result %(id)s)", id=latest.id)},
        )
    raise Conflict(
        said(
            "%(test)s has a valid result (%(id)s: %(value)s); to change it, correct that result"
            " with a reason.",
            test=test.name,
            id=latest.id,
            value=latest.value,
        ),
        {"test": said("already has result %(id)s; correct it instead", id=latest.id)},
    )


def analyte_of(spec_test: SpecTest, test: str) -> str:
    """What the entry measured: the alternative it names, or the test itself (a panel entry that
    names no alternative is left blank for `judge` to refuse)."""
    return next(
        (a for a in spec_test.analytes if a.casefold() == (test or "").strip().casefold()),
        spec_test.code if not spec_test.alternatives else "",
    )


def new_result(
    actor: User,
    version: object,
    spec_test: SpecTest,
    analyte: str,
    judgement: Judgement,
    *,
    value: str,
    performed_on: dt.date,
    method: str,
    instrument: str,
    reagent_lot: str,
    replaces: Result | None,
    read_on: dt.date | None = None,
) -> Result:
    """The result row as entered and judged: one construction for a single entry and an import
    (services/result_batch.py), so both write the same columns and the same audit event.
    `read_on`: an incubated test's reading day (services/result_reading.py), noted on the row."""
    return Result(
        spec_version=version,
        test_code=spec_test.code,
        analyte=analyte,
        value=value.strip(),
        unit=spec_test.unit,
        method=(method or "").strip() or spec_test.method,
        instrument=(instrument or "").strip(),
        reagent_lot=(reagent_lot or "").strip(),
        performed_on=performed_on,
        analyst_id=actor.id,
        verdict=judgement.verdict.value,
        rounded=judgement.rounded,
        due_on=judgement.due_on,
        note=(judgement.note or (f"read on {read_on}" if read_on else ""))[:300],
        replaces=replaces,
    )


def record_result(
    session: Session,
    actor: User,
    subject: Subject,
    *,
    test: str,
    value: str,
    unit: str = "",
    performed_on: dt.date,
    method: str = "",
    instrument: str = "",
    reagent_lot: str = "",
    raw_file: RawFile | None = None,
    replaces: Result | None = None,
    material_lots: list[str] | None = None,
    read_on: dt.date | None = None,
) -> Result:
    """Record one result as entered and judge it; a failing lot result opens an investigation.
    A registered instrument must have been in calibration on the test date, and the material
    lots named (reagents, kits) approved and unexpired that day."""
    require(actor.role, "results.write")
    details = {"method": method, "instrument": instrument, "reagent_lot": reagent_lot}
    too_long = {
        k: said("at most %(max)s characters", max=n)
        for k, n in DETAIL_LENGTHS.items()
        if len((details[k] or "").strip()) > n
    }
    if too_long:
        raise ValidationFailed(N_("The result cannot be recorded."), too_long)
    version, spec_test = pinned_test(subject, test)
    analyte = analyte_of(spec_test, test)
    today = clock.today(session)
    check_date(session, subject, spec_test, analyte, performed_on, today=today, replaces=replaces)
    equipment.check_result(session, instrument, performed_on)
    material_uses.check_usable(session, material_lots or [], performed_on)
    judgement = judge(
        spec_test,
        value=value,
        unit=unit,
        analyte=analyte,
        performed_on=performed_on,
        # An incubated test's final reading is judged on the day it was read (on or after its
        # due date; services/result_reading.py), else on the day it is recorded.
        recorded_on=read_on or today,
    )
    pending = _check_open(session, subject, spec_test, analyte, correcting=replaces is not None)
    result = new_result(
        actor,
        version,
        spec_test,
        analyte,
        judgement,
        value=value,
        performed_on=performed_on,
        method=method,
        instrument=instrument,
        reagent_lot=reagent_lot,
        replaces=replaces or pending,
        read_on=read_on,
    )
    if isinstance(subject, Lot):
        result.lot = subject
    elif isinstance(subject, CellBank):
        result.bank = subject
    else:
        result.passage = subject
    if raw_file is not None:
        result.attachment = store_raw(session, actor, raw_file)
    audit.created(session, actor, result)
    session.flush()
    material_uses.record_uses(
        session, actor, material_lots or [], used_on=performed_on, result=result
    )
    # An informational test has no binding limit: its failure is shown, never investigated as OOS
    # (an open investigation would block release, which informational tests never do).
    if judgement.verdict == Verdict.FAIL and isinstance(subject, Lot) and spec_test.required:
        from lotrack.services.investigation import open_investigation

        open_investigation(session, actor, result)
    elif replaces is None:
        _reassess(
            session,
            actor,
            result,
            f"Result {result.id} recorded: {result.analyte} {result.value} {result.verdict}",
        )
    return result


def verify_refusal(actor: User, result: Result) -> DomainError | None:
    """Why `actor` may not verify `result` (the four-eyes rule and the result's state), or None;
    the one rule a single verification and a lot's bulk verification both apply."""
    if result.analyst_id == actor.id:
        return Forbidden(
            N_("You entered this result; a second person must verify it."),
            {"verifier": N_("must not be the analyst")},
        )
    if result.invalidated_at is not None:
        return Conflict(N_("This result was invalidated; there is nothing to verify."))
    if result.verified_at is not None:
        return Conflict(
            said(
                "Result %(id)s was verified already by %(name)s.",
                id=result.id,
                name=result.verified_by.full_name,
            ),
            {"result": N_("verified already")},
        )
    if result.verdict == Verdict.PENDING:
        return Conflict(
            N_("A pending result is not verified; verify the final reading."),
            {"result": Said("pending")},  # a coded word, translated
        )
    return None


def verify_result(session: Session, actor: User, result: Result) -> Result:
    """The second person's check: not the analyst, once, and only of a final, valid result."""
    require(actor.role, "results.verify")
    refusal = verify_refusal(actor, result)
    if refusal is not None:
        raise refusal
    audit.changed(
        session,
        actor,
        result,
        {"verified_by_id": actor.id, "verified_at": utcnow()},
        reason="verified by a second person",
    )
    # The verification is part of the dossier a release signature vouched for: verifying a
    # result that was unverified at release (an informational one) voids that signature.
    _reassess(
        session,
        actor,
        result,
        f"Result {result.id} ({result.analyte} {result.value}) verified after release",
    )
    return result


def invalidate_result(
    session: Session, actor: User, result: Result, reason: str, *, by_investigation: bool = False
) -> Result:
    """Invalidate with a reason; the result stays visible. A failure only through its OOS."""
    require(actor.role, "results.verify")
    if not (reason or "").strip():
        raise ValidationFailed(N_("A reason is required."), {"reason": N_("required")})
    if result.invalidated_at is not None:
        raise Conflict(
            said("Result %(id)s was invalidated already.", id=result.id),
            {"result": Said("invalid")},  # a coded word, translated
        )
    if result.verdict == Verdict.FAIL and not by_investigation:
        raise Conflict(
            N_(
                "An out-of-specification result is invalidated only by its investigation, with an"
                " assignable cause."
            ),
            {"result": N_("out of specification: conclude its investigation")},
        )
    audit.changed(
        session,
        actor,
        result,
        {
            "invalidated_by_id": actor.id,
            "invalidated_at": utcnow(),
            "invalidation_reason": reason.strip(),
        },
        reason=reason,
    )
    _reassess(
        session,
        actor,
        result,
        f"Result {result.id} ({result.analyte} {result.value}) invalidated: {reason.strip()}",
    )
    return result


def correct_result(
    session: Session,
    actor: User,
    old: Result,
    *,
    reason: str,
    value: str,
    unit: str = "",
    performed_on: dt.date,
    test: str | None = None,
    method: str = "",
    instrument: str = "",
    reagent_lot: str = "",
    raw_file: RawFile | None = None,
    material_lots: list[str] | None = None,
) -> Result:
    """Invalidate `old` with the reason and record its replacement, linked to it."""
    require(actor.role, "results.write")
    subject: Subject = old.lot or old.bank or old.passage  # type: ignore[assignment]
    # A pending entry completed by its final reading is not corrected (that would make two links
    # to it); the reading that replaced it is the one to correct.
    successor = session.scalar(select(Result.id).where(Result.replaces_id == old.id))
    if successor is not None:
        raise Conflict(
            said(
                "Result %(id)s was completed by result %(successor)s; correct that one instead.",
                id=old.id,
                successor=successor,
            ),
            {"result": said("replaced by result %(successor)s", successor=successor)},
        )
    # The replacement's date is judged before the old result is invalidated, so that a refused
    # date leaves the old result as it was even before the edge rolls the transaction back.
    _version, spec_test = pinned_test(subject, test or old.analyte)
    check_date(
        session,
        subject,
        spec_test,
        analyte_of(spec_test, test or old.analyte),
        performed_on,
        today=clock.today(session),
        replaces=old,
    )
    equipment.check_result(session, instrument, performed_on)
    material_uses.check_usable(session, material_lots or [], performed_on)
    invalidate_result(session, actor, old, reason)
    session.flush()
    return record_result(
        session,
        actor,
        subject,
        test=test or old.analyte,
        value=value,
        unit=unit,
        performed_on=performed_on,
        method=method or old.method,
        instrument=instrument,
        reagent_lot=reagent_lot,
        raw_file=raw_file,
        replaces=old,
        material_lots=material_lots,
    )
