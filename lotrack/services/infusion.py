"""After a GO at the bedside: the thaw, and the infusion, which re-runs the bedside rule at its
start and is witnessed under signature (21 CFR 11.200)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.config import DEFAULTS
from lotrack.db import utcnow
from lotrack.domain import bedside, dose
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import Role, require
from lotrack.domain.states import UnitState
from lotrack.domain.text import N_, Said, said
from lotrack.models import (
    Allocation,
    BedsideScan,
    Infusion,
    Patient,
    Prescription,
    Thaw,
    Unit,
    User,
)
from lotrack.services import audit, signature
from lotrack.services import bedside as bedside_check
from lotrack.services import dose as doses
from lotrack.services import lot as lots
from lotrack.services.common import sentences
from lotrack.services.shipment import location
from lotrack.services.signature import Lockout, SignatureRefused

DEFAULT_LOCKOUT = Lockout(DEFAULTS["MAX_FAILED_LOGINS"], DEFAULTS["LOCKOUT_MINUTES"])


def record_thaw(session: Session, actor: User, din: str, thawed_at: dt.datetime) -> Thaw:
    """When a unit received at the nurse's site came out of the thawing device; the unit moves
    from received to thawed (a guarded update: two thaws of one unit, one succeeds)."""
    require(actor.role, "bedside.scan")
    read = lots.read_din(din)  # a mistyped check character or flags must not find a unit
    unit = session.scalar(select(Unit).where(Unit.din == read))
    if unit is None:
        raise NotFound(said("No unit %(din)s.", din=din), {"din": N_("no such unit")})
    if location(session, unit).site_id != actor.site_id:
        raise Conflict(
            N_("The unit has not been received at your site."), {"din": N_("not at your site")}
        )
    if thawed_at.tzinfo is None or thawed_at > utcnow() + dt.timedelta(minutes=1):
        raise ValidationFailed(
            N_("The thaw time must be a past, zoned time."), {"thawed_at": N_("bad")}
        )
    if session.scalar(select(func.count()).where(Thaw.unit_id == unit.id)):
        raise Conflict(N_("This unit's thaw is recorded already."), {"din": N_("thawed already")})
    lots.move_unit(session, actor, unit, UnitState.THAWED, reason="thawed at the bedside")
    thaw = Thaw(unit_id=unit.id, thawed_at=thawed_at, recorded_by_id=actor.id)
    audit.created(session, actor, thaw)
    return thaw


class WitnessRefused(SignatureRefused):
    """The witness's password was wrong: refused, and the failure counts toward their lockout."""


def authenticate_witness(
    session: Session, actor: User, username: str, password: str, meaning: str, lockout: Lockout
) -> User:
    """The witness signs the infusion (21 CFR 11.200): another clinical user of the operator's
    site, re-entering their own password now, with the meaning "witnessed". Writes nothing but a
    failure's count (and its audit event), so the caller authenticates before writing."""
    witness = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    fields = {}
    if witness is None:
        fields["witness"] = N_("unknown user")
    elif (
        witness.id == actor.id or witness.role != Role.CLINICAL or witness.site_id != actor.site_id
    ):
        fields["witness"] = N_("another clinical user of your site")
    if meaning != bedside.WITNESSED:
        fields["witness_meaning"] = said(
            'the meaning of this signature is "%(meaning)s"', meaning=bedside.WITNESSED
        )
    if fields:
        raise ValidationFailed(N_("The witness cannot sign this infusion."), fields)
    assert witness is not None
    return signature.authenticate(
        session, witness, password, lockout, field="witness_password", refusal=WitnessRefused
    )


def record_infusion(
    session: Session,
    actor: User,
    scan: BedsideScan,
    *,
    witness: str,
    witness_password: str,
    witness_meaning: str,
    started_at: dt.datetime,
    stopped_at: dt.datetime | None = None,
    volume_ml: Decimal | None = None,
    premedication: str = "",
    vital_signs: str = "",
    immediate_reactions: str = "",
    lockout: Lockout = DEFAULT_LOCKOUT,
) -> Infusion:
    """The infusion after the operator's own GO scan of this unit for this patient, started
    within the GO's validity, when the bedside rule still says GO at its start; witnessed under
    signature. The unit moves from thawed to infused (guarded: one infusion per unit).

    `volume_ml` is the volume given from this unit: the achieved cells and cells/kg and the
    discarded remainder are recorded with it, all from the one dose rule (domain/dose.py),
    which must still find the prescription's dose within tolerance with this volume given."""
    require(actor.role, "bedside.scan")
    if not scan.go or scan.unit_id is None or scan.patient_id is None:
        raise Conflict(N_("An infusion follows a GO scan only."), {"scan": N_("not GO")})
    if scan.scanned_by_id != actor.id or scan.site_id != actor.site_id:
        raise Conflict(N_("Scan the unit yourself before infusing it."), {"scan": N_("not yours")})
    if utcnow() - scan.scanned_at > bedside.SCAN_VALID_FOR:
        raise Conflict(
            N_("The GO scan is too old: scan again at the bedside."), {"scan": N_("expired")}
        )
    _check_times(scan, started_at, stopped_at)
    if volume_ml is None or volume_ml <= 0:
        raise ValidationFailed(
            N_("The infusion cannot be recorded."),
            {"volume_ml": N_("the volume given, above zero")},
        )
    unit = session.get_one(Unit, scan.unit_id)
    if session.scalar(select(func.count()).where(Infusion.unit_id == unit.id)):
        raise Conflict(
            N_("This unit's infusion is recorded already."), {"scan": N_("infused already")}
        )
    thaw = session.scalar(select(Thaw).where(Thaw.unit_id == unit.id))
    allocation = session.scalar(select(Allocation).where(Allocation.unit_id == unit.id))
    if thaw is None or allocation is None:
        raise Conflict(
            N_("The unit's thaw and allocation must be on record."), {"scan": N_("incomplete")}
        )
    if started_at < thaw.thawed_at:
        raise ValidationFailed(
            N_("The infusion starts after the thaw."), {"started_at": N_("after the thaw")}
        )
    _recheck(session, actor, scan, unit, started_at)
    given = _given(session, allocation.prescription_id, unit, volume_ml)
    signer = authenticate_witness(
        session, actor, witness, witness_password, witness_meaning, lockout
    )
    lots.move_unit(session, actor, unit, UnitState.INFUSED, reason="infused at the bedside")
    infusion = Infusion(
        unit_id=unit.id,
        patient_id=scan.patient_id,
        prescription_id=allocation.prescription_id,
        scan_id=scan.id,
        thawed_at=thaw.thawed_at,
        started_at=started_at,
        stopped_at=stopped_at,
        volume_ml=volume_ml,
        achieved_cells=int(given.cells.to_integral_value(ROUND_HALF_UP)),
        achieved_per_kg=int(given.per_kg.to_integral_value(ROUND_HALF_UP)),
        discarded_ml=given.draw.discard_ml,
        operator_id=actor.id,
        witness_id=signer.id,
        witness_meaning=bedside.WITNESSED,
        witness_signed_at=utcnow(),
        premedication=premedication.strip(),
        vital_signs=vital_signs.strip(),
        immediate_reactions=immediate_reactions.strip(),
    )
    audit.created(session, actor, infusion)
    return infusion


@dataclass(frozen=True)
class Given:
    draw: dose.Draw  # this unit's, as given
    cells: Decimal
    per_kg: Decimal  # this infusion's cells per kg of the weight at prescribing


def _given(session: Session, rx_id: int, unit: Unit, volume_ml: Decimal) -> Given:
    """What `volume_ml` from this unit gives, by the one dose rule over the prescription with
    this unit counted as given; refused (nothing written) when the dose would then leave its
    tolerance, or the volume is more than the unit holds."""
    if volume_ml > unit.volume_ml:
        raise ValidationFailed(
            N_("The infusion cannot be recorded."),
            {"volume_ml": said("at most the unit's %(volume)s mL", volume=unit.volume_ml)},
        )
    rx = session.get_one(Prescription, rx_id)
    containers = doses.containers_of(session, rx)
    planned = dose.plan(rx.cells_needed, rx.tolerance, rx.weight_kg, containers).draw_for(unit.din)
    as_given = tuple(replace(c, given_ml=volume_ml) if c.key == unit.din else c for c in containers)
    plan = dose.plan(rx.cells_needed, Decimal(rx.tolerance), Decimal(rx.weight_kg), as_given)
    draw = plan.draw_for(unit.din)
    if not plan.ok or draw is None:
        to_give = planned.volume_ml if planned is not None else None
        raise ValidationFailed(
            N_(
                "With this volume the dose would leave its tolerance: give what the bedside"
                " check says."
            ),
            {
                "volume_ml": said("%(volume)s mL from this unit", volume=to_give)
                if to_give is not None
                else N_("no volume of this unit keeps the dose within tolerance")
            },
        )
    return Given(draw, draw.cells, draw.cells / Decimal(rx.weight_kg))


def _check_times(scan: BedsideScan, started: dt.datetime, stopped: dt.datetime | None) -> None:
    if started.tzinfo is None:
        raise ValidationFailed(
            N_("The start must be a zoned time."), {"started_at": N_("with its zone")}
        )
    problem = bedside.start_problem(scan.scanned_at, started, utcnow())
    if problem:
        raise ValidationFailed(
            said("The infusion's start must be %(problem)s.", problem=_sentence(problem)),
            {"started_at": problem},
        )
    if stopped is not None and stopped < started:
        raise ValidationFailed(
            N_("The infusion cannot be recorded."), {"stopped_at": N_("before the start")}
        )


# A NO-GO at the start for one of these is a matter of the start time the operator gave.
_TIMED = frozenset({"expired", "post_thaw_expired", "thaw_in_future"})


def _recheck(
    session: Session, actor: User, scan: BedsideScan, unit: Unit, started: dt.datetime
) -> None:
    """The bedside rule again, for this unit and patient, at the infusion's start: the lot may
    have been held or recalled since the GO, the post-thaw window or the expiry passed."""
    row = bedside_check.unit_row(session, unit.din)
    patient = session.get(Patient, scan.patient_id)
    label = bedside_check.LabelRead(True, unit.din)  # the GO check identified the unit
    facts = bedside_check.bedside_facts(
        session, actor, label, row, patient, scan.exceptional_acknowledged, started
    )
    verdict = bedside.check(facts)
    if verdict.go:
        return
    field = "started_at" if _TIMED & set(verdict.codes) else "scan"
    reasons = _said_reasons(verdict)
    raise Conflict(
        said(
            "At the infusion's start the bedside check is NO-GO: %(reasons)s",
            reasons=sentences(reasons),
        ),
        {field: reasons[0]},
    )


def _sentence(text: str) -> Said:
    """A rule's sentence as a part of another, said again in the reader's language (a plain one
    by the catalog)."""
    return text if isinstance(text, Said) else Said(text)


def _said_reasons(verdict: bedside.BedsideVerdict) -> list[str]:
    """The verdict's reasons, each a `Said` made from its template where the rule kept one (the
    same English), so the refusal is said again in the reader's language."""
    if len(verdict.said) != len(verdict.reasons):
        return list(verdict.reasons)
    return [
        Said(template, **dict(params)) if template else text
        for (template, params), text in zip(verdict.said, verdict.reasons, strict=True)
    ]
