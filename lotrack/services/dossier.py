"""The lot dossier: the facts a QA signature vouches for, in canonical form, and its SHA-256.

It holds what the decision rests on (lineage, specification version, every result and its review,
investigations, deviations, units) and not the lot's state, which the decisions themselves change:
recalling a lot must not void the signature that released it, but a result added afterwards must.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from lotrack.models import (
    CellBank,
    Clone,
    Deviation,
    Investigation,
    Lot,
    Passage,
    ProductionRun,
    Result,
    Unit,
    User,
)
from lotrack.services.audit import canonical, plain


def lot_passages(lot: Lot) -> list[Passage]:
    """The passages of the lot's run harvested by the lot's harvest: those that made it."""
    return [p for p in lot.run.passages if p.harvested_on <= lot.harvested_on]


def _lot(session: Session, lot_id: int) -> Lot:
    return session.scalars(
        select(Lot)
        .where(Lot.id == lot_id)
        .options(
            joinedload(Lot.spec_version),
            selectinload(Lot.units),
            joinedload(Lot.run).selectinload(ProductionRun.passages),
            joinedload(Lot.run)
            .joinedload(ProductionRun.bank)
            .joinedload(CellBank.parent)
            .joinedload(CellBank.clone)
            .joinedload(Clone.donor),
        )
    ).one()


def dossier(session: Session, lot: Lot) -> dict[str, Any]:
    lot = _lot(session, lot.id)
    run, wcb = lot.run, lot.run.bank
    mcb = wcb.parent
    donor = mcb.clone.donor if mcb is not None and mcb.clone is not None else None
    # Names read by join, not through Result.verified_by: a relationship loaded before a
    # verification in the same session would still say None and the hash would miss the change.
    analyst, verifier = aliased(User), aliased(User)
    results = session.execute(
        select(Result, analyst.username, verifier.username)
        .join(analyst, Result.analyst_id == analyst.id)
        .outerjoin(verifier, Result.verified_by_id == verifier.id)
        .where(Result.lot_id == lot.id)
        .order_by(Result.id)
    ).all()
    investigations = session.scalars(
        select(Investigation).where(Investigation.lot_id == lot.id).order_by(Investigation.id)
    ).all()
    deviations = session.scalars(
        select(Deviation)
        .where(or_(Deviation.lot_id == lot.id, Deviation.run_id == run.id))
        .order_by(Deviation.id)
    ).all()
    return {
        "lot": {
            "lot_number": lot.lot_number,
            "harvested_on": plain(lot.harvested_on),
            "expires_on": plain(lot.expires_on),
            "spec": lot.spec_version.content_hash if lot.spec_version else None,
        },
        "lineage": {
            "donor": [donor.code, donor.determination] if donor else None,
            "mcb": [mcb.code, mcb.qualification] if mcb else None,
            "wcb": [wcb.code, wcb.qualification],
            "run": run.code,
            "passages": [
                [p.number, p.cells_seeded, p.cells_harvested, plain(p.harvested_on)]
                for p in lot_passages(lot)  # a later passage of the run is not this lot's
            ],
        },
        "units": [
            [u.din, u.container, u.cells, plain(u.volume_ml)]
            for u in sorted(lot.units, key=lambda u: u.din)
        ],
        "results": [
            {
                "id": r.id,
                "test": r.analyte,
                "value": r.value,
                "unit": r.unit,
                "verdict": r.verdict,
                "performed_on": plain(r.performed_on),
                "analyst": analyst_name,
                "verified_by": verifier_name,
                "invalidated": plain(r.invalidated_at),
                "replaces": r.replaces_id,
            }
            for r, analyst_name, verifier_name in results
        ],
        "investigations": [[i.number, i.result_id, i.status, i.conclusion] for i in investigations],
        "deviations": [[d.number, d.status, d.impact_assessment] for d in deviations],
    }


def dossier_hash(session: Session, lot: Lot) -> str:
    return hashlib.sha256(canonical(dossier(session, lot)).encode()).hexdigest()


def units_of(session: Session, lot_ids: list[int]) -> list[Unit]:
    return list(
        session.scalars(
            select(Unit).where(Unit.lot_id.in_(lot_ids)).order_by(Unit.lot_id, Unit.din)
        )
    )
