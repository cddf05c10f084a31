"""A subject's evaluation against its pinned specification, with every blocker named.

A lot's facts are gathered here, once, and judged by the one release rule (domain/release.py):
its results, open investigations on it and its siblings, deviations on it and its run, the run's
passage limits and in-process controls, its banks' qualification and its donor's eligibility.
A bank is judged by its own results, its parent and its donor.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.domain.evaluation import Blocker, Evaluation, ResultFact, evaluate
from lotrack.domain.release import (
    BankFact,
    LotFacts,
    OpenDeviation,
    OpenInvestigation,
    RunFlag,
    bank_blocker,
    donor_blocker,
    release_evaluation,
)
from lotrack.domain.specs import Stage, Verdict
from lotrack.domain.states import Determination, InvestigationStatus, Qualification
from lotrack.domain.text import said
from lotrack.models import (
    CellBank,
    Clone,
    Donor,
    Investigation,
    Lot,
    Passage,
    ProductionRun,
    Result,
    SpecVersion,
)
from lotrack.services import deviation, equipment, material_uses, specs
from lotrack.services.clock import today as site_today
from lotrack.services.dossier import lot_passages
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


def _newer(
    session: Session, version: SpecVersion | None, label: str
) -> tuple[SpecVersion | None, tuple[str, ...]]:
    newer = specs.newer_approved(session, version) if version is not None else None
    if newer is None or version is None:
        return newer, ()
    return newer, (
        said(
            "A newer specification (%(newer)s) is in effect; %(subject)s stays judged by"
            " %(version)s, the version pinned when it was created.",
            newer=newer.label,
            subject=label,
            version=version.label,
        ),
    )


def _judge(
    session: Session,
    version: SpecVersion | None,
    results: list[Result],
    others: list[Blocker],
    label: str,
) -> SubjectEvaluation:
    """A bank against its qualification specification (a lot goes through release_evaluation)."""
    if version is None:
        others.insert(
            0,
            Blocker("spec", label, said("%(subject)s has no specification pinned.", subject=label)),
        )
        return SubjectEvaluation(Evaluation((), tuple(others), ()), None, None, results)
    newer, warnings = _newer(session, version, label)
    evaluation = evaluate(
        specs.content_of(version),
        [fact(r) for r in results],
        today=site_today(session),
        other_blockers=tuple(others),
        warnings=warnings,
    )
    return SubjectEvaluation(evaluation, version, newer, results)


def _bank_facts(wcb: CellBank) -> tuple[tuple[BankFact, ...], Donor | None]:
    banks = [wcb] + ([wcb.parent] if wcb.parent is not None else [])
    mcb = banks[-1]
    donor = mcb.clone.donor if mcb.clone is not None else None
    return tuple(BankFact(b.tier, b.code, b.qualification) for b in banks), donor


def _run_flags(session: Session, lot: Lot) -> list[RunFlag]:
    """Limits and in-process failures of the passages that made this lot (not later ones)."""
    run = lot.run
    made = {p.number for p in lot_passages(lot)}
    out = [
        RunFlag(
            "passage",
            f"{run.code} P{f.number}",
            said("Run %(run)s: %(flag)s.", run=run.code, flag=flag),
        )
        for f in passage_figures(run)
        if f.number in made
        for flag in f.flags
    ]
    failing = session.execute(
        select(Passage.number, Result.test_code, Result.value)
        .join(Passage, Result.passage_id == Passage.id)
        .where(
            Passage.run_id == run.id,
            Passage.number.in_(made),
            Result.verdict == Verdict.FAIL.value,
            Result.invalidated_at.is_(None),
        )
        .order_by(Result.id)
    )
    for number, test_code, value in failing:
        out.append(
            RunFlag(
                Stage.IN_PROCESS,
                f"{run.code} P{number}",
                said(
                    "Run %(run)s passage %(passage)s: %(test)s %(value)s is out of the in-process"
                    " specification.",
                    run=run.code,
                    passage=number,
                    test=test_code,
                    value=value,
                ),
            )
        )
    return out


def _open_investigations(session: Session, lot: Lot) -> list[OpenInvestigation]:
    """Open OOS investigations of this lot and of its siblings (same run or same WCB)."""
    rows = session.execute(
        select(Investigation.number, Lot.lot_number, Result.test_code, Investigation.phase)
        .join(Lot, Investigation.lot_id == Lot.id)
        .join(ProductionRun, Lot.run_id == ProductionRun.id)
        .join(Result, Investigation.result_id == Result.id)
        .where(
            Investigation.status == InvestigationStatus.OPEN,
            or_(
                Lot.id == lot.id,
                ProductionRun.id == lot.run_id,
                ProductionRun.bank_id == lot.run.bank_id,
            ),
        )
        .order_by(Lot.id != lot.id, Investigation.number)
    )
    return [OpenInvestigation(*row) for row in rows]


def _passage_results(session: Session, lot: Lot) -> list[Result]:
    """The valid results of the passages that made the lot (their instruments are judged too)."""
    made = [p.id for p in lot_passages(lot)]
    return list(
        session.scalars(
            select(Result).where(
                Result.passage_id.in_(made or [-1]), Result.invalidated_at.is_(None)
            )
        )
    )


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


@dataclass(frozen=True)
class GatheredLot:
    facts: LotFacts
    version: SpecVersion | None
    newer: SpecVersion | None
    results: list[Result]


def gather_lot(session: Session, lot: Lot) -> GatheredLot:
    """Every fact the release rule reads, gathered in one place."""
    lot = _load_lot(session, lot)
    label = said("Lot %(lot)s", lot=lot.lot_number)
    results = results_of(session, lot)
    banks, donor = _bank_facts(lot.run.bank)
    newer, warnings = _newer(session, lot.spec_version, label)
    facts = LotFacts(
        lot_number=lot.lot_number,
        spec=specs.content_of(lot.spec_version) if lot.spec_version is not None else None,
        today=site_today(session),
        results=tuple(fact(r) for r in results),
        investigations=tuple(_open_investigations(session, lot)),
        deviations=tuple(
            OpenDeviation(d.number, d.description) for d in deviation.open_for_lot(session, lot)
        ),
        banks=banks,
        donor_code=donor.code if donor is not None else None,
        donor_determination=donor.determination if donor is not None else None,
        run_flags=tuple(_run_flags(session, lot)),
        warnings=warnings,
        materials=tuple(material_uses.materials_of_lot(session, lot)),
        instrument_doubts=tuple(
            equipment.doubts(session, [*results, *_passage_results(session, lot)])
        ),
    )
    return GatheredLot(facts, lot.spec_version, newer, results)


def evaluate_lot(session: Session, lot: Lot) -> SubjectEvaluation:
    """The lot judged by the one release rule (domain/release.py)."""
    got = gather_lot(session, lot)
    return SubjectEvaluation(release_evaluation(got.facts), got.version, got.newer, got.results)


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
    # A WCB is blocked by its MCB's qualification (not its own: that is what is being decided).
    banks, donor = _bank_facts(bank)
    others = [
        bank_blocker(b.tier, b.code, b.qualification)
        for b in banks
        if b.code != bank.code and b.qualification != Qualification.QUALIFIED
    ]
    if donor is not None and donor.determination != Determination.ELIGIBLE:
        others.append(donor_blocker(donor.code, donor.determination))
    return _judge(
        session,
        bank.spec_version,
        results_of(session, bank),
        others,
        f"{bank.tier} {bank.code}",
    )


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
