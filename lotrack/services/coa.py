"""Certificates of analysis: rendered from a plain-data snapshot (embedded in the PDF/A-3b as
JSON), a signed token in the QR code, versioned, never overwritten (a new version supersedes)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.documents import codes, tokens
from lotrack.documents.bilingual import DEFAULT_LANGUAGES, Captions
from lotrack.documents.render import pdf_from_html, render_html
from lotrack.domain import clock as zones
from lotrack.domain.decisions import Action
from lotrack.domain.errors import Conflict, NotFound, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.states import USABLE_LOT_STATES, LotState
from lotrack.domain.text import N_, Said, said
from lotrack.models import Certificate, Lot, User
from lotrack.services import audit, clock, lineage, signature
from lotrack.services.audit import canonical
from lotrack.services.documents import Printing
from lotrack.services.evaluation import evaluate_lot


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
                # The specification's method; a test met by one of alternative markers names
                # the marker measured beside its result ("CD14: 0.6 %"), not in place of it.
                "method": o.test.method,
                "criterion": o.test.criterion(),
                "result": _shown(o.result, bool(o.test.alternatives)),
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


def _shown(result: Any, alternatives: bool) -> str:
    """A result as the certificate prints it: value and unit, the marker first when the test
    accepts alternative markers."""
    if result is None:
        return "—"
    value = f"{result.value} {result.unit}".strip()
    return f"{result.analyte}: {value}" if alternatives else value


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


def snapshot_of(cert: Certificate) -> dict[str, Any]:
    return json.loads(cert.snapshot)
