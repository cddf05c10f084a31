"""Whether a shipment's units are held by a cold-chain excursion QA has not released: the one
expression every gatherer of a unit's facts (services/lot.py, services/bedside.py) reads."""

from __future__ import annotations

from sqlalchemy import ColumnElement, ScalarSelect, or_, select
from sqlalchemy.orm import Session

from lotrack.domain.cold_chain import ExcursionOutcome
from lotrack.models import ColdChainLog, ExcursionDecision, Shipment, ShipmentUnit


def excursion_open(shipment_id: ColumnElement[int]) -> ScalarSelect[int]:
    """The id of the shipment's logger record when it shows an excursion not released by QA
    (None otherwise), correlated to `shipment_id`. A rejection keeps the hold (its units are
    destroyed besides)."""
    return (
        select(ColdChainLog.id)
        .outerjoin(ExcursionDecision, ExcursionDecision.log_id == ColdChainLog.id)
        .where(
            ColdChainLog.shipment_id == shipment_id,
            ColdChainLog.excursion.is_(True),
            or_(
                ExcursionDecision.id.is_(None),
                ExcursionDecision.outcome != ExcursionOutcome.RELEASED,
            ),
        )
        .limit(1)
        .scalar_subquery()
    )


def held_by_excursion(session: Session, unit_id: int) -> str | None:
    """The number of the unit's shipment while an excursion on it holds the unit, else None."""
    return session.scalar(
        select(Shipment.number)
        .join(ShipmentUnit, ShipmentUnit.shipment_id == Shipment.id)
        .where(ShipmentUnit.unit_id == unit_id, excursion_open(Shipment.id).is_not(None))
    )
