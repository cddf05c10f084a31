"""When a lot may be released: one pure rule over one plain value of facts.

`release_evaluation(facts)` is the only place that says whether a lot is releasable. The lot page,
the evaluation API, QA's review and signing, certificates, allocation, shipping and the bedside
all read its answer, over facts that services/evaluation.py gathers in one place:

- every required test of the pinned specification has a valid, verified result within limits
  (per test the latest valid result counts; a panel takes its best alternative);
- no OOS investigation is open on the lot, nor on a sibling lot (same run or same WCB);
- no deviation is open on the lot or on its run;
- the run stayed within its passage and population-doubling limits and in-process specification;
- the working and master cell banks are qualified and the donor was determined eligible;
- no material lot used for it (in its run, passages or results) is on hold, recalled or rejected,
  and no result of it was measured on an instrument out of calibration on its test date.

A released lot is judged again whenever one of these facts changes (`lookback`): a decision never
outlives its basis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from lotrack.domain.evaluation import Blocker, Evaluation, ResultFact, evaluate
from lotrack.domain.materials import BLOCKING_MATERIAL_STATES
from lotrack.domain.specs import SpecContent
from lotrack.domain.states import Determination, LotState, Qualification
from lotrack.domain.text import N_, Said, said


@dataclass(frozen=True)
class OpenInvestigation:
    number: str
    lot_number: str  # the lot whose result failed: this one, or a sibling
    test_code: str
    phase: str


@dataclass(frozen=True)
class OpenDeviation:
    number: str
    description: str


@dataclass(frozen=True)
class BankFact:
    tier: str
    code: str
    qualification: str


@dataclass(frozen=True)
class RunFlag:
    """A passage past a limit, or an in-process result out of its specification."""

    kind: str  # passage or in-process
    subject: str  # "RUN-2025-03 P11"
    message: str


@dataclass(frozen=True)
class MaterialUsed:
    """A material lot recorded as used in making or testing the lot, and its state now."""

    number: str
    material: str
    state: str


@dataclass(frozen=True)
class InstrumentDoubt:
    """A valid result measured on an instrument that was out of calibration on its test date."""

    result_id: int
    reason: str


@dataclass(frozen=True)
class LotFacts:
    lot_number: str
    spec: SpecContent | None  # the version the lot pinned when it was created
    today: dt.date
    results: tuple[ResultFact, ...] = ()
    investigations: tuple[OpenInvestigation, ...] = ()
    deviations: tuple[OpenDeviation, ...] = ()
    banks: tuple[BankFact, ...] = ()  # the WCB, then its MCB
    donor_code: str | None = None
    donor_determination: str | None = None
    run_flags: tuple[RunFlag, ...] = ()
    warnings: tuple[str, ...] = ()
    materials: tuple[MaterialUsed, ...] = ()
    instrument_doubts: tuple[InstrumentDoubt, ...] = ()


def release_evaluation(f: LotFacts) -> Evaluation:
    """Every test's verdict and every reason the lot may not be released (none: releasable)."""
    label = f"Lot {f.lot_number}"
    others = tuple(_lineage_blockers(f))
    if f.spec is None:
        spec = Blocker(
            "spec", label, said("Lot %(lot)s has no specification pinned.", lot=f.lot_number)
        )
        return Evaluation((), (spec, *others), f.warnings)
    return evaluate(
        f.spec, list(f.results), today=f.today, other_blockers=others, warnings=f.warnings
    )


def bank_blocker(tier: str, code: str, qualification: str) -> Blocker:
    """A cell bank not qualified: it blocks every lot made from it, and a WCB's qualification."""
    return Blocker(
        "bank",
        code,
        said(
            "%(tier)s %(bank)s is %(qualification)s.",
            tier=tier,
            bank=code,
            qualification=Said(str(qualification)),  # a coded word, translated
        ),
    )


def donor_blocker(code: str, determination: str) -> Blocker:
    """A donor not determined eligible: it blocks every lot and bank of theirs."""
    return Blocker(
        "donor",
        code,
        said(
            "Donor %(donor)s is %(determination)s.",
            donor=code,
            determination=Said(str(determination)),
        ),
    )


def release_blockers(f: LotFacts) -> tuple[Blocker, ...]:
    return release_evaluation(f).blockers


def _lineage_blockers(f: LotFacts) -> Iterable[Blocker]:
    for inv in f.investigations:
        yield Blocker(
            "investigation",
            inv.number,
            said(
                "%(number)s (%(test)s) is open, phase %(phase)s.",
                number=inv.number,
                test=inv.test_code,
                phase=inv.phase,
            )
            if inv.lot_number == f.lot_number
            else said(
                "%(number)s on sibling lot %(lot)s (%(test)s) is open, phase %(phase)s.",
                number=inv.number,
                lot=inv.lot_number,
                test=inv.test_code,
                phase=inv.phase,
            ),
        )
    for flag in f.run_flags:
        yield Blocker(flag.kind, flag.subject, flag.message)
    for bank in f.banks:
        if bank.qualification != Qualification.QUALIFIED:
            yield bank_blocker(bank.tier, bank.code, bank.qualification)
    if f.donor_code is not None and f.donor_determination != Determination.ELIGIBLE:
        yield donor_blocker(f.donor_code, f.donor_determination)
    for used in f.materials:
        if used.state in BLOCKING_MATERIAL_STATES:
            yield Blocker(
                "material",
                used.number,
                said(
                    "Material lot %(lot)s (%(material)s) used for this lot is %(state)s.",
                    lot=used.number,
                    material=used.material,
                    state=Said(str(used.state)),
                ),
            )
    for doubt in f.instrument_doubts:
        yield Blocker("instrument", f"result {doubt.result_id}", doubt.reason)
    for dev in f.deviations:
        yield Blocker(
            "deviation",
            dev.number,
            said(
                "Deviation %(number)s is open: %(description)s",
                number=dev.number,
                description=dev.description,
            ),
        )


# What an exceptional release accepts: a test still incomplete (missing, pending or unverified)
# may complete later without a new decision; anything adverse is accepted only as it was named.
INCOMPLETE = frozenset({"missing", "pending", "unverified"})


def _key(kind: str, subject: str) -> tuple[str, str]:
    return ("incomplete" if kind in INCOMPLETE else kind, subject)


def uncovered(
    blockers: Iterable[Blocker], accepted: Iterable[tuple[str, str]]
) -> tuple[Blocker, ...]:
    """The blockers an exceptional release did not accept (`accepted`: its (kind, subject)s)."""
    basis = {_key(kind, subject) for kind, subject in accepted}
    return tuple(b for b in blockers if _key(b.kind, b.subject) not in basis)


VOID_RELEASE = N_("The release signature is void: the lot's record changed after it was signed.")


def lookback(
    state: str,
    blockers: Iterable[Blocker],
    *,
    accepted: Iterable[tuple[str, str]] = (),
    release_signature_void: bool = False,
) -> tuple[str, ...]:
    """Why a lot QA let go must be held now; empty while its decision still stands.

    A RELEASED lot stands only while it is releasable and its release signature is not void; an
    EXCEPTIONALLY RELEASED lot while nothing beyond what its release accepted blocks it.
    """
    if state == LotState.RELEASED:
        reasons = [b.message for b in blockers]
        return (*reasons, VOID_RELEASE) if release_signature_void else tuple(reasons)
    if state == LotState.EXCEPTIONAL_RELEASE:
        return tuple(b.message for b in uncovered(blockers, accepted))
    return ()
