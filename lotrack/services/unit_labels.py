"""Unit labels: one per unit, with its DIN in Code 128 and a signed token in a QR code; previews
that cannot be mistaken for labels, and every print logged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.documents import codes, tokens, zpl
from lotrack.documents.bilingual import Captions
from lotrack.documents.render import pdf_from_html, render_html
from lotrack.domain import isbt128, isbt128_structures
from lotrack.domain.distribution import lot_status
from lotrack.domain.errors import ValidationFailed
from lotrack.domain.isbt128_expiry import expiry_symbol
from lotrack.domain.label_output import ZPL_DPIS, LabelOutput
from lotrack.domain.label_statements import LabelFacts, label_statements
from lotrack.domain.permissions import require
from lotrack.domain.states import USABLE_LOT_STATES
from lotrack.domain.text import N_, said
from lotrack.models import LabelPrint, Lot, Unit, User
from lotrack.services import audit, clock
from lotrack.services.documents import STOCKS, Printing, stock_mm

T = TypeVar("T")
PREVIEW_DATA = "PREVIEW"  # what every bar code of a preview carries: no unit, no product, no date


@dataclass(frozen=True)
class LabelSheet:
    pdf: bytes
    units: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ZplSheet:
    """ZPL II text, one ^XA…^XZ format per unit, for a printer at `dpi`."""

    zpl: str
    dpi: int
    units: list[str] = field(default_factory=list)


def _label(
    session: Session, unit: Unit, lot: Lot, printing: Printing, preview: bool = False
) -> dict[str, Any]:
    """What one label prints, for the PDF and the ZPL alike. A preview carries no signed token and
    no data in its bar codes: scanned, it identifies no unit (/v/ and the bedside answer "a label
    preview"); its layout is the printed label's."""
    zone = clock.facility_zone(session)
    now = utcnow()
    # ISBT 128: the DIN with its type 3 flags (001), the product code (003) and the expiry (005).
    symbols = [
        isbt128_structures.din_symbol(unit.din),
        isbt128_structures.product_symbol(printing.product_code, printing.product_pattern),
        expiry_symbol(lot.expires_on, zone),
    ]
    token = (
        tokens.preview_token(unit.din)
        if preview
        else tokens.make_token(printing.key, "U", unit.din)
    )
    url = printing.verify_url(token)
    facts = LabelFacts(printing.jurisdiction, lot.state, _donor_determination(lot))
    chosen = label_statements(facts)
    warnings = [s for s in chosen if s.warning]
    others = [s for s in chosen if not s.warning]
    return {
        "din": unit.din,
        "din_eye": isbt128.eye_readable(unit.din),
        "check": unit.check_character,
        "symbols": [
            {
                "structure": name,
                "data": PREVIEW_DATA if preview else symbol.data,
                "eye": symbol.eye,
                "check": symbol.check,
                "drawn": codes.code128_svg(
                    PREVIEW_DATA if preview else symbol.data, 6.0 if name == "001" else 4.5
                ),
            }
            for name, symbol in zip(("001", "003", "005"), symbols, strict=True)
        ],
        "qr": codes.qr_svg(url),
        "url": url,
        "product": printing.product_name,
        "product_code": printing.product_code,
        "lot": lot.lot_number,
        "cells": f"{unit.cells / 1e6:.1f} × 10⁶",  # "… cells in …" in each language
        "volume": f"{unit.volume_ml} mL",
        "container": unit.container,
        # Usable to the end of this date in this zone: what services/clock.expired judges.
        "expiry": symbols[2].eye,
        "warnings": _by_language(printing, [w.zh for w in warnings], [w.en for w in warnings]),
        "statements": _by_language(
            printing,
            [s.zh for s in others] + [*printing.statements_zh, printing.storage_zh],
            [s.en for s in others] + [*printing.statements, printing.storage],
        ),
        "statement_codes": [s.code for s in chosen],
        "state": lot_status(lot.state, lot.expires_on, now, zone),  # EXPIRED once past it
        "usable": lot.state in USABLE_LOT_STATES
        and not clock.expired(session, lot.expires_on, now),
        "preview": preview,  # which ZPL refuses: a preview is never printable as a label
    }


def _donor_determination(lot: Lot) -> str | None:
    """The determination of the donor whose cells the lot came from (WCB, its MCB, the clone)."""
    wcb = lot.run.bank
    mcb = wcb.parent if wcb.parent is not None else wcb
    return mcb.clone.donor.determination if mcb.clone is not None else None


def _by_language(printing: Printing, zh: list[str], en: list[str]) -> list[list[str]]:
    """The Chinese and the English texts, in the configured order; empty ones are left out."""
    texts = {"zh_CN": [t for t in zh if t], "en": [t for t in en if t]}
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
    if len(units) > printing.max_labels:
        # Refused before any rendering: one request's PDF stays bounded (the edges ask in parts).
        raise ValidationFailed(
            said(
                "%(num)s labels are more than one PDF holds (at most %(max)s): print them in parts",
                num=len(units),
                max=printing.max_labels,
            ),
            {"units": said("at most %(max)s", max=printing.max_labels)},
        )


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
    pdf = _logged(
        session,
        actor,
        units,
        printing,
        reason,
        LabelOutput.PDF,
        None,
        lambda: _render_sheet(session, units, printing),
    )
    return LabelSheet(pdf, [u.din for u in units])


def print_zpl_labels(
    session: Session,
    actor: User,
    units: list[Unit],
    printing: Printing,
    dpi: int,
    reason: str = "",
) -> ZplSheet:
    """The same labels as ZPL II for a thermal printer at `dpi` (203 or 300), one format per unit,
    through the same checks and the same print log as the PDF. Never a preview: a ZPL label is
    always a print."""
    _check_sheet(actor, units, printing)
    if dpi not in ZPL_DPIS:
        choices = ", ".join(str(d) for d in ZPL_DPIS)
        raise ValidationFailed(
            said("A thermal printer's resolution is one of %(choices)s dpi.", choices=choices),
            {"dpi": said("one of %(choices)s", choices=choices)},
        )
    text = _logged(
        session,
        actor,
        units,
        printing,
        reason,
        LabelOutput.ZPL,
        dpi,
        lambda: zpl.labels_zpl(
            [_label(session, u, u.lot, printing) for u in units],
            Captions(printing.languages),
            stock_mm(printing.stock),
            dpi,
            printing.zpl_font,
        ),
    )
    return ZplSheet(text, dpi, [u.din for u in units])


def _logged(
    session: Session,
    actor: User,
    units: list[Unit],
    printing: Printing,
    reason: str,
    output: LabelOutput,
    dpi: int | None,
    render: Callable[[], T],
) -> T:
    """`render()`, with each unit's print logged and audited: refused before anything is rendered
    or written when a unit was printed before (in any output) and no reason is given."""
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
    rendered = render()
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
                output=output,
                dpi=dpi,
            ),
            reason=reason,
        )
    return rendered


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
