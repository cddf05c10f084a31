"""What a scanned label or certificate token answers: genuine or not, and the live status of
its lot and unit now (not what was printed)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.documents import tokens
from lotrack.domain.distribution import lot_status, unit_status
from lotrack.domain.text import N_, said
from lotrack.models import Certificate, Lot, Unit
from lotrack.services import clock
from lotrack.services import lot as lots
from lotrack.services.coa import current_certificate


@dataclass(frozen=True)
class Verification:
    genuine: bool
    status: str = "NOT GENUINE"
    reason: str = ""
    kind: str | None = None
    product: str | None = None
    lot: str | None = None
    unit: str | None = None
    expires_on: str | None = None
    coa_sha256: str | None = None
    document: str | None = None
    zone: str | None = None  # the zone the expiry date ends in (as the label prints it)
    check_character: str | None = None  # the unit's, shown boxed beside its DIN


def _status(session: Session, lot: Lot) -> str:
    """What the lot's label or certificate reads now, on the facility's calendar."""
    return lot_status(lot.state, lot.expires_on, utcnow(), clock.facility_zone(session))


def verify_token(
    session: Session,
    key: Ed25519PrivateKey,
    token: str,
    product: str,
) -> Verification:
    """Genuine or not, and the live status of what the token names (no login needed). Expiry is
    judged in the facility's zone (services/clock.py)."""
    check = tokens.check_token(key.public_key(), token)
    if not check.genuine or check.subject is None:
        return Verification(False, reason=check.reason)
    if check.kind == "unit":
        unit = session.scalar(select(Unit).where(Unit.din == check.subject))
        if unit is None:
            return Verification(True, "UNKNOWN", N_("signed here but no such unit"), "unit")
        cert = current_certificate(session, unit.lot)
        # The unit's own status: its lot's, or ON HOLD while its shipment's excursion awaits QA.
        status = unit_status(lots.unit_facts(session, unit), utcnow(), clock.facility_zone(session))
        return Verification(
            True,
            status,
            kind="unit",
            product=product,
            lot=unit.lot.lot_number,
            unit=unit.din,
            check_character=unit.check_character,
            expires_on=unit.lot.expires_on.isoformat(),
            coa_sha256=cert.pdf_sha256 if cert else None,
            zone=clock.facility_zone(session),
        )
    number, _, version = check.subject.rpartition(":")
    if not version.isdigit():
        return Verification(True, "UNKNOWN", N_("signed here but unreadable"), "certificate")
    cert = session.scalar(
        select(Certificate).where(
            Certificate.document_number == number, Certificate.version == int(version)
        )
    )
    if cert is None:
        return Verification(
            True, "UNKNOWN", N_("signed here but no such certificate"), "certificate"
        )
    status = "SUPERSEDED" if cert.superseded_at is not None else _status(session, cert.lot)
    return Verification(
        True,
        status,
        kind="certificate",
        product=product,
        lot=cert.lot.lot_number,
        expires_on=cert.lot.expires_on.isoformat(),
        coa_sha256=cert.pdf_sha256,
        document=said(
            "%(number)s version %(version)s", number=cert.document_number, version=cert.version
        ),
        zone=clock.facility_zone(session),
    )
