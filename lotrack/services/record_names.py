"""Records as people name them, for the audit trail's readers: "lot CFM-2025-0001", "analyst:
tech", "unit: A9999 25 000012 K", never "lot_id: 5". The chain keeps the ids it proves; only
what is shown is named. One query per kind of record named, whatever the number of events."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain.isbt128 import eye_readable
from lotrack.models import (
    AdverseEvent,
    Attachment,
    AuditEvent,
    CellBank,
    Clone,
    Containment,
    Deviation,
    Donor,
    DoseCohort,
    ExceptionalRelease,
    Instrument,
    Investigation,
    Lot,
    Material,
    MaterialLot,
    Passage,
    Patient,
    ProductionRun,
    Result,
    RetainedSample,
    RetainedSampleWithdrawal,
    Shipment,
    Signature,
    Site,
    SpecVersion,
    Unit,
    User,
)

# A record's kind (its table) -> how to read its name.
NAMERS: dict[str, tuple[type[Any], Callable[[Any], str]]] = {
    "lot": (Lot, lambda r: r.lot_number),
    "unit": (Unit, lambda r: f"{eye_readable(r.din)} {r.check_character}"),
    "production_run": (ProductionRun, lambda r: r.code),
    "cell_bank": (CellBank, lambda r: r.code),
    "clone": (Clone, lambda r: r.code),
    "donor": (Donor, lambda r: r.code),
    "spec_version": (SpecVersion, lambda r: r.label),
    "result": (Result, lambda r: f"{r.id} ({r.analyte} {r.value} {r.unit})".replace(" )", ")")),
    "investigation": (Investigation, lambda r: r.number),
    "deviation": (Deviation, lambda r: r.number),
    "containment": (Containment, lambda r: r.number),
    "exceptional_release": (ExceptionalRelease, lambda r: r.number),
    "shipment": (Shipment, lambda r: r.number),
    "material_lot": (MaterialLot, lambda r: r.number),
    "material": (Material, lambda r: r.code),
    "instrument": (Instrument, lambda r: r.code),
    "patient": (Patient, lambda r: r.wristband),
    "site": (Site, lambda r: r.code),
    "user_account": (User, lambda r: r.username),
    "adverse_event": (AdverseEvent, lambda r: f"AE {r.id} ({r.term})"),
    "dose_cohort": (DoseCohort, lambda r: r.code),
    "attachment": (Attachment, lambda r: f"{r.id} ({r.filename})"),
    "signature": (Signature, lambda r: f"{r.id} ({r.meaning}, {r.signer_username})"),
    "passage": (Passage, lambda r: f"P{r.number}"),  # its run is named below
    "retained_sample": (RetainedSample, lambda r: r.number),
    "retained_sample_withdrawal": (RetainedSampleWithdrawal, lambda r: str(r.id)),  # and below
}
# A column holding another record's id -> that record's kind (user columns are found by name).
REFERENCES = {
    "lot_id": "lot",
    "unit_id": "unit",
    "run_id": "production_run",
    "bank_id": "cell_bank",
    "parent_bank_id": "cell_bank",
    "clone_id": "clone",
    "donor_id": "donor",
    "spec_version_id": "spec_version",
    "result_id": "result",
    "replaces_id": "result",
    "investigation_id": "investigation",
    "deviation_id": "deviation",
    "containment_id": "containment",
    "exceptional_release_id": "exceptional_release",
    "shipment_id": "shipment",
    "material_lot_id": "material_lot",
    "material_id": "material",
    "instrument_id": "instrument",
    "patient_id": "patient",
    "site_id": "site",
    "adverse_event_id": "adverse_event",
    "cohort_id": "dose_cohort",
    "attachment_id": "attachment",
    "passage_id": "passage",
    "sample_id": "retained_sample",
}
USER_COLUMNS = frozenset({"analyst_id", "signer_id", "operator_id", "witness_id", "user_id"})


def kind_of(column: str) -> str | None:
    """The kind of record a column refers to (None: a plain value)."""
    if column in USER_COLUMNS or column.endswith("_by_id"):
        return "user_account"
    return REFERENCES.get(column)


@dataclass(frozen=True)
class Change:
    field: str  # "analyst" for analyst_id: the name stands where the id stood
    old: Any
    new: Any


class Names:
    """Names looked up for a set of events: their records and the records their changes name."""

    def __init__(self, found: dict[tuple[str, int], str]) -> None:
        self.found = found

    def of(self, kind: str, ident: Any) -> str | None:
        text = str(ident)
        return self.found.get((kind, int(text))) if text.isdigit() else None

    def record(self, entity_type: str, entity_id: str) -> str:
        """ "lot CFM-2025-0001"; a link record as both its ends; unknown kinds by their id."""
        if entity_type == "containment_lot" and ":" in entity_id:
            hold, lot = entity_id.split(":", 1)
            return (
                f"containment_lot {self.of('containment', hold) or hold}"
                f" → {self.of('lot', lot) or lot}"
            )
        return f"{entity_type} {self.of(entity_type, entity_id) or entity_id}"

    def changes(self, event: AuditEvent) -> list[Change]:
        out = []
        for column, (old, new) in sorted(json.loads(event.changes or "{}").items()):
            kind = kind_of(column)
            if kind is None:
                out.append(Change(column, old, new))
                continue
            out.append(
                Change(
                    column.removesuffix("_id"),
                    None if old is None else (self.of(kind, old) or old),
                    None if new is None else (self.of(kind, new) or new),
                )
            )
        return out

    def changes_text(self, event: AuditEvent) -> str:
        """'field: old → new; ...' with names in place of ids (the timeline's export)."""
        return "; ".join(
            f"{c.field}: {c.new}" if c.old is None else f"{c.field}: {c.old} → {c.new}"
            for c in self.changes(event)
        )


def names_for(session: Session, events: Iterable[AuditEvent], *, every_kind: bool = False) -> Names:
    """Every name the events' records and changes need (one query per kind named). A page of
    any events (the audit log) asks `every_kind`: one query per kind always, so that its cost
    does not follow which kinds the page happens to hold."""
    wanted: dict[str, set[int]] = defaultdict(set)
    if every_kind:
        for kind in NAMERS:
            wanted[kind] = set()

    def want(kind: str | None, ident: Any) -> None:
        if kind in NAMERS and str(ident).isdigit():
            wanted[kind].add(int(str(ident)))

    for e in events:
        if e.entity_type == "containment_lot" and ":" in e.entity_id:
            hold, lot = e.entity_id.split(":", 1)
            want("containment", hold)
            want("lot", lot)
        else:
            want(e.entity_type, e.entity_id)
        for column, pair in json.loads(e.changes or "{}").items():
            for value in pair if isinstance(pair, list) else ():
                want(kind_of(column), value)
    found: dict[tuple[str, int], str] = {}
    for kind, ids in sorted(wanted.items()):
        model, name = NAMERS[kind]
        rows = list(session.scalars(select(model).where(model.id.in_(sorted(ids) or [-1]))))
        for row in rows:
            found[(kind, row.id)] = name(row)
        if kind == "passage":  # a passage is named by its run: one more query, not one per row
            runs = dict(
                session.execute(  # type: ignore[arg-type]
                    select(ProductionRun.id, ProductionRun.code).where(
                        ProductionRun.id.in_({r.run_id for r in rows} or {-1})
                    )
                ).all()
            )
            for row in rows:
                found[(kind, row.id)] = f"{runs.get(row.run_id, row.run_id)} P{row.number}"
        if kind == "retained_sample_withdrawal":  # "7 from RS-2026-001": one more query
            numbers = dict(
                session.execute(  # type: ignore[arg-type]
                    select(RetainedSample.id, RetainedSample.number).where(
                        RetainedSample.id.in_({r.sample_id for r in rows} or {-1})
                    )
                ).all()
            )
            for row in rows:
                found[(kind, row.id)] = f"{row.id} from {numbers.get(row.sample_id, row.sample_id)}"
    return Names(found)
