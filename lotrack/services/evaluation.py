"""A subject's evaluation against its pinned specification, with every blocker named.

A lot is blocked by its own results and open investigations, and by what lies behind it: the
run's passage limits and in-process controls, the donor's eligibility, the qualification of its
working and master cell banks. A bank is judged by its own results and its parent and donor.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.domain.evaluation import Blocker, Evaluation, ResultFact, evaluate
from lotrack.domain.permissions import require
from lotrack.domain.specs import Verdict
from lotrack.domain.states import Determination, Qualification
from lotrack.models import CellBank, Clone, Lot, Passage, ProductionRun, Result, SpecVersion, User
from lotrack.services import audit, specs
from lotrack.services.investigation import open_for_lot
from lotrack.services.production import passage_figures
from lotrack.services.result import results_of


@dataclass(frozen=True)
class SubjectEvaluation:
    evaluation: Evaluation
    version: SpecVersion | None
    newer: SpecVersion | None
    results: list[Result]

    @property
    def releasable(self) -> bool:
        return self.evaluation.releasable


def fact(r: Result) -> ResultFact:
    return ResultFact(
        id=r.id,
        test_code=r.test_code,
        analyte=r.analyte,
        value=r.value,
        unit=r.unit,
        verdict=Verdict(r.verdict),
        verified=r.verified_at is not None,
        invalidated=r.invalidated_at is not None,
        due_on=r.due_on,
    )


def _judge(
    session: Session,
    version: SpecVersion | None,
    results: list[Result],
    others: list[Blocker],
    label: str,
) -> SubjectEvaluation:
    today = utcnow().date()
    if version is None:
        others.insert(0, Blocker("spec", label, f"{label} has no specification pinned."))
        return SubjectEvaluation(Evaluation((), tuple(others), ()), None, None, results)
    newer = specs.newer_approved(session, version)
    warnings = ()
    if newer is not None:
        warnings = (
            f"A newer specification ({newer.label}) is in effect; {label} stays judged by"
            f" {version.label}, the version pinned when it was created.",
        )
    evaluation = evaluate(
        specs.content_of(version),
        [fact(r) for r in results],
        today=today,
        other_blockers=tuple(others),
        warnings=warnings,
    )
    return SubjectEvaluation(evaluation, version, newer, results)


def _ancestry_blockers(wcb: CellBank) -> list[Blocker]:
    out = []
    banks = [wcb] + ([wcb.parent] if wcb.parent is not None else [])
    for bank in banks:
        if bank.qualification != Qualification.QUALIFIED:
            out.append(
                Blocker("bank", bank.code, f"{bank.tier} {bank.code} is {bank.qualification}.")
            )
    mcb = banks[-1]
    donor = mcb.clone.donor if mcb.clone is not None else None
    if donor is not None and donor.determination != Determination.ELIGIBLE:
        out.append(Blocker("donor", donor.code, f"Donor {donor.code} is {donor.determination}."))
    return out


def _run_blockers(session: Session, run: ProductionRun) -> list[Blocker]:
    out = [
        Blocker("passage", f"{run.code} P{f.number}", f"Run {run.code}: {flag}.")
        for f in passage_figures(run)
        for flag in f.flags
    ]
    failing = session.scalars(
        select(Result)
        .join(Passage, Result.passage_id == Passage.id)
        .where(
            Passage.run_id == run.id,
            Result.verdict == Verdict.FAIL.value,
            Result.invalidated_at.is_(None),
        )
        .options(joinedload(Result.passage))
    )
    for r in failing:
        out.append(
            Blocker(
                "in-process",
                f"{run.code} P{r.passage.number}",
                f"Run {run.code} passage {r.passage.number}: {r.test_code} {r.value} is out of"
                " the in-process specification.",
            )
        )
    return out


def _load_lot(session: Session, lot: Lot) -> Lot:
    return session.scalars(
        select(Lot)
        .where(Lot.id == lot.id)
        .options(
            joinedload(Lot.spec_version),
            joinedload(Lot.run).selectinload(ProductionRun.passages),
            joinedload(Lot.run)
            .joinedload(ProductionRun.bank)
            .joinedload(CellBank.parent)
            .joinedload(CellBank.clone)
            .joinedload(Clone.donor),
        )
    ).one()


def evaluate_lot(session: Session, lot: Lot) -> SubjectEvaluation:
    lot = _load_lot(session, lot)
    others = [
        Blocker(
            "investigation",
            inv.number,
            f"{inv.number} ({inv.result.test_code}) is open, phase {inv.phase}.",
        )
        for inv in open_for_lot(session, lot)
    ]
    others += _run_blockers(session, lot.run)
    others += _ancestry_blockers(lot.run.bank)
    return _judge(
        session, lot.spec_version, results_of(session, lot), others, f"Lot {lot.lot_number}"
    )


def evaluate_bank(session: Session, bank: CellBank) -> SubjectEvaluation:
    bank = session.scalars(
        select(CellBank)
        .where(CellBank.id == bank.id)
        .options(
            joinedload(CellBank.spec_version),
            joinedload(CellBank.clone).joinedload(Clone.donor),
            joinedload(CellBank.parent).joinedload(CellBank.clone).joinedload(Clone.donor),
        )
    ).one()
    others: list[Blocker] = []
    if bank.parent is not None:
        others = [b for b in _ancestry_blockers(bank) if b.subject != bank.code]
    else:
        donor = bank.clone.donor if bank.clone is not None else None
        if donor is not None and donor.determination != Determination.ELIGIBLE:
            others.append(
                Blocker("donor", donor.code, f"Donor {donor.code} is {donor.determination}.")
            )
    return _judge(
        session,
        bank.spec_version,
        results_of(session, bank),
        others,
        f"{bank.tier} {bank.code}",
    )


def qualify_bank(
    session: Session, actor: User, bank: CellBank, *, decision: str, reason: str
) -> CellBank:
    """QA's decision on a bank: qualified only when its evaluation has no blocker."""
    require(actor.role, "bank.qualify")
    if decision not in (Qualification.QUALIFIED, Qualification.NOT_QUALIFIED):
        raise ValidationFailed(
            "The decision is qualified or not_qualified.",
            {"decision": "qualified or not_qualified"},
        )
    if bank.qualification == decision:
        raise Conflict(f"{bank.code} is {decision} already.", {"decision": f"{decision} already"})
    if decision == Qualification.QUALIFIED:
        ev = evaluate_bank(session, bank)
        if not ev.releasable:
            raise Conflict(
                f"{bank.code} cannot be qualified: "
                + "; ".join(b.message for b in ev.evaluation.blockers),
                {f"blocker {i + 1}": b.message for i, b in enumerate(ev.evaluation.blockers)},
            )
    audit.changed(session, actor, bank, {"qualification": decision}, reason=reason)
    return bank


def passage_results(session: Session, run: ProductionRun) -> dict[int, list[Result]]:
    rows = session.scalars(
        select(Result)
        .join(Passage, Result.passage_id == Passage.id)
        .where(Passage.run_id == run.id)
        .order_by(Result.id)
        .options(selectinload(Result.analyst), selectinload(Result.verified_by))
    )
    out: dict[int, list[Result]] = {}
    for r in rows:
        out.setdefault(r.passage_id or 0, []).append(r)
    return out
