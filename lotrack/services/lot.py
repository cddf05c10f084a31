"""Drug-product lots harvested from a run, and the units filled from them with their DINs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from lotrack.db import utcnow
from lotrack.domain import isbt128
from lotrack.domain.distribution import Reason, UnitFacts, unit_reasons
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.specs import Stage
from lotrack.domain.states import UNIT_TRANSITIONS, Container, LotState, UnitState
from lotrack.domain.text import N_, Said, said
from lotrack.models import DinSequence, Lot, ProductionRun, Unit, User
from lotrack.services import audit, clock, exceptional, specs
from lotrack.services.cold_chain_facts import held_by_excursion
from lotrack.services.common import Page, check_code, norm, page_of, sentences
from lotrack.services.numbering import issue

MAX_UNITS_PER_FILL = 500


def get_lot(session: Session, lot_number: str) -> Lot:
    lot = session.scalar(
        select(Lot).where(Lot.lot_number == norm(lot_number)).options(selectinload(Lot.units))
    )
    if lot is None:
        raise NotFound(
            said("No lot %(lot)s.", lot=lot_number), {"lot": said("no lot %(lot)s", lot=lot_number)}
        )
    return lot


def list_lots(
    session: Session, page: int = 1, per_page: int = 50, state: str | None = None
) -> Page[Lot]:
    stmt = (
        select(Lot)
        .order_by(Lot.created_at.desc(), Lot.lot_number)
        .options(selectinload(Lot.units), joinedload(Lot.run))
    )
    if state:
        stmt = stmt.where(Lot.state == state)
    return page_of(session, stmt, page, per_page)


def read_din(text: str, field: str = "din") -> str:
    """One DIN as typed or scanned: 13 characters (spaces allowed), with its check character, or
    an ISBT 128 001 bar code with its flags; refused, naming `field`, when it is not a DIN, when
    its check character or type 3 flags contradict it, or when it is the label's other code."""
    parsed = isbt128.parse_din(text)
    if not parsed.valid:
        reason = parsed.reason if isinstance(parsed.reason, Said) else Said(parsed.reason)
        raise ValidationFailed(
            said("%(din)s is not a valid DIN: %(reason)s.", din=text.strip(), reason=reason),
            {field: reason},
        )
    return parsed.din


def read_dins(texts: Iterable[str], field: str = "units") -> list[str]:
    """Each non-blank entry of a list of DINs as typed or scanned (read_din), in order."""
    return [read_din(text, field) for text in texts if text.strip()]


def get_unit(session: Session, din: str) -> Unit:
    parsed = isbt128.parse_din(din)
    unit = session.scalar(select(Unit).where(Unit.din == parsed.din)) if parsed.valid else None
    if unit is None:
        raise NotFound(
            said("No unit with DIN %(din)s.", din=din),
            {"din": parsed.reason or N_("no such unit")},
        )
    return unit


def register_lot(
    session: Session,
    actor: User,
    *,
    run_code: str,
    harvested_on: dt.date,
    expires_on: dt.date,
    lot_number: str | None = None,
) -> Lot:
    """A lot harvested from a run with at least one passage; it starts in QUARANTINE."""
    require(actor.role, "manufacturing.write")
    run = session.scalar(
        select(ProductionRun)
        .where(ProductionRun.code == norm(run_code))
        .options(selectinload(ProductionRun.passages))
    )
    fields: dict[str, str] = {}
    if run is None:
        raise ValidationFailed(
            said("No production run %(run)s.", run=run_code),
            {"run": said("no run %(run)s", run=run_code)},
        )
    if not run.passages:
        fields["run"] = said("run %(run)s has no passage recorded yet", run=run_code)
    elif harvested_on < run.passages[-1].harvested_on:
        fields["harvested_on"] = said(
            "before the last passage's harvest (%(date)s)", date=run.passages[-1].harvested_on
        )
    if expires_on <= harvested_on:
        fields["expires_on"] = N_("must be after the harvest date")
    if fields:
        raise ValidationFailed(N_("The lot cannot be registered."), fields)
    if lot_number:
        lot_number = check_code(lot_number, "lot_number")
    else:
        lot_number = _next_lot_number(session, harvested_on.year)
    if session.scalar(select(func.count()).where(Lot.lot_number == lot_number)):
        raise Conflict(
            said("Lot %(lot)s exists already.", lot=lot_number), {"lot_number": N_("already used")}
        )
    lot = Lot(
        lot_number=lot_number,
        run=run,
        state=LotState.QUARANTINE,
        harvested_on=harvested_on,
        expires_on=expires_on,
        spec_version=specs.require_effective(session, run.product, Stage.RELEASE),
    )
    audit.created(session, actor, lot)
    return lot


def _next_lot_number(session: Session, year: int) -> str:
    return issue(session, "CFM", year, Lot.lot_number, 4)


def next_din(session: Session, facility_id: str, year: int) -> str:
    """Issue the next DIN for a facility and year; a guarded increment, safe between writers."""
    yy = year % 100
    for _ in range(3):
        last = session.execute(
            update(DinSequence)
            .where(DinSequence.facility_id == facility_id, DinSequence.year == yy)
            .values(last=DinSequence.last + 1)
            .returning(DinSequence.last)
        ).scalar()
        if last is not None:
            return isbt128.make_din(facility_id, yy, last)
        try:
            with session.begin_nested():
                session.execute(
                    insert(DinSequence).values(facility_id=facility_id, year=yy, last=1)
                )
            return isbt128.make_din(facility_id, yy, 1)
        except IntegrityError:
            continue  # another writer created the row first: increment it
    raise Conflict(N_("Could not issue a DIN: the sequence is busy. Try again."))


def fill_units(
    session: Session,
    actor: User,
    lot: Lot,
    *,
    container: str,
    count: int,
    cells_per_unit: int,
    volume_ml: Decimal,
    facility_id: str,
    freezer: str | None = None,
    rack: str | None = None,
    box: str | None = None,
) -> list[Unit]:
    """Fill `count` units from a quarantined lot; each gets a DIN with its MOD 37-2 check."""
    require(actor.role, "manufacturing.write")
    fields: dict[str, str] = {}
    if container not in {c.value for c in Container}:
        fields["container"] = N_("bag or vial")
    if not 1 <= count <= MAX_UNITS_PER_FILL:
        fields["count"] = said("between 1 and %(max)s", max=MAX_UNITS_PER_FILL)
    if cells_per_unit <= 0:
        fields["cells_per_unit"] = N_("must be greater than zero")
    if volume_ml <= 0:
        fields["volume_ml"] = N_("must be greater than zero")
    if fields:
        raise ValidationFailed(N_("The units cannot be filled."), fields)
    if lot.state != LotState.QUARANTINE:
        raise Conflict(
            said(
                "Lot %(lot)s is %(state)s; units are filled only in QUARANTINE.",
                lot=lot.lot_number,
                state=Said(str(lot.state)),  # a coded word, translated
            ),
            {"lot": said("is %(state)s", state=Said(str(lot.state)))},
        )
    year = utcnow().year
    units = []
    for _ in range(count):
        din = next_din(session, facility_id, year)
        unit = Unit(
            din=din,
            check_character=isbt128.check_character(din),
            lot=lot,
            container=container,
            cells=cells_per_unit,
            volume_ml=volume_ml,
            freezer=freezer or None,
            rack=rack or None,
            box=box or None,
        )
        audit.created(session, actor, unit)
        units.append(unit)
    return units


def move_unit(session: Session, actor: User, unit: Unit, target: UnitState, *, reason: str) -> None:
    """Move a unit to `target` from the state it may come from, as a guarded update: of two
    requests moving the same unit at once, one succeeds and the other gets a Conflict (409)."""
    sources = [s.value for s, targets in UNIT_TRANSITIONS.items() if target in targets]
    current = session.scalar(select(Unit.state).where(Unit.id == unit.id))
    done = session.execute(
        update(Unit)
        .where(Unit.id == unit.id, Unit.state.in_(sources))
        .values(state=target.value)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.expire(unit, ["state"])
        now = session.scalar(select(Unit.state).where(Unit.id == unit.id))
        raise Conflict(
            said(
                "Unit %(din)s is %(state)s; it cannot become %(target)s.",
                din=unit.din,
                state=str(now).replace("_", " "),
                target=target.value.replace("_", " "),
            ),
            {"din": said("is %(state)s", state=Said(str(now)))},
        )
    session.expire(unit, ["state"])
    audit.event(
        session,
        actor,
        "unit_" + target.value,
        unit,
        transitions={"state": (current, target.value)},
        reason=reason,
    )


def unit_facts(session: Session, unit: Unit) -> UnitFacts:
    """The one plain value domain/distribution.py judges a unit by, gathered here only: its lot's
    state and expiry, its own state, and for a lot released by exception the patient it is for
    and what is still missing before its units may go to them."""
    lot = unit.lot
    terms = (
        exceptional.terms_of(session, lot)
        if lot.state == LotState.EXCEPTIONAL_RELEASE
        else exceptional.Terms(None, ())
    )
    return UnitFacts(
        din=unit.din,
        lot_number=lot.lot_number,
        lot_state=lot.state,
        expires_on=lot.expires_on,
        unit_state=unit.state,
        exceptional_patient_id=terms.patient_id,
        exceptional_problems=terms.problems,
        cold_chain_hold=held_by_excursion(session, unit.id),
    )


def unit_refusals(
    session: Session, unit: Unit, *, patient_id: int | None = None, now: dt.datetime | None = None
) -> list[Reason]:
    """Why the unit may not go on now (to `patient_id`, when named), most serious first: the one
    distribution rule, judged on the facility's calendar (services/clock.py)."""
    return unit_reasons(
        unit_facts(session, unit),
        now=now or utcnow(),
        zone=clock.facility_zone(session),
        patient_id=patient_id,
    )


def refusal_text(reasons: list[Reason]) -> str:
    """The reasons as the sentence a field error shows, most serious first (each said again in
    the reader's language at the edge, from the template the rule kept)."""
    return sentences(Said(r.template, **dict(r.params)) if r.template else r.text for r in reasons)
