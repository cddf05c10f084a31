"""The laboratory's and QA's worklists: results to enter and to verify, lots ready for review,
holds, open investigations and deviations, voided release signatures, certificates to issue."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from lotrack.domain.decisions import Action
from lotrack.domain.release import VOID_RELEASE
from lotrack.domain.specs import Verdict
from lotrack.domain.states import (
    USABLE_LOT_STATES,
    ContainmentKind,
    DeviationStatus,
    InvestigationStatus,
    LotState,
)
from lotrack.domain.text import N_, said
from lotrack.models import (
    CellBank,
    Certificate,
    Containment,
    ContainmentLot,
    Deviation,
    Investigation,
    Lot,
    Passage,
    ProductionRun,
    Result,
    Signature,
    SpecVersion,
    User,
)
from lotrack.services import decisions, specs
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


def qa(session: Session, actor: User) -> list[Item]:
    """QA's decisions waiting: held lots first (the needs-decision queue), then the rest."""
    held = decisions.needs_decision(session, 1, SAMPLE)
    ready = [w for w in quarantined_work(session) if w.ready]
    return [
        Item(
            "needs_decision",
            N_("Lots on hold awaiting a decision"),
            held.total,
            Link.to("lot.list_lots", state=LotState.ON_HOLD.value),
            [
                Entry(h.lot_number, h.hold.number if h.hold else "—", _review(h.lot_number))
                for h in held.items
            ],
        ),
        _latest_holds(session, "lookback_holds", N_("Lookback holds"), None),
        _latest_holds(session, "signatures_voided", N_("Release signatures voided"), VOID_RELEASE),
        Item(
            "lots_awaiting_review",
            N_("Lots awaiting review (every result in and verified)"),
            len(ready),
            Link.to("lot.list_lots", state=LotState.QUARANTINE.value),
            [
                Entry(w.lot_number, said("results: %(n)s", n=w.entered), _review(w.lot_number))
                for w in ready[:SAMPLE]
            ],
        ),
        _open_investigations(session),
        _open_deviations(session),
        _certificates_to_issue(session),
    ]


def _review(lot_number: str) -> Link:
    return Link.to("release.review", lot_number=lot_number)


def _latest_holds(session: Session, kind: str, title: str, reason: str | None) -> Item:
    """Lots on hold whose latest hold is a lookback (whose reasons include `reason`, if given:
    lookback writes the void release signature's sentence into the hold's reason)."""
    latest = (
        select(ContainmentLot.lot_id, func.max(ContainmentLot.containment_id).label("hold_id"))
        .where(ContainmentLot.to_state == LotState.ON_HOLD.value)
        .group_by(ContainmentLot.lot_id)
        .subquery()
    )
    where = [
        Lot.state == LotState.ON_HOLD.value,
        Containment.kind == ContainmentKind.LOOKBACK.value,
    ]
    if reason is not None:
        where.append(Containment.reason.contains(reason, autoescape=True))
    stmt = (
        select(Lot.lot_number, Containment.number)
        .join(latest, latest.c.lot_id == Lot.id)
        .join(Containment, Containment.id == latest.c.hold_id)
        .where(*where)
    )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(Containment.id).limit(SAMPLE)).all()
    return Item(
        kind,
        title,
        total,
        Link.to("containment.list_containments"),
        [Entry(lot, number, _review(lot)) for lot, number in rows],
    )


def _open_investigations(session: Session) -> Item:
    is_open = Investigation.status == InvestigationStatus.OPEN.value
    rows = session.execute(
        select(Investigation.number, Lot.lot_number)
        .join(Lot, Investigation.lot_id == Lot.id)
        .where(is_open)
        .order_by(Investigation.opened_at, Investigation.id)
        .limit(SAMPLE)
    ).all()
    return Item(
        "open_investigations",
        N_("Open OOS investigations"),
        count(session, Investigation, is_open),
        Link.to("investigation.list_investigations", status="open"),
        [
            Entry(
                n,
                said("lot %(lot)s", lot=lot),
                Link.to("investigation.show_investigation", number=n),
            )
            for n, lot in rows
        ],
    )


def _open_deviations(session: Session) -> Item:
    is_open = Deviation.status == DeviationStatus.OPEN.value
    rows = session.execute(
        select(Deviation.number, Lot.lot_number, ProductionRun.code)
        .outerjoin(Lot, Deviation.lot_id == Lot.id)
        .outerjoin(ProductionRun, Deviation.run_id == ProductionRun.id)
        .where(is_open)
        .order_by(Deviation.opened_at, Deviation.id)
        .limit(SAMPLE)
    ).all()
    return Item(
        "open_deviations",
        N_("Open deviations"),
        count(session, Deviation, is_open),
        Link.to("deviation.list_deviations", status="open"),
        [
            Entry(
                n,
                said("lot %(lot)s", lot=lot) if lot else said("run %(run)s", run=run),
                Link.to("deviation.show_deviation", number=n),
            )
            for n, lot, run in rows
        ],
    )


# The signed decisions a certificate must postdate: the lot's latest release of any kind.
RELEASING = (Action.RELEASE.value, Action.UNHOLD.value, Action.EXCEPTIONAL_RELEASE.value)


def _certificates_to_issue(session: Session) -> Item:
    """Released lots without a current certificate issued since their latest releasing
    decision (a certificate from before a hold was lifted no longer states the lot's basis)."""
    decided = (
        select(func.max(Signature.signed_at))
        .where(Signature.lot_id == Lot.id, Signature.action.in_(RELEASING))
        .scalar_subquery()
    )
    current = exists().where(
        Certificate.lot_id == Lot.id,
        Certificate.superseded_by_id.is_(None),
        Certificate.issued_at >= func.coalesce(decided, Certificate.issued_at),
    )
    where = (Lot.state.in_([s.value for s in USABLE_LOT_STATES]), ~current)
    rows = session.scalars(
        select(Lot.lot_number).where(*where).order_by(Lot.lot_number).limit(SAMPLE)
    ).all()
    return Item(
        "certificates_to_issue",
        N_("Certificates to issue"),
        count(session, Lot, *where),
        Link.to("lot.list_lots", state=LotState.RELEASED.value),
        [
            Entry(
                n,
                said("released, no current certificate"),
                Link.to("documents.lot_documents", lot_number=n),
            )
            for n in rows
        ],
    )
