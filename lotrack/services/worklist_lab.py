"""The laboratory's worklist: lots with results to enter (missing or pending) and results to
verify (entered by someone else); and each quarantined lot's state of work, which QA's worklist
reads too (services/worklist_qa.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.domain.specs import Verdict
from lotrack.domain.states import (
    LotState,
)
from lotrack.domain.text import N_, said
from lotrack.models import (
    CellBank,
    Lot,
    Passage,
    ProductionRun,
    Result,
    SpecVersion,
    User,
)
from lotrack.services import specs
from lotrack.services.worklist import SAMPLE, Entry, Item, Link, count

QUARANTINED = Lot.state == LotState.QUARANTINE.value
STANDING = Result.invalidated_at.is_(None)  # a result invalidated (or corrected) counts no more


@dataclass
class LotWork:
    """What a quarantined lot still needs from the laboratory."""

    lot_number: str
    missing: int = 0  # required tests without a standing result
    pending: int = 0  # standing results still pending (an incubation)
    unverified: int = 0  # standing results no second person has verified
    entered: int = 0

    @property
    def to_enter(self) -> bool:
        return bool(self.missing or self.pending)

    @property
    def ready(self) -> bool:
        """Every required result in, final and verified: the lot waits on QA's review."""
        return self.entered > 0 and not (self.missing or self.pending or self.unverified)


def quarantined_work(session: Session) -> list[LotWork]:
    """Each quarantined lot's missing, pending and unverified results (three queries: the lots,
    their standing results, the specifications they pinned)."""
    lots = session.execute(
        select(Lot.id, Lot.lot_number, Lot.spec_version_id)
        .where(QUARANTINED)
        .order_by(Lot.lot_number)
    ).all()
    rows = session.execute(
        select(Result.lot_id, Result.test_code, Result.verdict, Result.verified_by_id)
        .join(Lot, Result.lot_id == Lot.id)
        .where(QUARANTINED, STANDING)
    ).all()
    ids = {v for _i, _n, v in lots if v is not None}
    required = {
        v.id: [t.code for t in specs.content_of(v).tests if t.required]
        for v in session.scalars(select(SpecVersion).where(SpecVersion.id.in_(ids or {-1})))
    }
    entered: dict[int, set[str]] = defaultdict(set)
    work = {i: LotWork(number) for i, number, _v in lots}
    for lot_id, code, verdict, verified_by in rows:
        w = work[lot_id]
        entered[lot_id].add(code)
        w.entered += 1
        if verdict == Verdict.PENDING:
            w.pending += 1
        elif verified_by is None:
            w.unverified += 1
    for i, _number, version in lots:
        work[i].missing = len(set(required.get(version, [])) - entered[i])
    return list(work.values())


def _lot_detail(w: LotWork) -> str:
    if w.missing and w.pending:
        return said(
            "missing: %(missing)s, pending: %(pending)s", missing=w.missing, pending=w.pending
        )
    if w.missing:
        return said("missing: %(n)s", n=w.missing)
    return said("pending: %(n)s", n=w.pending)


def technician(session: Session, actor: User) -> list[Item]:
    """Results to enter (lots missing or pending results) and results to verify (others')."""
    to_enter = [w for w in quarantined_work(session) if w.to_enter]
    return [
        Item(
            "results_to_enter",
            N_("Lots with results to enter"),
            len(to_enter),
            Link.to("lot.list_lots", state=LotState.QUARANTINE.value),
            [
                Entry(
                    w.lot_number, _lot_detail(w), Link.to("lot.show_lot", lot_number=w.lot_number)
                )
                for w in to_enter[:SAMPLE]
            ],
        ),
        to_verify(session, actor),
    ]


def to_verify(session: Session, actor: User) -> Item:
    """Final results another person entered that no one has verified yet (four eyes)."""
    waiting = (
        STANDING,
        Result.verified_by_id.is_(None),
        Result.verdict != Verdict.PENDING,
        Result.analyst_id != actor.id,
    )
    groups = session.execute(
        select(Lot.lot_number, CellBank.code, ProductionRun.code, Passage.number, func.count())
        .select_from(Result)
        .outerjoin(Lot, Result.lot_id == Lot.id)
        .outerjoin(CellBank, Result.bank_id == CellBank.id)
        .outerjoin(Passage, Result.passage_id == Passage.id)
        .outerjoin(ProductionRun, Passage.run_id == ProductionRun.id)
        .where(*waiting)
        .group_by(Lot.lot_number, CellBank.code, ProductionRun.code, Passage.number)
        .order_by(func.min(Result.id))
        .limit(SAMPLE)
    ).all()
    entries = []
    for lot_number, bank, run, passage, n in groups:
        detail = said("unverified: %(n)s", n=n)
        if lot_number:
            entries.append(
                Entry(lot_number, detail, Link.to("lot.show_lot", lot_number=lot_number))
            )
        elif bank:
            entries.append(Entry(bank, detail, Link.to("cellbank.show_bank", code=bank)))
        else:
            label = f"{run} P{passage}"
            entries.append(Entry(label, detail, Link.to("production.show_run", code=run)))
    return Item(
        "results_to_verify",
        N_("Results to verify (entered by others)"),
        count(session, Result, *waiting),
        Link.to("lot.list_lots", state=LotState.QUARANTINE.value),
        entries,
    )
