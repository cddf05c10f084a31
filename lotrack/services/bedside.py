"""The bedside check: read the wristband and the label, gather every fact, judge them with
domain/bedside.py, and record the attempt whatever the answer. Then the thaw and the infusion."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Row, and_, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from lotrack.db import utcnow
from lotrack.documents.tokens import check_token
from lotrack.domain import bedside, isbt128
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import USABLE_LOT_STATES, LotState
from lotrack.models import (
    Allocation,
    BedsideScan,
    Infusion,
    Lot,
    Patient,
    Prescription,
    Shipment,
    ShipmentUnit,
    SpecVersion,
    Thaw,
    Unit,
    User,
)
from lotrack.services import audit, specs
from lotrack.services.clinical import problems_of
from lotrack.services.common import norm
from lotrack.services.shipment import (
    LOCATION_COLUMNS,
    latest_shipment_of,
    location,
    location_of,
)

METHODS = ("wedge", "camera", "photo", "typed")
SCAN_VALID_FOR = dt.timedelta(minutes=30)  # a GO answers for the moment it was given
CLOCK_SLACK = dt.timedelta(minutes=5)  # times typed to the minute, clocks a little apart
NO_CONSENT = "informed consent not recorded"  # as services.clinical.problems_of puts it
TOKEN_IN_URL = re.compile(r"/v/([A-Za-z0-9_-]{20,200})/?$")
NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class LabelRead:
    genuine: bool
    din: str = ""
    reason: str = ""


def read_label(key: Ed25519PrivateKey, text: str) -> LabelRead:
    """A QR (URL or bare token) proves the label; a typed DIN needs its check character."""
    raw = (text or "").strip()
    if not raw or len(raw) > 400:
        return LabelRead(False, reason="nothing readable was scanned")
    found = TOKEN_IN_URL.search(raw)
    token = found.group(1) if found else raw
    if re.fullmatch(r"[A-Za-z0-9_-]{40,200}", token):
        result = check_token(key.public_key(), token)
        if not result.genuine:
            return LabelRead(False, reason=result.reason)
        if result.kind != "unit" or not result.subject:
            return LabelRead(False, reason="this code is not a unit label")
        return LabelRead(True, result.subject)
    parsed = isbt128.parse_din(raw)
    if not parsed.valid:
        return LabelRead(False, reason=parsed.reason or "not a DIN")
    if parsed.check is None:
        return LabelRead(
            False, parsed.din, "scan the QR code, or type the DIN with its boxed check character"
        )
    return LabelRead(True, parsed.din)


# Built once: a check runs these on every scan, and a prebuilt statement skips rebuilding its
# cache key each time.
_BY_WRISTBAND = select(Patient).where(Patient.wristband == bindparam("wristband"))


def _patient(session: Session, actor: User, text: str) -> Patient | None:
    patient = session.scalar(_BY_WRISTBAND, {"wristband": norm(text)})
    if patient is None or patient.site_id != actor.site_id:
        return None
    return patient


@dataclass(frozen=True)
class Checked:
    """A recorded check, with the wristband and DIN it matched (None: nothing matched)."""

    scan: BedsideScan
    verdict: bedside.BedsideVerdict
    patient_code: str | None
    din: str | None


def check_scan(
    session: Session,
    actor: User,
    *,
    key: Ed25519PrivateKey,
    patient_text: str,
    scan_text: str,
    method: str = "wedge",
    acknowledge_exceptional: bool = False,
    now: dt.datetime | None = None,
) -> tuple[BedsideScan, bedside.BedsideVerdict]:
    """GO or NO-GO with every reason; every attempt is recorded."""
    done = run_check(
        session,
        actor,
        key=key,
        patient_text=patient_text,
        scan_text=scan_text,
        method=method,
        acknowledge_exceptional=acknowledge_exceptional,
        now=now,
    )
    return done.scan, done.verdict


def run_check(
    session: Session,
    actor: User,
    *,
    key: Ed25519PrivateKey,
    patient_text: str,
    scan_text: str,
    method: str = "wedge",
    acknowledge_exceptional: bool = False,
    now: dt.datetime | None = None,
) -> Checked:
    """check_scan, also naming the patient and unit matched (what the API answers)."""
    require(actor.role, "bedside.scan")
    if method not in METHODS:
        raise ValidationFailed("Unknown scan method.", {"method": f"one of {', '.join(METHODS)}"})
    now = now or utcnow()
    # A scanner can send anything; PostgreSQL text cannot hold NUL, neither database a lone
    # surrogate, and the attempt must be kept.
    patient_text = NOT_STORABLE.sub("\ufffd", patient_text or "")
    scan_text = NOT_STORABLE.sub("\ufffd", scan_text or "")
    label = read_label(key, scan_text)
    # Only a genuine label's unit is looked at (or recorded): a forged one proves nothing.
    unit = session.execute(_UNIT_FACTS, {"din": label.din}).first() if label.genuine else None
    patient = _patient(session, actor, patient_text)
    facts = _facts(session, actor, label, unit, patient, acknowledge_exceptional, now)
    verdict = bedside.check(facts)
    scan = BedsideScan(
        site_id=actor.site_id,
        patient_text=patient_text[:200],
        scan_text=scan_text[:400],
        method=method,
        patient_id=patient.id if patient else None,
        unit_id=unit.unit_id if unit else None,
        go=verdict.go,
        exceptional_acknowledged=bool(
            acknowledge_exceptional and facts.lot_state == LotState.EXCEPTIONAL_RELEASE
        ),
        reasons=json.dumps(list(verdict.reasons), ensure_ascii=False),
        scanned_by_id=actor.id,
        scanned_at=now,
    )
    audit.created(session, actor, scan)
    return Checked(
        scan, verdict, patient.wristband if patient else None, unit.din if unit else None
    )


_Given = aliased(Unit)
# Every fact of a unit in one statement: its lot and the lot's pinned specification, its
# allocation and prescription, its thaw, its latest shipment, whether it was infused, and the
# cells already infused under its prescription.
_UNIT_FACTS = (
    select(
        Unit.id.label("unit_id"),
        Unit.din,
        Unit.state.label("unit_state"),
        Unit.cells,
        Lot.lot_number,
        Lot.state.label("lot_state"),
        Lot.expires_on,
        SpecVersion.id.label("spec_id"),
        SpecVersion.content_hash,
        Prescription.id.label("rx_id"),
        Prescription.patient_id.label("rx_patient_id"),
        Prescription.cells_needed,
        Prescription.tolerance,
        Thaw.thawed_at,
        select(func.count())
        .where(Infusion.unit_id == Unit.id)
        .scalar_subquery()
        .label("infusions"),
        select(func.coalesce(func.sum(_Given.cells), 0))
        .join(Infusion, Infusion.unit_id == _Given.id)
        .where(Infusion.prescription_id == Prescription.id)
        .scalar_subquery()
        .label("cells_given"),
        *LOCATION_COLUMNS,
    )
    .join(Lot, Lot.id == Unit.lot_id)
    .outerjoin(SpecVersion, SpecVersion.id == Lot.spec_version_id)
    .outerjoin(Allocation, Allocation.unit_id == Unit.id)  # unique: one allocation per unit
    .outerjoin(Prescription, Prescription.id == Allocation.prescription_id)
    .outerjoin(Thaw, Thaw.unit_id == Unit.id)  # unique: one thaw per unit
    .outerjoin(
        ShipmentUnit,
        and_(
            ShipmentUnit.unit_id == Unit.id, ShipmentUnit.shipment_id == latest_shipment_of(Unit.id)
        ),
    )
    .outerjoin(Shipment, Shipment.id == ShipmentUnit.shipment_id)
    .where(Unit.din == bindparam("din"))
)


# Post-thaw windows by specification content hash: a version's content never changes (a change
# is a new version), so its hash names its window for good, in any database.
_WINDOWS: dict[str, int | None] = {}


def _window(session: Session, version_id: int, digest: str) -> int | None:
    """The post-thaw use window (minutes) the pinned specification version states, if any."""
    if digest not in _WINDOWS:
        version = session.get(SpecVersion, version_id)
        raw = specs.content_of(version).limits.get("post_thaw_use_minutes") if version else None
        _WINDOWS[digest] = int(raw) if raw and raw.isdigit() else None
    return _WINDOWS[digest]


def _facts(
    session: Session,
    actor: User,
    label: LabelRead,
    unit: Row[Any] | None,
    patient: Patient | None,
    acknowledged: bool,
    now: dt.datetime,
) -> bedside.BedsideFacts:
    if not label.genuine or unit is None:
        return bedside.BedsideFacts(
            label_genuine=label.genuine, label_reason=label.reason, din=label.din, now=now
        )
    where = location_of(unit.number, unit.site_id, unit.status, unit.received)
    has_rx = unit.rx_id is not None
    mine = has_rx and patient is not None and unit.rx_patient_id == patient.id
    window = _window(session, unit.spec_id, unit.content_hash) if unit.spec_id else None
    # Consent has its own fact (the recorded date); every checklist answer, including the
    # consent items, stays an eligibility problem named in the reason.
    problems = [p for p in problems_of(patient) if p != NO_CONSENT] if patient else []
    return bedside.BedsideFacts(
        label_genuine=True,
        unit_found=True,
        din=unit.din,
        lot_number=unit.lot_number,
        lot_state=unit.lot_state,
        lot_expires_on=unit.expires_on,
        exceptional_acknowledged=acknowledged,
        unit_destroyed=unit.unit_state == "destroyed",
        received_at_site=where.site_id is not None and where.site_id == actor.site_id,
        in_transit=where.in_transit,
        already_infused=bool(unit.infusions),
        patient_found=patient is not None,
        patient_code=patient.wristband if patient else "",
        allocated_to_patient=mine,
        allocated_to_other=has_rx and not mine,
        patient_consented=patient is not None and patient.consent_date is not None,
        patient_eligible=patient is not None and not problems,
        eligibility_problems=tuple(problems),
        prescribed_cells=unit.cells_needed if mine else None,
        cells_given_before=int(unit.cells_given or 0) if mine else 0,
        unit_cells=unit.cells,
        dose_tolerance=Decimal(unit.tolerance) if has_rx else Decimal("0.10"),
        thawed_at=unit.thawed_at,
        post_thaw_minutes=window,
        now=now,
    )


def record_thaw(session: Session, actor: User, din: str, thawed_at: dt.datetime) -> Thaw:
    require(actor.role, "bedside.scan")
    parsed = isbt128.parse_din(din)
    if not parsed.valid:  # a mistyped check character must not find a unit
        raise ValidationFailed(
            f"{din} is not a valid DIN: {parsed.reason}.", {"din": parsed.reason}
        )
    unit = session.scalar(select(Unit).where(Unit.din == parsed.din))
    if unit is None:
        raise NotFound(f"No unit {din}.", {"din": "no such unit"})
    if location(session, unit).site_id != actor.site_id:
        raise Conflict("The unit has not been received at your site.", {"din": "not at your site"})
    if thawed_at.tzinfo is None or thawed_at > utcnow() + dt.timedelta(minutes=1):
        raise ValidationFailed("The thaw time must be a past, zoned time.", {"thawed_at": "bad"})
    if session.scalar(select(func.count()).where(Thaw.unit_id == unit.id)):
        raise Conflict("This unit's thaw is recorded already.", {"din": "thawed already"})
    thaw = Thaw(unit_id=unit.id, thawed_at=thawed_at, recorded_by_id=actor.id)
    audit.created(session, actor, thaw)
    return thaw


def record_infusion(
    session: Session,
    actor: User,
    scan: BedsideScan,
    *,
    witness: User,
    started_at: dt.datetime,
    stopped_at: dt.datetime | None = None,
    volume_ml: Decimal | None = None,
    premedication: str = "",
    vital_signs: str = "",
    immediate_reactions: str = "",
) -> Infusion:
    """Only after a GO scan of this unit for this patient, by the operator, with a witness."""
    require(actor.role, "bedside.scan")
    if not scan.go or scan.unit_id is None or scan.patient_id is None:
        raise Conflict("An infusion follows a GO scan only.", {"scan": "not GO"})
    if scan.scanned_by_id != actor.id or scan.site_id != actor.site_id:
        raise Conflict("Scan the unit yourself before infusing it.", {"scan": "not yours"})
    if utcnow() - scan.scanned_at > SCAN_VALID_FOR:
        raise Conflict("The GO scan is too old: scan again at the bedside.", {"scan": "expired"})
    scanned_unit = session.get(Unit, scan.unit_id)
    if scanned_unit is not None and scanned_unit.lot.state not in USABLE_LOT_STATES:
        # The lot was held or recalled after the GO: the GO no longer holds.
        raise Conflict(
            f"Lot {scanned_unit.lot.lot_number} is now {scanned_unit.lot.state}: do not infuse.",
            {"scan": "lot no longer released"},
        )
    fields = {}
    if witness.id == actor.id or witness.role != "clinical" or witness.site_id != actor.site_id:
        fields["witness"] = "another clinical user of your site"
    if stopped_at is not None and stopped_at < started_at:
        fields["stopped_at"] = "before the start"
    if volume_ml is not None and volume_ml <= 0:
        fields["volume_ml"] = "above zero"
    if fields:
        raise ValidationFailed("The infusion cannot be recorded.", fields)
    if session.scalar(select(func.count()).where(Infusion.unit_id == scan.unit_id)):
        raise Conflict("This unit's infusion is recorded already.", {"scan": "infused already"})
    thaw = session.scalar(select(Thaw).where(Thaw.unit_id == scan.unit_id))
    allocation = session.scalar(select(Allocation).where(Allocation.unit_id == scan.unit_id))
    if thaw is None or allocation is None:
        raise Conflict("The unit's thaw and allocation must be on record.", {"scan": "incomplete"})
    if started_at < thaw.thawed_at or started_at > utcnow() + CLOCK_SLACK:
        raise ValidationFailed(
            "The infusion starts after the thaw, and not in the future.",
            {"started_at": "between the thaw and now"},
        )
    infusion = Infusion(
        unit_id=scan.unit_id,
        patient_id=scan.patient_id,
        prescription_id=allocation.prescription_id,
        scan_id=scan.id,
        thawed_at=thaw.thawed_at,
        started_at=started_at,
        stopped_at=stopped_at,
        volume_ml=volume_ml,
        operator_id=actor.id,
        witness_id=witness.id,
        premedication=premedication.strip(),
        vital_signs=vital_signs.strip(),
        immediate_reactions=immediate_reactions.strip(),
    )
    audit.created(session, actor, infusion)
    return infusion
