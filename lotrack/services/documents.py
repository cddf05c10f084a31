"""Certificates of analysis and unit labels: rendered from a plain-data snapshot, signed tokens in
their QR codes, every print logged, and the live status a scanned token answers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.documents import codes, tokens
from lotrack.documents.bilingual import DEFAULT_LANGUAGES, Captions
from lotrack.documents.render import pdf_from_html, render_html
from lotrack.domain import clock as zones
from lotrack.domain import isbt128
from lotrack.domain.decisions import Action
from lotrack.domain.distribution import lot_status
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import USABLE_LOT_STATES, LotState
from lotrack.domain.text import N_, Said, said
from lotrack.models import Certificate, LabelPrint, Lot, Unit, User
from lotrack.services import audit, clock, lineage, signature
from lotrack.services.audit import canonical
from lotrack.services.evaluation import evaluate_lot

STOCKS = {"4x2in": ("101.6mm", "50.8mm"), "100x100mm": ("100mm", "100mm")}


@dataclass(frozen=True)
class Printing:
    """What the edges pass in from configuration."""

    key: Ed25519PrivateKey
    base_url: str
    product_name: str = "cfMSC"
    stock: str = "4x2in"
    statements: tuple[str, ...] = ()
    storage: str = ""
    # The languages the certificate and labels print, in order; Chinese statements and storage
    # are printed when "zh_CN" is among them (English ones when "en" is).
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    statements_zh: tuple[str, ...] = ()
    storage_zh: str = ""

    def verify_url(self, token: str) -> str:
        return f"{self.base_url.rstrip('/')}/v/{token}"


def _signatures(session: Session, lot: Lot) -> list[dict[str, Any]]:
    zone = clock.facility_zone(session)  # as the certificate's issue line
    return [
        {
            "name": s.signature.signer_name,
            "meaning": s.signature.meaning,
            "at": zones.named(s.signature.signed_at, zone, seconds=True),
            "void": s.void,
        }
        for s in signature.signatures_of(session, lot)
        if s.signature.action in (Action.RELEASE, Action.EXCEPTIONAL_RELEASE)
    ]


def coa_snapshot(session: Session, actor: User, lot: Lot, printing: Printing) -> dict[str, Any]:
    """Everything the certificate shows, as plain data (also embedded in the PDF as JSON)."""
    line = lineage.lot_back(session, actor, lot.lot_number)
    ev = evaluate_lot(session, lot)
    last_pdl = line.figures[-1].cumulative_pdl if line.figures else line.wcb.pdl_at_banking
    return {
        "product": printing.product_name,
        "lot": lot.lot_number,
        "state": lot.state,
        "spec": {
            "label": ev.version.label if ev.version else None,
            "sha256": ev.version.content_hash if ev.version else None,
        },
        "lineage": {
            "donor": line.donor.code,
            "clone": line.clone.code,
            "mcb": line.mcb.code,
            "wcb": line.wcb.code,
            "run": line.run.code,
            "passage": line.figures[-1].number if line.figures else None,
            "cumulative_pdl": str(last_pdl),
        },
        "harvested_on": lot.harvested_on.isoformat(),
        "expires_on": lot.expires_on.isoformat(),
        "tests": [
            {
                "code": o.test.code,
                "name": o.test.name,
                "method": o.result.analyte if o.test.alternatives and o.result else o.test.method,
                "criterion": o.test.criterion(),
                "result": f"{o.result.value} {o.result.unit}".strip() if o.result else "—",
                "conclusion": {"pass": "Conforms", "alert": "Conforms (alert)"}.get(
                    o.verdict.value, o.verdict.value.replace("fail", "Does not conform")
                ),
                "required": o.test.required,
            }
            for o in ev.evaluation.outcomes
        ],
        "signatures": _signatures(session, lot),
        "exceptional": lot.state == LotState.EXCEPTIONAL_RELEASE,
        "languages": list(printing.languages),
    }


def current_certificate(session: Session, lot: Lot) -> Certificate | None:
    return session.scalar(
        select(Certificate)
        .where(Certificate.lot_id == lot.id, Certificate.superseded_at.is_(None))
        .order_by(Certificate.version.desc())
        .limit(1)
    )


def certificates_of(session: Session, lot: Lot) -> list[Certificate]:
    return list(
        session.scalars(
            select(Certificate).where(Certificate.lot_id == lot.id).order_by(Certificate.version)
        )
    )


def render_coa(snapshot: dict[str, Any], qr: str) -> bytes:
    """The certificate in the languages its snapshot names (both, by default), PDF/A-3b."""
    t = Captions(tuple(snapshot.get("languages") or DEFAULT_LANGUAGES))
    html = render_html("documents/coa.html", coa=snapshot, qr=qr, t=t)
    return pdf_from_html(html, attachments={"coa-data.json": canonical(snapshot)}, pdf_a=True)


def issue_certificate(
    session: Session, actor: User, lot: Lot, printing: Printing, reason: str = ""
) -> Certificate:
    """Issue (or re-issue, with a reason) the lot's CoA; only for released lots."""
    require(actor.role, "release.decide")
    if lot.state not in USABLE_LOT_STATES:
        raise Conflict(
            said(
                "Lot %(lot)s is %(state)s; a certificate is issued only for a RELEASED or"
                " EXCEPTIONALLY RELEASED lot.",
                lot=lot.lot_number,
                state=Said(str(lot.state)),  # a coded word, translated
            ),
            {"lot": said("is %(state)s", state=Said(str(lot.state)))},
        )
    previous = current_certificate(session, lot)
    if previous is not None and not (reason or "").strip():
        raise ValidationFailed(
            N_("A certificate exists; state why it is re-issued."),
            {"reason": N_("required to re-issue")},
        )
    version = (
        session.scalar(select(func.max(Certificate.version)).where(Certificate.lot_id == lot.id))
        or 0
    ) + 1
    number = f"COA-{lot.lot_number}"
    token = tokens.make_token(printing.key, "C", f"{number}:{version}")
    snapshot = coa_snapshot(session, actor, lot, printing)
    snapshot |= {
        "document_number": number,
        "version": version,
        # In the facility's zone, named, as every page shows a time.
        "issued_at": zones.named(utcnow(), clock.facility_zone(session)),
        "issued_by": actor.full_name,
        "verify_url": printing.verify_url(token),
    }
    pdf = render_coa(snapshot, codes.qr_svg(printing.verify_url(token)))
    cert = Certificate(
        lot_id=lot.id,
        document_number=number,
        version=version,
        snapshot=canonical(snapshot),
        pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        token=token,
        reason=(reason or "").strip(),
        issued_by_id=actor.id,
    )
    audit.created(session, actor, cert, reason=reason)
    session.flush()
    if previous is not None:
        audit.changed(
            session,
            actor,
            previous,
            {"superseded_by_id": cert.id, "superseded_at": utcnow()},
            reason=f"superseded by version {version}: {reason}",
        )
    return cert


@dataclass(frozen=True)
class LabelSheet:
    pdf: bytes
    units: list[str] = field(default_factory=list)


def _label(
    session: Session, unit: Unit, lot: Lot, printing: Printing, preview: bool = False
) -> dict[str, Any]:
    """A preview carries no signed token and no DIN in its bar code: scanned, it identifies no
    unit (/v/ and the bedside answer "a label preview"); its layout is the printed label's."""
    if preview:
        token = tokens.preview_token(unit.din)
        barcode = codes.code128_svg("PREVIEW")
    else:
        token = tokens.make_token(printing.key, "U", unit.din)
        barcode = codes.code128_svg(unit.din)
    url = printing.verify_url(token)
    zone = clock.facility_zone(session)
    now = utcnow()
    return {
        "din": unit.din,
        "din_eye": isbt128.eye_readable(unit.din),
        "check": unit.check_character,
        "barcode": barcode,
        "qr": codes.qr_svg(url),
        "url": url,
        "product": printing.product_name,
        "lot": lot.lot_number,
        "cells": f"{unit.cells / 1e6:.1f} × 10⁶",  # "… cells in …" in each language
        "volume": f"{unit.volume_ml} mL",
        "container": unit.container,
        # Usable to the end of this date in this zone: what services/clock.expired judges.
        "expiry": f"{lot.expires_on:%Y-%m-%d} 23:59 ({zone})",
        "storage": _by_language(printing, printing.storage_zh, printing.storage),
        "statements": _by_language(
            printing, list(printing.statements_zh), list(printing.statements)
        ),
        "state": lot_status(lot.state, lot.expires_on, now, zone),  # EXPIRED once past it
        "usable": lot.state in USABLE_LOT_STATES
        and not clock.expired(session, lot.expires_on, now),
    }


def _by_language(printing: Printing, zh: Any, en: Any) -> list[Any]:
    """The Chinese and the English text, in the configured order; an empty one is left out."""
    texts = {"zh_CN": zh, "en": en}
    return [texts[lang] for lang in printing.languages if texts[lang]]


def _check_sheet(actor: User, units: list[Unit], printing: Printing) -> None:
    require(actor.role, "labels.print")
    if printing.stock not in STOCKS:
        raise ValidationFailed(
            N_("Unknown label stock."),
            {"stock": said("one of %(choices)s", choices=", ".join(STOCKS))},
        )
    if not units:
        raise ValidationFailed(N_("No unit to label."), {"units": N_("none")})


def _render_sheet(
    session: Session, units: list[Unit], printing: Printing, preview: bool = False
) -> bytes:
    labels = [_label(session, u, u.lot, printing, preview) for u in units]
    width, height = STOCKS[printing.stock]
    html = render_html(
        "documents/labels.html",
        labels=labels,
        width=width,
        height=height,
        preview=preview,
        t=Captions(printing.languages),
    )
    return pdf_from_html(html)


def preview_labels(
    session: Session, actor: User, units: list[Unit], printing: Printing
) -> LabelSheet:
    """The labels as they would print, each stamped "PREVIEW – NOT FOR LABELLING", with no signed
    token and no DIN bar code. A read: nothing is logged, audited or numbered."""
    _check_sheet(actor, units, printing)
    return LabelSheet(_render_sheet(session, units, printing, preview=True), [u.din for u in units])


def print_labels(
    session: Session,
    actor: User,
    units: list[Unit],
    printing: Printing,
    reason: str = "",
) -> LabelSheet:
    """One page per unit on the configured stock; each print is logged, a reprint needs a reason."""
    _check_sheet(actor, units, printing)
    printed_before = set(
        session.scalars(
            select(LabelPrint.unit_id).where(LabelPrint.unit_id.in_([u.id for u in units]))
        )
    )
    if printed_before and not (reason or "").strip():
        raise ValidationFailed(
            N_("Some of these labels were printed before; a reprint needs a reason."),
            {"reason": N_("required for a reprint")},
        )
    pdf = _render_sheet(session, units, printing)
    for u in units:
        audit.created(
            session,
            actor,
            LabelPrint(
                unit_id=u.id,
                printed_by_id=actor.id,
                reprint=u.id in printed_before,
                reason=(reason or "").strip(),
                stock=printing.stock,
                lot_state=u.lot.state,
            ),
            reason=reason,
        )
    return LabelSheet(pdf, [u.din for u in units])


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
        return Verification(
            True,
            _status(session, unit.lot),
            kind="unit",
            product=product,
            lot=unit.lot.lot_number,
            unit=unit.din,
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


def get_certificate(session: Session, lot: Lot, version: int | None = None) -> Certificate:
    cert = (
        current_certificate(session, lot)
        if version is None
        else session.scalar(
            select(Certificate).where(Certificate.lot_id == lot.id, Certificate.version == version)
        )
    )
    if cert is None:
        raise NotFound(
            said("Lot %(lot)s has no certificate.", lot=lot.lot_number),
            {"lot": N_("no certificate")},
        )
    return cert


def prints_of(session: Session, lot: Lot) -> list[LabelPrint]:
    """The print log of a lot's labels, newest first."""
    return list(
        session.scalars(
            select(LabelPrint)
            .join(Unit, LabelPrint.unit_id == Unit.id)
            .where(Unit.lot_id == lot.id)
            .order_by(LabelPrint.id.desc())
        )
    )


def snapshot_of(cert: Certificate) -> dict[str, Any]:
    return json.loads(cert.snapshot)
