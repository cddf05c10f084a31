"""Response schemas of /api/v1. Field names here are the public contract (DESIGN.md): clients read
them. Decimals are strings (exact), dates and times ISO 8601 (times in UTC)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from lotrack.domain.states import UnitState
from lotrack.models import CellBank, ProductionRun
from lotrack.services.production import passage_figures


def _decimal() -> fields.Decimal:
    return fields.Decimal(
        as_string=True,
        places=2,
        metadata={"type": "string", "format": "decimal", "description": 'exact, e.g. "18.25"'},
    )


def _code_of(path: str, description: str) -> fields.Function:
    """The code of a related record (`path` like "run.code"), or null."""

    def get(obj: Any) -> str | None:
        for part in path.split("."):
            obj = getattr(obj, part, None)
        return obj

    return fields.Function(
        get, allow_none=True, metadata={"type": "string", "description": description}
    )


class Problem(Schema):
    """Every error: a code, a sentence, and the reason for each offending field."""

    error = fields.String(metadata={"description": "machine-readable code, e.g. invalid"})
    message = fields.String(metadata={"description": "what went wrong, in plain words"})
    field_reasons = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        data_key="fields",
        metadata={"description": "{field: reason} for each offending input"},
    )


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page of a list: {"items": [...], "page", "per_page", "total", "pages"}."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item)),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            "total": fields.Integer(),
            "pages": fields.Integer(),
        },
        name=name,
    )


# Donors and clones ------------------------------------------------------------------------------


class ScreeningRow(Schema):
    marker = fields.String()
    method = fields.String()
    result = fields.String()
    tested_on = fields.Date()
    recorded_at = fields.DateTime()


class ScreeningOut(ScreeningRow):
    donor = _code_of("donor.code", "the donor's code")


class CloneRow(Schema):
    code = fields.String()
    derived_on = fields.Date()
    created_at = fields.DateTime()


class CloneOut(CloneRow):
    donor = _code_of("donor.code", "the donor's code")


class DonorOut(Schema):
    code = fields.String()
    consent_date = fields.Date()
    determination = fields.String(metadata={"description": "eligible, ineligible or incomplete"})
    determined_by = fields.String(allow_none=True, metadata={"description": "responsible person"})
    determined_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class DonorDetail(DonorOut):
    screening = fields.List(fields.Nested(ScreeningRow))
    clones = fields.List(fields.Nested(CloneRow))


# Cell banks and vials ---------------------------------------------------------------------------


def _parent_code(bank: CellBank) -> str | None:
    parent = bank.parent if bank.parent is not None else bank.clone
    return parent.code if parent is not None else None


class BankOut(Schema):
    code = fields.String()
    tier = fields.String(metadata={"description": "MCB or WCB"})
    parent = fields.Function(
        _parent_code,
        allow_none=True,
        metadata={"type": "string", "description": "an MCB's clone, or a WCB's MCB; or null"},
    )
    passage_at_banking = fields.Integer()
    pdl_at_banking = _decimal()
    banked_on = fields.Date()
    qualification = fields.String()
    spec_version = fields.Nested(
        lambda: SpecVersionRef(),
        allow_none=True,
        metadata={"description": "the qualification specification the bank is judged by"},
    )
    created_at = fields.DateTime()


class WithdrawalOut(Schema):
    withdrawn_at = fields.DateTime()
    purpose = fields.String()
    run = _code_of("run.code", "the production run the vial started, if any")


class VialRow(Schema):
    number = fields.Integer()
    label = fields.String(metadata={"description": "bank code and vial number, e.g. MCB-001-V003"})
    freezer = fields.String()
    rack = fields.String()
    box = fields.String()
    position = fields.String()
    state = fields.String(metadata={"description": "stored, withdrawn or destroyed"})
    withdrawal = fields.Nested(WithdrawalOut, allow_none=True)


class VialOut(VialRow):
    bank = _code_of("bank.code", "the cell bank's code")


class BankDetail(BankOut):
    vials = fields.List(fields.Nested(VialRow))


class VialsCreated(Schema):
    bank = fields.String()
    vials = fields.List(fields.Nested(VialRow))


# Production runs and passages -------------------------------------------------------------------


class PassageOut(Schema):
    number = fields.Integer()
    seeded_on = fields.Date()
    harvested_on = fields.Date()
    cells_seeded = fields.Integer()
    cells_harvested = fields.Integer()
    viability_percent = _decimal()
    doublings = _decimal()
    cumulative_pdl = _decimal()
    flags = fields.List(fields.String(), metadata={"description": "limits this passage exceeds"})


def passage_rows(run: ProductionRun) -> list[dict[str, Any]]:
    """A run's passages with doublings, cumulative level and flags (production.passage_figures)."""
    figures = {f.number: f for f in passage_figures(run)}
    return [
        {
            "number": p.number,
            "seeded_on": p.seeded_on,
            "harvested_on": p.harvested_on,
            "cells_seeded": p.cells_seeded,
            "cells_harvested": p.cells_harvested,
            "viability_percent": p.viability_percent,
            "doublings": figures[p.number].doublings,
            "cumulative_pdl": figures[p.number].cumulative_pdl,
            "flags": list(figures[p.number].flags),
        }
        for p in run.passages
    ]


class PassageRows(fields.Nested):
    """A run's passages with their figures, computed from the run being dumped."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(PassageOut, many=True, **kwargs)

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        return passage_rows(obj)


class LotRef(Schema):
    lot_number = fields.String()
    state = fields.String()


class RunOut(Schema):
    code = fields.String()
    product = fields.String()
    bank = _code_of("bank.code", "the WCB the run started from")
    started_on = fields.Date()
    created_at = fields.DateTime()


class TraceRun(RunOut):
    vials = fields.Function(
        lambda run: [w.vial.label for w in run.withdrawals],
        metadata={"type": "array", "items": {"type": "string"}, "description": "vials used"},
    )
    passages = PassageRows()


class RunDetail(TraceRun):
    lots = fields.List(fields.Nested(LotRef))


# Lots and units ---------------------------------------------------------------------------------


def _stored(name: str) -> fields.Function:
    """A storage position field, shown only while the unit is stored at the manufacturer: once it
    has left (or was destroyed) it is no longer there, so the field is null."""
    return fields.Function(
        lambda u: getattr(u, name) if u.state == UnitState.STORED else None,
        allow_none=True,
        metadata={"type": "string", "description": f"its {name} while stored; else null"},
    )


class UnitOut(Schema):
    din = fields.String(metadata={"description": "ISBT 128 DIN, 13 characters, no spaces"})
    check_character = fields.String(metadata={"description": "ISO/IEC 7064 MOD 37-2"})
    lot = _code_of("lot.lot_number", "the lot number")
    lot_state = _code_of("lot.state", "the lot's state, which the unit follows")
    state = fields.String(
        metadata={
            "description": "where the unit is and what happened to it: stored (at the"
            " manufacturer), in_transit, received, missing (shipped, never received), thawed,"
            " infused or destroyed"
        }
    )
    container = fields.String(metadata={"description": "bag or vial"})
    cells = fields.Integer()
    volume_ml = _decimal()
    freezer = _stored("freezer")
    rack = _stored("rack")
    box = _stored("box")
    position = _stored("position")
    created_at = fields.DateTime()


class UnitDetail(UnitOut):
    """A unit by DIN, with where it is now."""

    site = fields.String(
        allow_none=True, metadata={"description": "the site it was shipped to (null: never)"}
    )
    shipment = fields.String(allow_none=True, metadata={"description": "its shipment's number"})
    where = fields.String(metadata={"description": 'in a sentence, e.g. "received at SZ-GIMI"'})


class LotOut(Schema):
    lot_number = fields.String()
    state = fields.String()
    run = _code_of("run.code", "the production run harvested")
    harvested_on = fields.Date()
    expires_on = fields.Date()
    spec_version = fields.Nested(
        lambda: SpecVersionRef(),
        allow_none=True,
        metadata={"description": "the release specification pinned when the lot was created"},
    )
    created_at = fields.DateTime()


class LotDetail(LotOut):
    units = fields.List(fields.Nested(UnitOut))


class UnitsCreated(Schema):
    lot = fields.String()
    units = fields.List(fields.Nested(UnitOut))


# Lineage ----------------------------------------------------------------------------------------


class TraceBack(Schema):
    """From a lot back to its donor: donor → clone → MCB → WCB → run (passages) → lot (units)."""

    donor = fields.Nested(DonorOut)
    clone = fields.Nested(CloneOut)
    mcb = fields.Nested(BankOut)
    wcb = fields.Nested(BankOut)
    run = fields.Nested(TraceRun)
    lot = fields.Nested(LotDetail)


class ForwardRun(RunOut):
    passages = PassageRows()
    lots = fields.List(fields.Nested(LotDetail))


class ForwardBank(BankOut):
    runs = fields.List(fields.Nested(ForwardRun))


class TraceForward(Schema):
    """From a bank forward: the bank, its WCBs (the bank itself when it is a WCB), their runs,
    lots and units."""

    bank = fields.Nested(BankOut)
    wcbs = fields.List(
        fields.Nested(ForwardBank),
        metadata={"description": "each WCB with this page's runs (by start date, then code)"},
    )
    run_count = fields.Integer(metadata={"description": "runs from the bank, on every page"})
    lot_count = fields.Integer(metadata={"description": "lots of every run, not only this page's"})
    unit_count = fields.Integer(metadata={"description": "units of every lot"})
    page = fields.Integer()
    per_page = fields.Integer(metadata={"description": "runs per page"})
    pages = fields.Integer()


class SpecVersionRef(Schema):
    """Which specification version; anyone can recompute the hash of its canonical content."""

    id = fields.Integer()
    label = fields.String(
        metadata={"description": 'product, stage and version: "cfMSC release v1"'}
    )
    content_hash = fields.String(metadata={"description": "SHA-256 of the canonical content"})
