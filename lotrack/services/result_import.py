"""Instrument result import: every row is checked before any is written; one bad row writes none.

The file is a CSV or an Excel workbook (.xlsx, its first worksheet), told apart by content: a zip
archive that openpyxl opens is a workbook, anything else is text. Text is read as UTF-8 (with or
without a byte-order mark) and otherwise as GB18030 (a superset of GBK and GB2312, what a
Chinese-language Windows or instrument writes); the encoding found is named in the outcome and in
the audit trail. Bytes that are neither are refused naming `file`. A workbook's rows are the CSV's
rows: numbers as their value (99.1 stays "99.1", 5.0 is "5"), dates as ISO dates, and a refusal
names each bad row by its number in Excel.

Accepted columns (header names, any case, English or Chinese, see `ALIASES`): `lot` (unless the
import is for one lot), `test` or `marker`, `value`, `result` or `percent` (percent implies the
unit %), `unit`, `performed_on` or `date` (ISO dates), `instrument`, `method`, `reagent_lot`,
`material_lots` (registered material lot numbers, separated by spaces or "|"). Comma, semicolon
or tab separated. The template's guide columns `test_name` and `criterion` are read and not
recorded; in a file that has them (a filled-in template) a row without a value is skipped.

Each row is recorded through `result.record_result`, in file order, so every rule of a single entry
holds for every row, the test-date rule (`domain/result_dates.py`) included: a row dated in the
future by the facility's calendar or before its lot's harvest is refused, and a final reading may
not predate the pending entry it completes, whether recorded earlier or a few lines above.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain.errors import DomainError, ValidationFailed
from lotrack.domain.permissions import require
from lotrack.domain.text import N_, said
from lotrack.models import Lot, Result, User
from lotrack.services import audit
from lotrack.services.common import in_turn, norm, part
from lotrack.services.instrument_file import Table, describe, text_table
from lotrack.services.lot import get_lot
from lotrack.services.result import record_result
from lotrack.services.result_batch import Entry, record_all

# Header name (any case, spaces as underscores, full-width forms folded) -> the column it means.
# One table for every language an instrument writes its headers in.
ALIASES = {
    # English
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
    "material_lots": "material_lots",
    # The import template's guide (services/import_template.py): read, never recorded.
    "test_name": "test_name",
    "criterion": "criterion",
    # Chinese (简体), as Chinese-language instrument software and LIMS exports label them
    "批号": "lot",
    "批次": "lot",
    "批次号": "lot",
    "产品批号": "lot",
    "检测项目": "test",
    "检验项目": "test",
    "项目": "test",
    "标志物": "test",
    "分析物": "test",
    "结果": "value",
    "数值": "value",
    "检测结果": "value",
    "检验结果": "value",
    "测定值": "value",
    "百分比": "percent",
    "百分率": "percent",
    "单位": "unit",
    "检测日期": "performed_on",
    "检验日期": "performed_on",
    "测定日期": "performed_on",
    "日期": "performed_on",
    "仪器": "instrument",
    "检测仪器": "instrument",
    "仪器名称": "instrument",
    "方法": "method",
    "检测方法": "method",
    "检验方法": "method",
    "试剂批号": "reagent_lot",
    "物料批号": "material_lots",
    "检测名称": "test_name",
    "标准": "criterion",
}
MAX_REPORTED = 200


@dataclass(frozen=True)
class ImportOutcome:
    results: list[Result]
    format: str = "csv"
    encoding: str | None = None

    @property
    def described(self) -> str:
        return describe(self.format, self.encoding)


def import_results(
    session: Session,
    actor: User,
    source: str | Table,
    *,
    lot: Lot | None = None,
    defaults: dict[str, str] | None = None,
    max_rows: int = 100_000,
) -> ImportOutcome:
    """Record every row or none; a refusal lists each bad row with its line number.

    `source` is CSV text or an upload already `read`; the lots given rows each get an audit
    event naming the file, its format and the encoding its text was read with.
    """
    require(actor.role, "results.write")
    table = text_table(source, None) if isinstance(source, str) else source
    header, rows = table.header, table.rows
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
        wrong.append(said("unknown column %(columns)s", columns=", ".join(unknown)))
    if twice:
        wrong.append(
            said("column %(columns)s names a column given twice", columns=", ".join(twice))
        )
    if "test" not in columns:
        wrong.append(N_("a test (or marker) column is required"))
    if "value" not in columns and "percent" not in columns:
        wrong.append(N_("a value (or percent) column is required"))
    if lot is None and "lot" not in columns:
        wrong.append(N_("a lot column is required"))
    problems: dict[str, str] = {"header": in_turn(wrong)} if wrong else {}
    if not rows:
        problems["file"] = N_("no data rows")
    if table.total > max_rows:
        problems["file"] = said(
            "%(rows)s rows; at most %(max)s per import", rows=table.total, max=max_rows
        )
    if problems:
        raise ValidationFailed(
            N_("The workbook was not imported; nothing was written.")
            if table.format == "xlsx"
            else N_("The CSV was not imported; nothing was written."),
            problems,
        )
    defaults = defaults or {}
    lots: dict[str, Lot] = {}
    done: list[Result] = []
    bad: dict[str, str] = {}

    def cell(row: list[str], key: str) -> str:
        i = columns.get(key)
        value = row[i].strip() if i is not None and i < len(row) else ""
        return value or defaults.get(key, "")

    # A filled-in template lists every test; the rows left without a value were not done.
    if "criterion" in columns:
        value_column = "percent" if "value" not in columns else "value"
        rows = [(line, row) for line, row in rows if cell(row, value_column)]

    def parse(row: list[str]) -> Entry:
        """The row's lot and fields, or the refusal of its shape, lot or date."""
        if len(row) > len(header):
            raise ValidationFailed("more cells than columns", {"row": N_("too many cells")})
        target = lot
        if "lot" in columns and cell(row, "lot"):
            number = cell(row, "lot").upper()
            if lot is not None and number != lot.lot_number:
                raise ValidationFailed(
                    "wrong lot",
                    {"lot": said("%(given)s is not lot %(lot)s", given=number, lot=lot.lot_number)},
                )
            if number not in lots:
                lots[number] = get_lot(session, number)
            target = lots[number]
        if target is None:
            raise ValidationFailed("no lot", {"lot": N_("required")})
        percent = "percent" in columns and "value" not in columns
        raw_date = cell(row, "performed_on")
        try:
            performed_on = dt.date.fromisoformat(raw_date)
        except ValueError:
            raise ValidationFailed(
                "bad date",
                {"performed_on": said("'%(value)s' is not a date (YYYY-MM-DD)", value=raw_date)},
            ) from None
        return Entry(
            lot=target,
            test=cell(row, "test"),
            value=cell(row, "percent" if percent else "value"),
            unit="%" if percent else cell(row, "unit"),
            performed_on=performed_on,
            method=cell(row, "method"),
            instrument=cell(row, "instrument"),
            reagent_lot=cell(row, "reagent_lot"),
            material_lots=cell(row, "material_lots").replace("|", " ").split(),
        )

    entries: list[tuple[int, Entry]] = []  # (row index, parsed row)
    refused: dict[int, tuple[str, str]] = {}  # row index -> (line, reason), in file order

    def reason_of(err: DomainError) -> str:
        return (
            in_turn(
                said("%(field)s: %(reason)s", field=k, reason=part(v))
                for k, v in err.fields.items()
            )
            or err.message
        )

    if "lot" in columns:
        # Every lot the file names, found in one query (a number not found is refused by
        # get_lot in parse, in its own words).
        named = {cell(row, "lot").upper() for _line, row in rows if len(row) <= len(header)}
        wanted = select(Lot).where(Lot.lot_number.in_({norm(n) for n in named}))
        found = {x.lot_number: x for x in session.scalars(wanted)}
        lots.update({n: found[norm(n)] for n in named if norm(n) in found})
    for index, (line, row) in enumerate(rows):
        try:
            entries.append((index, parse(row)))
        except DomainError as err:
            refused[index] = (f"line {line}", reason_of(err))
    # Every row a plain new reading: judged against facts loaded once and written at once.
    # Otherwise (or with a bad row) row by row, each refused or recorded in file order.
    batch = None if refused else record_all(session, actor, [e for _i, e in entries])
    for index, e in entries if batch is None else ():
        try:
            done.append(
                record_result(
                    session,
                    actor,
                    e.lot,
                    test=e.test,
                    value=e.value,
                    unit=e.unit,
                    performed_on=e.performed_on,
                    method=e.method,
                    instrument=e.instrument,
                    reagent_lot=e.reagent_lot,
                    material_lots=e.material_lots,
                )
            )
        except DomainError as err:
            refused[index] = (f"line {rows[index][0]}", reason_of(err))
    for index in sorted(refused):
        bad[refused[index][0]] = refused[index][1]
    done = batch if batch is not None else done
    if bad:
        shown = dict(list(bad.items())[:MAX_REPORTED])
        more = len(bad) - len(shown)
        if more:
            shown["more"] = said("%(more)s further rows are bad too", more=more)
        raise ValidationFailed(
            said(
                "%(bad)s of %(rows)s rows are bad; nothing was written.",
                bad=len(bad),
                rows=len(rows),
            ),
            shown,
        )
    if not done:
        raise ValidationFailed(
            N_("The template was not imported: no row has a value; nothing was written."),
            {"file": N_("no value entered")},
        )
    per_lot: dict[int, list[Result]] = {}
    for r in done:
        per_lot.setdefault(r.lot_id, []).append(r)
    for results in per_lot.values():
        audit.event(
            session,
            actor,
            "results_imported",
            results[0].lot,
            {
                "rows": len(results),
                "results": [r.id for r in results],
                "file": table.filename,
                "format": table.format,
                "encoding": table.encoding,
            },
        )
    return ImportOutcome(done, table.format, table.encoding)
