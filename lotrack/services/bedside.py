"""The bedside check: read the wristband and the label, gather every fact, judge them with
domain/bedside.py, and record the attempt whatever the answer (the thaw and the infusion that
follow a GO: services/infusion.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Row, and_, bindparam, func, select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.documents.tokens import check_token, is_preview
from lotrack.domain import bedside, isbt128, isbt128_expiry, isbt128_structures
from lotrack.domain.distribution import UnitFacts
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import LotState, ScanMethod, UnitState
from lotrack.domain.text import N_, said
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
from lotrack.services import audit, clock, exceptional, specs
from lotrack.services import dose as doses
from lotrack.services.clinical import problems_of
from lotrack.services.cold_chain_facts import excursion_open
from lotrack.services.common import norm
from lotrack.services.shipment import (
    LOCATION_COLUMNS,
    latest_shipment_of,
    location_of,
)

METHODS = tuple(ScanMethod)
SCAN_VALID_FOR = bedside.SCAN_VALID_FOR
NO_CONSENT = said("informed consent not recorded")  # as services.clinical.problems_of puts it
TOKEN_IN_URL = re.compile(r"/v/([A-Za-z0-9_-]{20,200})/?$")
NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class LabelRead:
    """What the label text gave: a DIN `accepted` for the check, or the `problem` why not
    (domain/bedside.py: NOT_GENUINE, CHECK_MISMATCH, CHECK_MISSING, FLAG_MISMATCH), and how it
    was read."""

    accepted: bool
    din: str = ""
    reason: str = ""
    problem: str = ""
    source: str = bedside.QR


_OTHER_CODES = {
    "003": N_("That is the label's product code bar code (003), not its DIN"),
    "005": N_("That is the label's expiry bar code (005), not its DIN"),
}


def read_label(key: Ed25519PrivateKey, text: str, method: str = ScanMethod.TYPED) -> LabelRead:
    """A QR code (URL or bare token) proves the label. A DIN read by a scanner, a camera or from a
    photo (Code 128 carries the DIN alone, with or without ISBT 128's "=" and its two flag
    characters, refused when type 3 flags contradict the DIN) identifies the unit without that
    proof; a DIN typed by hand needs its check character, which catches any one mistyped."""
    raw = (text or "").strip()
    if not raw or len(raw) > 400:
        return LabelRead(
            False, reason=N_("nothing readable was scanned"), problem=bedside.NOT_GENUINE
        )
    found = TOKEN_IN_URL.search(raw)
    token = found.group(1) if found else raw
    if re.fullmatch(r"[A-Za-z0-9_-]{40,200}", token) or is_preview(token):  # a preview: refused
        result = check_token(key.public_key(), token)
        if not result.genuine:
            return LabelRead(False, reason=result.reason, problem=bedside.NOT_GENUINE)
        if result.kind != "unit" or not result.subject:
            return LabelRead(
                False, reason=N_("this code is not a unit label"), problem=bedside.NOT_GENUINE
            )
        return LabelRead(True, result.subject)
    other = _OTHER_CODES.get(isbt128_structures.structure_of(raw) or "")
    if other:  # a nurse scanned the label's other bar code: say which, not "not genuine"
        return LabelRead(False, reason=other, problem=bedside.OTHER_CODE)
    parsed = isbt128.parse_din(raw)
    if not parsed.valid:
        mistyped = parsed.check is not None and isbt128.DIN_RE.match(parsed.din) is not None
        problem = bedside.CHECK_MISMATCH if mistyped else bedside.NOT_GENUINE
        if parsed.flag_mismatch:
            problem = bedside.FLAG_MISMATCH
        return LabelRead(False, reason=parsed.reason or N_("not a DIN"), problem=problem)
    if parsed.check is not None:
        return LabelRead(True, parsed.din, source=bedside.TYPED)
    if method == ScanMethod.TYPED:
        return LabelRead(
            False,
            parsed.din,
            N_("a typed DIN needs its boxed check character"),
            bedside.CHECK_MISSING,
            bedside.TYPED,
        )
    # A Code 128 read: the symbology's own check digit guards the read itself.
    return LabelRead(True, parsed.din, source=bedside.BARCODE)


def read_expiry(text: str, zone: str) -> dict[str, Any]:
    """The label's scanned expiry (005) as bedside facts: the time it says, or why it says none."""
    try:
        return {"label_expiry": isbt128_expiry.parse_005(text, zone).local}
    except ValidationFailed as refused:
        return {"label_expiry_problem": refused.message}


def entry_method(scan_text: str, method: str | None) -> str:
    """How the label was read, when the client did not say: a DIN is taken as typed, so it needs
    its check character; only ISBT 128's "=" data identifier, which a scanner sends and no label
    shows, marks a bar code read. Anything longer (a label's QR text) as scanned."""
    if method:
        return method
    compact = re.sub(r"\s+", "", scan_text or "")
    looks_typed = "/" not in compact and len(compact) <= 16 and not compact.startswith("=")
    return ScanMethod.TYPED if looks_typed else ScanMethod.WEDGE


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
    method: str = ScanMethod.WEDGE,
    acknowledge_exceptional: bool = False,
    now: dt.datetime | None = None,
    expiry_text: str = "",
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
        expiry_text=expiry_text,
    )
    return done.scan, done.verdict


def run_check(
    session: Session,
    actor: User,
    *,
    key: Ed25519PrivateKey,
    patient_text: str,
    scan_text: str,
    method: str = ScanMethod.WEDGE,
    acknowledge_exceptional: bool = False,
    now: dt.datetime | None = None,
    expiry_text: str = "",
) -> Checked:
    """check_scan, also naming the patient and unit matched (what the API answers).
    `expiry_text`: the label's expiry bar code (005), when it was scanned too."""
    require(actor.role, "bedside.scan")
    if method not in METHODS:
        raise ValidationFailed(
            N_("Unknown scan method."),
            {"method": said("one of %(choices)s", choices=", ".join(METHODS))},
        )
    now = now or utcnow()
    # A scanner can send anything; PostgreSQL text cannot hold NUL, neither database a lone
    # surrogate, and the attempt must be kept.
    patient_text = NOT_STORABLE.sub("\ufffd", patient_text or "")
    scan_text = NOT_STORABLE.sub("\ufffd", scan_text or "")
    expiry_text = NOT_STORABLE.sub("\ufffd", expiry_text or "")
    label = read_label(key, scan_text, method)
    # Only an accepted label's unit is looked at (or recorded): a forged one proves nothing.
    unit = unit_row(session, label.din) if label.accepted and label.din else None
    patient = _patient(session, actor, patient_text)
    facts = bedside_facts(session, actor, label, unit, patient, acknowledge_exceptional, now)
    if expiry_text.strip() and facts.unit is not None:
        facts = dataclasses.replace(facts, **read_expiry(expiry_text, facts.zone))
    verdict = bedside.check(facts)
    scan = BedsideScan(
        site_id=actor.site_id,
        patient_text=patient_text[:200],
        scan_text=scan_text[:400],
        expiry_text=expiry_text[:200],
        method=method,
        patient_id=patient.id if patient else None,
        unit_id=unit.unit_id if unit else None,
        go=verdict.go,
        # Only the named patient's acknowledgement counts (and is kept for the reports).
        exceptional_acknowledged=acknowledge_exceptional and bedside.named_patient(facts),
        reasons=json.dumps(list(verdict.reasons), ensure_ascii=False),
        scanned_by_id=actor.id,
        scanned_at=now,
    )
    audit.created(session, actor, scan)
    return Checked(
        scan, verdict, patient.wristband if patient else None, unit.din if unit else None
    )


# Every fact of a unit in one statement: its lot and the lot's pinned specification, its
# allocation and prescription, its thaw, its latest shipment and whether it was infused (the
# prescription's containers, for the dose: services/dose.py).
_UNIT_FACTS = (
    select(
        Unit.id.label("unit_id"),
        Unit.din,
        Unit.state.label("unit_state"),
        Unit.cells,
        Lot.id.label("lot_id"),
        Lot.lot_number,
        Lot.state.label("lot_state"),
        Lot.expires_on,
        SpecVersion.id.label("spec_id"),
        SpecVersion.content_hash,
        Prescription.id.label("rx_id"),
        Prescription.patient_id.label("rx_patient_id"),
        Prescription.cells_needed,
        Prescription.tolerance,
        Prescription.weight_kg,
        Thaw.thawed_at,
        select(func.count())
        .where(Infusion.unit_id == Unit.id)
        .scalar_subquery()
        .label("infusions"),
        *LOCATION_COLUMNS,
        excursion_open(Shipment.id).label("cold_chain_log"),
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


def unit_row(session: Session, din: str) -> Row[Any] | None:
    """Every fact of the unit with this DIN, in one statement (None: no such unit)."""
    return session.execute(_UNIT_FACTS, {"din": din}).first()


def _unit_facts(session: Session, unit: Row[Any]) -> UnitFacts:
    """The unit's side, as domain/distribution.py judges it for allocation and shipping too."""
    terms = exceptional.Terms(None, ())
    if unit.lot_state == LotState.EXCEPTIONAL_RELEASE:
        terms = exceptional.terms_of(session, session.get_one(Lot, unit.lot_id))
    return UnitFacts(
        din=unit.din,
        lot_number=unit.lot_number,
        lot_state=unit.lot_state,
        expires_on=unit.expires_on,
        # An infusion on record settles it, whatever the state column says.
        unit_state=UnitState.INFUSED if unit.infusions else unit.unit_state,
        exceptional_patient_id=terms.patient_id,
        exceptional_problems=terms.problems,
        cold_chain_hold=unit.number if unit.cold_chain_log is not None else None,
    )


def bedside_facts(
    session: Session,
    actor: User,
    label: LabelRead,
    unit: Row[Any] | None,
    patient: Patient | None,
    acknowledged: bool,
    now: dt.datetime,
) -> bedside.BedsideFacts:
    if not label.accepted or unit is None:
        return bedside.BedsideFacts(
            label_accepted=label.accepted,
            label_reason=label.reason,
            label_problem=label.problem,
            label_source=label.source,
            din=label.din,
            now=now,
        )
    where = location_of(unit.number, unit.site_id, unit.status, unit.received)
    has_rx = unit.rx_id is not None
    mine = has_rx and patient is not None and unit.rx_patient_id == patient.id
    window = _window(session, unit.spec_id, unit.content_hash) if unit.spec_id else None
    # Consent has its own fact (the recorded date); every checklist answer, including the
    # consent items, stays an eligibility problem named in the reason.
    problems = [p for p in problems_of(patient) if p != NO_CONSENT] if patient else []
    return bedside.BedsideFacts(
        label_accepted=True,
        label_source=label.source,
        din=unit.din,
        unit=_unit_facts(session, unit),
        zone=clock.facility_zone(session),
        exceptional_acknowledged=acknowledged,
        received_at_site=where.site_id is not None and where.site_id == actor.site_id,
        received_elsewhere=where.site_id is not None and where.site_id != actor.site_id,
        in_transit=where.in_transit,
        patient_id=patient.id if patient else None,
        allocated_to_patient=mine,
        allocated_to_other=has_rx and not mine,
        patient_consented=patient is not None and patient.consent_date is not None,
        patient_eligible=patient is not None and not problems,
        eligibility_problems=tuple(problems),
        prescribed_cells=unit.cells_needed if mine else None,
        dose_tolerance=Decimal(unit.tolerance) if has_rx else Decimal("0.10"),
        weight_kg=Decimal(unit.weight_kg) if mine else Decimal(0),
        dose_containers=doses.containers_of(session, unit.rx_id) if mine else (),
        thawed_at=unit.thawed_at,
        post_thaw_minutes=window,
        now=now,
    )
