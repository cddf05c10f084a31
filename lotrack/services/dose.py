"""The facts the dose rule (domain/dose.py) judges, gathered in one place: a prescription's
containers in allocation order, each with its cells and volume as recorded on the unit, its lot's
endotoxin result, and the volume given when it was infused already."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
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


# Built once: the bedside check runs it on every scan of an allocated unit, and a prebuilt
# statement (plain columns, no Unit objects) skips rebuilding its cache key and loading objects.
_CONTAINERS = (
    select(
        Allocation.prescription_id,
        Unit.din,
        Unit.cells,
        Unit.volume_ml,
        Infusion.id,
        Infusion.volume_ml,
        _endotoxin(Unit.lot_id),
    )
    .join(Unit, Unit.id == Allocation.unit_id)
    .outerjoin(Infusion, Infusion.unit_id == Unit.id)
    .where(Allocation.prescription_id.in_(bindparam("rx_ids", expanding=True)))
    .order_by(Allocation.id)
)


def containers_by_prescription(
    session: Session, rx_ids: Iterable[int]
) -> dict[int, tuple[dose.Container, ...]]:
    """Each prescription's allocated containers in allocation order, in one statement. An
    infusion recorded before revision 0021 without a volume gave the unit whole (units were
    given whole then)."""
    ids = list(rx_ids)
    out: dict[int, tuple[dose.Container, ...]] = {i: () for i in ids}
    if not ids:
        return out
    rows = session.execute(_CONTAINERS, {"rx_ids": ids})
    for rx_id, din, cells, volume, infusion, ml, value in rows:
        given = (ml if ml is not None else Decimal(volume)) if infusion else None
        out[rx_id] += (_container(din, cells, volume, value, given),)
    return out


def _container(
    din: str, cells: int, volume_ml: Decimal, endotoxin: str | None, given: Decimal | None
) -> dose.Container:
    eu = dose.eu_per_ml(endotoxin) if endotoxin is not None else None
    return dose.Container(din, cells, Decimal(volume_ml), eu, given)


def containers_of(
    session: Session, rx: Prescription | int | None, extra: Iterable[Unit] = ()
) -> tuple[dose.Container, ...]:
    """The prescription's allocated containers in allocation order, then `extra` (units about to
    be allocated, not yet infused)."""
    rx_id = rx.id if isinstance(rx, Prescription) else rx
    have = containers_by_prescription(session, [rx_id])[rx_id] if rx_id is not None else ()
    extra = list(extra)
    if not extra:
        return have
    lots = {u.lot_id for u in extra}
    found = session.execute(select(Lot.id, _endotoxin(Lot.id)).where(Lot.id.in_(lots)))
    eu = {lot_id: value for lot_id, value in found}
    return have + tuple(
        _container(u.din, u.cells, u.volume_ml, eu.get(u.lot_id), None) for u in extra
    )


def plan_of(rx: Prescription, containers: tuple[dose.Container, ...]) -> dose.DosePlan:
    """The one dose rule for the prescription over these containers."""
    return dose.plan(rx.cells_needed, Decimal(rx.tolerance), Decimal(rx.weight_kg), containers)


def plan_for(
    session: Session, rx: Prescription, extra: Iterable[Unit] = ()
) -> tuple[dose.DosePlan, tuple[dose.Container, ...]]:
    """The one dose rule over the prescription's containers (and `extra`)."""
    containers = containers_of(session, rx, extra)
    return plan_of(rx, containers), containers


def plan_of_unit(session: Session, unit_id: int) -> tuple[dose.DosePlan | None, dose.Draw | None]:
    """The dose plan of the prescription a unit is allocated to, and the unit's draw in it:
    what the nurse's page shows and prints (None, None: not allocated)."""
    rx = session.scalar(
        select(Prescription)
        .join(Allocation, Allocation.prescription_id == Prescription.id)
        .where(Allocation.unit_id == unit_id)
    )
    unit = session.get(Unit, unit_id)
    if rx is None or unit is None:
        return None, None
    plan, _containers = plan_for(session, rx)
    return plan, plan.draw_for(unit.din) if plan.ok else None
