"""A shipment's temperature-logger file: attached at receipt, kept byte for byte with its SHA-256,
judged against the product's range (domain/cold_chain.py) and recorded with what the judgement
used. An excursion holds the shipment's units (the fact services/cold_chain_facts.py reads into
the one distribution rule) until QA decides, signed: released back for use, or rejected and the
units destroyed."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain import cold_chain as rule
from lotrack.domain.errors import Conflict, ValidationFailed
from lotrack.domain.mail import MailEvent
from lotrack.domain.permissions import require
from lotrack.domain.record_signatures import SubjectKind
from lotrack.domain.states import ShipmentStatus, UnitState
from lotrack.domain.text import N_, said
from lotrack.models import (
    ColdChainLog,
    ExcursionDecision,
    Infusion,
    RecordSignature,
    Shipment,
    User,
)
from lotrack.services import audit, notify, record_signature
from lotrack.services import lot as lots
from lotrack.services.clinical import require_same_site
from lotrack.services.clock import facility_zone
from lotrack.services.raw_data import RawFile, store_raw
from lotrack.services.signature import Lockout, SignIn

ColdChainSettings = rule.Settings

RECEIVED = (ShipmentStatus.RECEIVED, ShipmentStatus.DISCREPANCY)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _problems_json(judgement: rule.Judgement) -> str:
    return json.dumps(
        [
            {
                "kind": p.kind,
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                "extreme": _text(p.extreme),
                "within_allowance": p.within_allowance,
            }
            for p in judgement.problems
        ]
    )


def attach(
    session: Session,
    actor: User,
    shipment: Shipment,
    *,
    file: RawFile,
    mapping: str,
    settings: ColdChainSettings,
) -> ColdChainLog:
    """Keep the shipment's logger file and judge it, once, at receipt; an excursion holds every
    unit on the shipment until QA decides. An unreadable file is refused, naming the line."""
    require(actor.role, "shipment.receive")
    require_same_site(actor, shipment.site_id)
    if shipment.status not in RECEIVED or shipment.received_at is None:
        raise Conflict(
            said("Receive %(shipment)s first: its logger is judged up to the receipt.",
                 shipment=shipment.number),
            {"shipment": N_("not received yet")},
        )  # fmt: skip
    chosen = settings.mappings.get((mapping or "generic").strip())
    if chosen is None:
        choices = ", ".join(sorted(settings.mappings))
        raise ValidationFailed(
            said("No logger format %(name)s; one of %(choices)s.", name=mapping, choices=choices),
            {"mapping": said("one of %(choices)s", choices=choices)},
        )
    if session.scalar(select(ColdChainLog.id).where(ColdChainLog.shipment_id == shipment.id)):
        raise Conflict(
            said("%(shipment)s has its logger file already.", shipment=shipment.number),
            {"logger_file": N_("recorded already")},
        )
    # Fixed here and kept in mapping_spec, so the file is read again the way it was judged.
    chosen = dataclasses.replace(chosen, zone=chosen.zone or facility_zone(session))
    trace = rule.parse(file.data, chosen, chosen.zone)
    limits = settings.limits
    judgement = rule.judge(trace, limits, shipment.shipped_at, shipment.received_at)
    attachment = store_raw(session, actor, file)
    session.flush()
    log = ColdChainLog(
        shipment_id=shipment.id,
        attachment_id=attachment.id,
        mapping=chosen.name,
        mapping_spec=json.dumps(dataclasses.asdict(chosen), ensure_ascii=False),
        max_c=_text(limits.max_c),
        min_c=_text(limits.min_c),
        allowed_minutes=int(limits.allowed.total_seconds() // 60),
        max_gap_minutes=int(limits.max_gap.total_seconds() // 60),
        range_source=settings.source,
        window_start=shipment.shipped_at,
        window_end=shipment.received_at,
        judged=judgement.judged,
        ignored=judgement.ignored,
        blanks=trace.blanks,
        highest=_text(judgement.highest),
        lowest=_text(judgement.lowest),
        excursion=judgement.excursion,
        problems=_problems_json(judgement),
        recorded_by_id=actor.id,
        recorded_at=utcnow(),
    )
    try:
        with session.begin_nested():
            audit.created(session, actor, log)
    except IntegrityError as err:  # another receipt's file won the race: the unique index said no
        raise Conflict(
            said("%(shipment)s has its logger file already.", shipment=shipment.number),
            {"logger_file": N_("recorded already")},
        ) from err
    if judgement.excursion:
        _excursion_reaches_units(session, actor, shipment, log)
    return log


def _excursion_reaches_units(
    session: Session, actor: User, shipment: Shipment, log: ColdChainLog
) -> None:
    """Hold the shipment's units, and when some were infused before the file came, record that
    on each infusion and tell those who must assess the patients: a later fact reaches them too."""
    infused = {i.unit_id: i for i in session.scalars(
        select(Infusion).where(Infusion.unit_id.in_([item.unit_id for item in shipment.items]))
    )}  # fmt: skip
    details = {"shipment": shipment.number, "log_id": log.id}
    for item in shipment.items:
        if item.unit_id in infused:
            audit.event(
                session, actor, "infusion_cold_chain_excursion", infused[item.unit_id], details,
                reason="temperature excursion in transit found after the unit was infused",
            )  # fmt: skip
            continue
        audit.event(
            session, actor, "unit_cold_chain_hold", item.unit, details,
            reason="temperature excursion in transit: held pending QA",
        )  # fmt: skip
    if len(infused) < len(shipment.items):
        notify.queue(session, MailEvent.COLD_CHAIN_EXCURSION, log)
    if infused:
        notify.queue(session, MailEvent.EXCURSION_AFTER_INFUSION, log)


def trace_of(log: ColdChainLog) -> rule.Trace:
    """The trace read again from the kept file, the way it was read when judged."""
    mapping = rule.Mapping(**json.loads(log.mapping_spec))
    # Every kept spec names its zone (attach resolves it; files judged before then kept "UTC").
    return rule.parse(log.attachment.data, mapping, mapping.zone or "UTC")


def problems_of(log: ColdChainLog) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(log.problems)
    return loaded


def log_of(session: Session, shipment: Shipment) -> ColdChainLog | None:
    return session.scalar(select(ColdChainLog).where(ColdChainLog.shipment_id == shipment.id))


def decide(
    session: Session,
    actor: User,
    shipment: Shipment,
    *,
    outcome: str,
    sign_in: SignIn,
    lockout: Lockout,
) -> RecordSignature:
    """QA's signed decision on the shipment's excursion: its units released back for use, or
    rejected and destroyed. The reason is required; one decision per excursion."""
    require(actor.role, "cold_chain.decide")
    if outcome not in set(rule.ExcursionOutcome):
        raise ValidationFailed(
            N_("Release the units or reject them."), {"outcome": N_("released or rejected")}
        )
    log = log_of(session, shipment)
    if log is None or not log.excursion:
        raise Conflict(
            said("%(shipment)s has no temperature excursion to decide on.",
                 shipment=shipment.number),
            {"shipment": N_("no excursion")},
        )  # fmt: skip
    if log.decision is not None:
        raise Conflict(
            said("The excursion of %(shipment)s was decided already.", shipment=shipment.number),
            {"shipment": N_("decided already")},
        )
    proven = record_signature.prove(
        session, actor, SubjectKind.EXCURSION_DECISION, sign_in, lockout, outcome
    )
    if not proven.reason:
        raise ValidationFailed(N_("State the reason for the decision."), {"reason": N_("required")})
    decision = ExcursionDecision(
        log_id=log.id,
        outcome=rule.ExcursionOutcome(outcome),
        reason=proven.reason,
        decided_by_id=proven.signer.id,
        decided_at=utcnow(),
    )
    try:
        with session.begin_nested():
            audit.created(session, proven.signer, decision, reason=proven.reason)
    except IntegrityError as err:  # decided by someone else a moment ago
        raise Conflict(
            said("The excursion of %(shipment)s was decided already.", shipment=shipment.number),
            {"shipment": N_("decided already")},
        ) from err
    if outcome == rule.ExcursionOutcome.REJECTED:
        for item in shipment.items:
            if item.unit.state in (UnitState.RECEIVED, UnitState.THAWED):
                lots.move_unit(
                    session,
                    proven.signer,
                    item.unit,
                    UnitState.DESTROYED,
                    reason=f"rejected after a temperature excursion ({shipment.number})",
                )
    return record_signature.sign(session, proven, decision)
