"""Instrument CSV import: every row is checked before anything is written; one bad row writes none.

Accepted columns (header names, any case): `lot` (unless the import is for one lot), `test` or
`marker`, `value`, `result` or `percent` (percent implies the unit %), `unit`, `performed_on` or
`date` (ISO dates), `instrument`, `method`, `reagent_lot`. Comma, semicolon or tab separated.

Each row is recorded through `result.record_result`, in file order, so every rule of a single entry
holds for every row, the test-date rule (`domain/result_dates.py`) included: a row dated in the
future by the facility's calendar or before its lot's harvest is refused, and a final reading may
not predate the pending entry it completes, whether recorded earlier or a few lines above.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lotrack.domain.errors import DomainError, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.models import Lot, Result, User
from lotrack.services.lot import get_lot
from lotrack.services.result import record_result

ALIASES = {
    "lot": "lot",
    "lot_number": "lot",
    "test": "test",
    "marker": "test",
    "analyte": "test",
    "value": "value",
    "result": "value",
    "percent": "percent",
    "unit": "unit",
    "performed_on": "performed_on",
    "date": "performed_on",
    "instrument": "instrument",
    "method": "method",
    "reagent_lot": "reagent_lot",
}
MAX_REPORTED = 200


@dataclass(frozen=True)
class ImportOutcome:
    results: list[Result]


def _rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else ",", ",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        header = next(reader, [])
        rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except csv.Error as err:
        raise ValidationFailed(
            f"The CSV cannot be read at line {reader.line_num}: {err}.",
            {f"line {reader.line_num}": str(err)},
        ) from None
    return [h.strip().lower().replace(" ", "_") for h in header], rows


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "The file is not UTF-8 text; export it as UTF-8 CSV.", {"file": "not UTF-8 text"}
        ) from None


def import_results(
    session: Session,
    actor: User,
    text: str,
    *,
    lot: Lot | None = None,
    defaults: dict[str, str] | None = None,
    max_rows: int = 100_000,
) -> ImportOutcome:
    """Record every row or none; a refusal lists each bad row with its line number."""
    require(actor.role, "results.write")
    if "\x00" in text:
        raise ValidationFailed("The file contains NUL characters.", {"file": "binary content"})
    header, rows = _rows(text)
    columns: dict[str, int] = {}
    unknown, twice = [], []
    for i, name in enumerate(header):
        if name in ALIASES:
            if ALIASES[name] in columns:
                twice.append(name)  # e.g. both `test` and `marker`: which one counts?
            columns[ALIASES[name]] = i
        elif name:
            unknown.append(name)
    wrong = []  # every header problem at once, so a misspelt column is named, not hidden
    if unknown:
        wrong.append(f"unknown column {', '.join(unknown)}")
    if twice:
        wrong.append(f"column {', '.join(twice)} names a column given twice")
    if "test" not in columns:
        wrong.append("a test (or marker) column is required")
    if "value" not in columns and "percent" not in columns:
        wrong.append("a value (or percent) column is required")
    if lot is None and "lot" not in columns:
        wrong.append("a lot column is required")
    problems: dict[str, str] = {"header": "; ".join(wrong)} if wrong else {}
    if not rows:
        problems["file"] = "no data rows"
    if len(rows) > max_rows:
        problems["file"] = f"{len(rows)} rows; at most {max_rows} per import"
    if problems:
        raise ValidationFailed("The CSV was not imported; nothing was written.", problems)
    defaults = defaults or {}
    lots: dict[str, Lot] = {}
    done: list[Result] = []
    bad: dict[str, str] = {}

    def cell(row: list[str], key: str) -> str:
        i = columns.get(key)
        value = row[i].strip() if i is not None and i < len(row) else ""
        return value or defaults.get(key, "")

    for line, row in rows:
        try:
            if len(row) > len(header):
                raise ValidationFailed("more cells than columns", {"row": "too many cells"})
            target = lot
            if "lot" in columns and cell(row, "lot"):
                number = cell(row, "lot").upper()
                if lot is not None and number != lot.lot_number:
                    raise ValidationFailed(
                        "wrong lot", {"lot": f"{number} is not lot {lot.lot_number}"}
                    )
                if number not in lots:
                    lots[number] = get_lot(session, number)
                target = lots[number]
            if target is None:
                raise ValidationFailed("no lot", {"lot": "required"})
            percent = "percent" in columns and "value" not in columns
            raw_date = cell(row, "performed_on")
            try:
                performed_on = dt.date.fromisoformat(raw_date)
            except ValueError:
                raise ValidationFailed(
                    "bad date", {"performed_on": f"'{raw_date}' is not a date (YYYY-MM-DD)"}
                ) from None
            done.append(
                record_result(
                    session,
                    actor,
                    target,
                    test=cell(row, "test"),
                    value=cell(row, "percent" if percent else "value"),
                    unit="%" if percent else cell(row, "unit"),
                    performed_on=performed_on,
                    method=cell(row, "method"),
                    instrument=cell(row, "instrument"),
                    reagent_lot=cell(row, "reagent_lot"),
                )
            )
        except DomainError as err:
            reason = "; ".join(f"{k}: {v}" for k, v in err.fields.items()) or err.message
            bad[f"line {line}"] = reason
    if bad:
        shown = dict(list(bad.items())[:MAX_REPORTED])
        more = len(bad) - len(shown)
        if more:
            shown["more"] = f"{more} further rows are bad too"
        raise ValidationFailed(
            f"{len(bad)} of {len(rows)} rows are bad; nothing was written.", shown
        )
    return ImportOutcome(done)
