"""The facts the dose rule (domain/dose.py) judges, gathered in one place: a prescription's
containers in allocation order, each with its cells and volume as recorded on the unit, its lot's
endotoxin result, and the volume given when it was infused already."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain import dose
from lotrack.models import Allocation, Infusion, Lot, Prescription, Result, Unit

ENDOTOXIN = "ENDOTOXIN"  # the release specification's test code (specs/cfmsc-release.toml)


def _endotoxin(lot_id: Any) -> Any:
    """The value of the lot's latest valid endotoxin result, as a correlated subquery."""
    return (
        select(Result.value)
        .where(
            Result.lot_id == lot_id,
            Result.test_code == ENDOTOXIN,
            Result.invalidated_at.is_(None),
        )
        .order_by(Result.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def containers_of(
    session: Session, rx: Prescription | int | None, extra: Iterable[Unit] = ()
) -> tuple[dose.Container, ...]:
    """The prescription's allocated containers in allocation order, then `extra` (units about to
    be allocated). An infusion recorded before revision 0021 without a volume gave the unit
    whole (units were given whole then)."""
    rx_id = rx.id if isinstance(rx, Prescription) else rx
    extra = list(extra)
    rows = list(
        session.execute(
            select(Unit, Infusion.id, Infusion.volume_ml, _endotoxin(Unit.lot_id))
            .join(Allocation, Allocation.unit_id == Unit.id)
            .outerjoin(Infusion, Infusion.unit_id == Unit.id)
            .where(Allocation.prescription_id == rx_id)
            .order_by(Allocation.id)
        )
        if rx_id is not None
        else []
    )
    if extra:  # units about to be allocated: their lots' endotoxin
        lots = {u.lot_id for u in extra}
        found = session.execute(select(Lot.id, _endotoxin(Lot.id)).where(Lot.id.in_(lots)))
        eu = {lot_id: value for lot_id, value in found}
        rows += [(u, None, None, eu.get(u.lot_id)) for u in extra]
    return tuple(
        dose.Container(
            u.din,
            u.cells,
            Decimal(u.volume_ml),
            dose.eu_per_ml(value) if value is not None else None,
            (ml if ml is not None else Decimal(u.volume_ml)) if infusion else None,
        )
        for u, infusion, ml, value in rows
    )


def plan_for(
    session: Session, rx: Prescription, extra: Iterable[Unit] = ()
) -> tuple[dose.DosePlan, tuple[dose.Container, ...]]:
    """The one dose rule over the prescription's containers (and `extra`)."""
    containers = containers_of(session, rx, extra)
    plan = dose.plan(rx.cells_needed, Decimal(rx.tolerance), Decimal(rx.weight_kg), containers)
    return plan, containers
