"""What the clinical pages and API read: a patient's whole record, the prescriptions waiting for
units, the units that may be allocated, a bedside check, and the lists of infusions and adverse
events. Read only; site users see their own site only (another site's record is "not found")."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.domain import dose
from lotrack.domain.errors import NotFound
from lotrack.domain.permissions import require
from lotrack.domain.states import USABLE_LOT_STATES, PrescriptionStatus, UnitState
from lotrack.domain.text import N_, said
from lotrack.models import (
    AdverseEvent,
    Allocation,
    BedsideScan,
    FollowUp,
    Infusion,
    Lot,
    Patient,
    Prescription,
    ShipmentUnit,
    Site,
    Unit,
    User,
)
from lotrack.services import clock
from lotrack.services import dose as doses
from lotrack.services.clinical import problems_of, site_scope
from lotrack.services.common import Page, page_of

MAX_ID = 2**63 - 1  # ids are 64-bit: a larger number names no record (and overflows SQLite)


@dataclass
class PrescriptionView:
    rx: Prescription
    allocations: list[Allocation]
    allocated_cells: int
    infused_cells: int
    # The one dose rule over the allocated containers (None: not worked out for this view).
    plan: dose.DosePlan | None = None

    @property
    def covered(self) -> bool:
        """The allocated containers give the dose within tolerance (whole, and the last drawn)."""
        return self.plan is not None and self.plan.ok


@dataclass
class PatientRecord:
    patient: Patient
    problems: list[str]
    prescriptions: list[PrescriptionView]
    infusions: list[Infusion]
    adverse_events: list[AdverseEvent]
    follow_up: FollowUp | None
    scans: list[BedsideScan]
    names: dict[int, str] = field(default_factory=dict)  # user id -> username, for display


def views_of(session: Session, prescriptions: list[Prescription]) -> list[PrescriptionView]:
    """Each prescription with its units, what was infused of it and its dose plan (three
    queries in all)."""
    ids = [rx.id for rx in prescriptions] or [-1]
    allocations = session.scalars(
        select(Allocation)
        .where(Allocation.prescription_id.in_(ids))
        .options(joinedload(Allocation.unit).joinedload(Unit.lot))
        .order_by(Allocation.id)
    ).all()
    infused = dict(
        session.execute(  # type: ignore[arg-type]
            select(
                Infusion.prescription_id,
                func.sum(func.coalesce(Infusion.achieved_cells, Unit.cells)),
            )
            .join(Unit, Infusion.unit_id == Unit.id)
            .where(Infusion.prescription_id.in_(ids))
            .group_by(Infusion.prescription_id)
        ).all()
    )
    containers = doses.containers_by_prescription(session, ids)
    out = []
    for rx in prescriptions:
        mine = [a for a in allocations if a.prescription_id == rx.id]
        cells = sum(a.unit.cells for a in mine)
        plan = doses.plan_of(rx, containers.get(rx.id, ()))
        out.append(PrescriptionView(rx, mine, cells, int(infused.get(rx.id) or 0), plan))
    return out


def patient_record(session: Session, actor: User, patient: Patient) -> PatientRecord:
    """Everything the patient page shows, in a fixed number of queries."""
    require(actor.role, "clinical.read")
    prescriptions = session.scalars(
        select(Prescription).where(Prescription.patient_id == patient.id).order_by(Prescription.id)
    ).all()
    infusions = session.scalars(
        select(Infusion)
        .where(Infusion.patient_id == patient.id)
        .options(
            joinedload(Infusion.unit).joinedload(Unit.lot),
            selectinload(Infusion.operator),
            selectinload(Infusion.witness),
        )
        .order_by(Infusion.started_at)
    ).all()
    events = session.scalars(
        select(AdverseEvent)
        .where(AdverseEvent.patient_id == patient.id)
        .options(selectinload(AdverseEvent.reported_by))
        .order_by(AdverseEvent.onset_on, AdverseEvent.id)
    ).all()
    visit = session.scalar(select(FollowUp).where(FollowUp.patient_id == patient.id))
    scans = session.scalars(
        select(BedsideScan)
        .where(BedsideScan.patient_id == patient.id)
        .order_by(BedsideScan.id.desc())
        .limit(20)
    ).all()
    ids = {i.operator_id for i in infusions} | {i.witness_id for i in infusions}
    ids |= {s.scanned_by_id for s in scans}
    return PatientRecord(
        patient,
        problems_of(patient),
        views_of(session, list(prescriptions)),
        list(infusions),
        list(events),
        visit,
        list(scans),
        usernames(session, ids),
    )


def usernames(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        session.execute(select(User.id, User.username).where(User.id.in_(ids))).all()  # type: ignore[arg-type]
    )


def open_prescriptions(
    session: Session, actor: User, page: int = 1, per_page: int = 50
) -> Page[PrescriptionView]:
    """A page of open prescriptions whose units hold fewer cells than the dose's low bound (a
    last container is drawn from, so more cells may be set aside than given), for the technician
    or QA. The cover is summed in the database, so a page costs the same whatever the history."""
    require(actor.role, "allocation.write")
    # The cells set aside per prescription, summed once in a grouped subquery joined to the
    # open prescriptions (not a correlated sum evaluated again for every row).
    allocated = (
        select(Allocation.prescription_id, func.sum(Unit.cells).label("cells"))
        .join(Unit, Allocation.unit_id == Unit.id)
        .group_by(Allocation.prescription_id)
        .subquery()
    )
    stmt = (
        select(Prescription)
        .outerjoin(allocated, allocated.c.prescription_id == Prescription.id)
        .where(
            Prescription.status == PrescriptionStatus.OPEN,
            # Below the tolerance's low bound: more containers are needed.
            func.coalesce(allocated.c.cells, 0)
            < Prescription.cells_needed * (1 - Prescription.tolerance),
        )
        .options(joinedload(Prescription.patient).joinedload(Patient.site))
        .order_by(Prescription.planned_on, Prescription.id)
    )
    rows = page_of(session, stmt, page, per_page)
    return Page(views_of(session, rows.items), rows.page, rows.per_page, rows.total)


def available_units(session: Session, actor: User) -> list[Unit]:
    """Units that may be allocated: of a released lot, unexpired, stored, and not set aside."""
    require(actor.role, "allocation.write")
    # An anti-join on allocation's unique unit index, row by row, instead of `NOT IN` over
    # every allocated unit built afresh for each request.
    taken = select(Allocation.id).where(Allocation.unit_id == Unit.id).exists()
    return list(
        session.scalars(
            select(Unit)
            .join(Lot, Unit.lot_id == Lot.id)
            .where(
                Lot.state.in_([s.value for s in USABLE_LOT_STATES]),
                # Usable to the end of its expiry date in the facility's zone (services/clock.py).
                Lot.expires_on >= clock.today(session),
                Unit.state == UnitState.STORED,
                ~taken,
            )
            .options(joinedload(Unit.lot))
            .order_by(Lot.expires_on, Unit.din)
            .limit(200)
        )
    )


def get_scan(session: Session, actor: User, scan_id: int) -> BedsideScan:
    """A bedside check of the reader's site."""
    require(actor.role, "clinical.read")
    scan = session.get(BedsideScan, scan_id) if 0 < scan_id <= MAX_ID else None
    scope = site_scope(actor)
    if scan is None or (scope is not None and scan.site_id != scope):
        raise NotFound(
            said("No bedside check %(id)s at your site.", id=scan_id),
            {"scan_id": N_("no such check")},
        )
    return scan


def _scoped(actor: User, stmt: Select, patient_column: object) -> Select:  # type: ignore[type-arg]
    scope = site_scope(actor)
    if scope is None:
        return stmt
    return stmt.join(Patient, patient_column == Patient.id).where(Patient.site_id == scope)


def list_infusions(session: Session, actor: User, page: int, per_page: int) -> Page[Infusion]:
    require(actor.role, "clinical.read")
    stmt = select(Infusion).options(
        joinedload(Infusion.unit).joinedload(Unit.lot),
        joinedload(Infusion.patient),
        selectinload(Infusion.operator),
        selectinload(Infusion.witness),
    )
    stmt = _scoped(actor, stmt, Infusion.patient_id).order_by(Infusion.started_at.desc())
    return page_of(session, stmt, page, per_page)


def list_adverse_events(
    session: Session, actor: User, page: int, per_page: int
) -> Page[AdverseEvent]:
    require(actor.role, "clinical.read")
    stmt = select(AdverseEvent).options(
        joinedload(AdverseEvent.patient),
        selectinload(AdverseEvent.infusion),
        selectinload(AdverseEvent.reported_by),
    )
    stmt = _scoped(actor, stmt, AdverseEvent.patient_id).order_by(
        AdverseEvent.onset_on.desc(), AdverseEvent.id.desc()
    )
    return page_of(session, stmt, page, per_page)


def list_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.code)))


@dataclass(frozen=True)
class ToShip:
    unit: Unit
    patient: str  # wristband
    site: str  # code


def units_to_ship(session: Session, actor: User) -> list[ToShip]:
    """Allocated units not yet shipped, with the site of the patient they are for (one query)."""
    require(actor.role, "shipment.send")
    rows = session.execute(
        select(Unit, Patient.wristband, Site.code)
        .join(Allocation, Allocation.unit_id == Unit.id)
        .join(Prescription, Allocation.prescription_id == Prescription.id)
        .join(Patient, Prescription.patient_id == Patient.id)
        .join(Site, Patient.site_id == Site.id)
        .where(
            Unit.state == UnitState.STORED,
            ~select(ShipmentUnit.unit_id).where(ShipmentUnit.unit_id == Unit.id).exists(),
        )
        .options(joinedload(Unit.lot))
        .order_by(Site.code, Unit.din)
        .limit(200)
    )
    return [ToShip(unit, wristband, code) for unit, wristband, code in rows]
