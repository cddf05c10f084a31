"""QA's worklist: held lots (the needs-decision queue, first), lookback holds and voided release
signatures, lots ready for review, open OOS investigations and deviations, certificates to
issue."""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from lotrack.domain.decisions import Action
from lotrack.domain.release import VOID_RELEASE
from lotrack.domain.states import (
    USABLE_LOT_STATES,
    ContainmentKind,
    DeviationStatus,
    InvestigationStatus,
    LotState,
)
from lotrack.domain.text import N_, said
from lotrack.models import (
    Certificate,
    Containment,
    ContainmentLot,
    Deviation,
    Investigation,
    Lot,
    ProductionRun,
    Signature,
    User,
)
from lotrack.services import decisions
from lotrack.services.worklist import SAMPLE, Entry, Item, Link, count
from lotrack.services.worklist_lab import quarantined_work


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
