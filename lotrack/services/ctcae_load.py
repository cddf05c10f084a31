"""Convert NCI's CTCAE v4.03 file into the dictionary lotrack reads (`flask lotrack ctcae load`).

Reads NCI's spreadsheet saved as .xlsx (NCI publishes CTCAE_4.03_2010-06-14.xls; save it as
.xlsx or export it as CSV), a CSV with the same headers, or a FHIR CodeSystem (or a bundle holding
one) whose concepts carry `soc` and `grade1`..`grade5` properties. Every row is checked by
domain/ctcae.py; the result names its source, the file's SHA-256 and when it was loaded."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

from lotrack.db import utcnow
from lotrack.domain import ctcae
from lotrack.domain.ctcae import DictionaryError


def _xlsx_rows(path: Path) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()
    for i, row in enumerate(rows):  # the header row is the one naming the CTCAE term column
        header = [str(c or "").strip() for c in row]
        if any(h.replace(" ", "").casefold().startswith("ctcae") for h in header):
            return [dict(zip(header, r, strict=False)) for r in rows[i + 1 :]]
    raise DictionaryError(f"{path}: no header row with a 'CTCAE Term' column")


def _fhir_rows(path: Path, data: Any) -> list[dict[str, Any]]:
    systems = (
        [data]
        if data.get("resourceType") == "CodeSystem"
        else [e.get("resource", {}) for e in data.get("entry", [])]
    )
    concepts = [
        c for s in systems if s.get("resourceType") == "CodeSystem" for c in s.get("concept", [])
    ]
    if not concepts:
        raise DictionaryError(f"{path}: no CodeSystem concepts")
    rows = []
    for c in concepts:
        props = {p.get("code"): p.get("valueString") for p in c.get("property", [])}
        row = {
            "MedDRA Code": c.get("code"),
            "CTCAE Term": c.get("display"),
            "MedDRA SOC": props.get("soc"),
            "Definition": c.get("definition"),
        }
        row.update({f"Grade {g}": props.get(f"grade{g}") for g in ctcae.GRADES})
        rows.append(row)
    return rows


def read_rows(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.casefold()
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))
    if suffix == ".json":
        return _fhir_rows(path, json.loads(path.read_text("utf-8")))
    raise DictionaryError(
        f"{path}: use NCI's spreadsheet saved as .xlsx, a CSV export of it, or a FHIR CodeSystem"
    )


def convert(path: Path, source: str) -> dict[str, Any]:
    """The dictionary in `path`, checked, with its provenance; DictionaryError otherwise."""
    if not source.strip():
        raise DictionaryError("--source must say where the file comes from (URL, version)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = utcnow().date().isoformat()
    data = ctcae.from_rows(
        read_rows(path), f"{source.strip()} (file {path.name}, SHA-256 {digest})", loaded
    )
    ctcae.parse(data, str(path))  # as the app will read it
    return data


def write(data: dict[str, Any], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")
