"""Reading an instrument's export: the upload's bytes as a header and rows, whatever the file.

A CSV or an Excel workbook (.xlsx, its first worksheet), told apart by content: a zip archive that
openpyxl opens is a workbook, anything else is text. Text is read as UTF-8 (with or without a
byte-order mark) and otherwise as GB18030 (a superset of GBK and GB2312, what a Chinese-language
Windows or instrument writes); the encoding found is named. Bytes that are neither are refused
naming `file`. A workbook's rows are the CSV's rows: numbers as their value (99.1 stays "99.1",
5.0 is "5"), dates as ISO dates, each row numbered as Excel numbers it. What the rows mean is
services/result_import.py's."""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from decimal import Decimal

import openpyxl

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.text import N_, Said, said
from lotrack.services.raw_data import safe_filename

# How the bytes of a text file were read, by the codec's name -> as a person reads it.
ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": N_("UTF-8 with BOM"), "gb18030": "GB18030"}
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Excel 97-2003 .xls (or any OLE file)
# A workbook is a zip: what it may unpack to, and how many cells its first sheet may hold
# (counting the empty ones Excel's row layout implies), bound the work a small upload can cause.
# An import's rows are capped by MAX_IMPORT_ROWS as for CSV; these bounds sit far above what
# that many rows need (2000 rows of 10 columns are ~1 MiB of sheet XML, 20,000 cells).
XLSX_MAX_UNPACKED = 16 * 1024 * 1024
XLSX_MAX_MEMBERS = 500
XLSX_MAX_CELLS = 1_000_000
# Characters a plausible instrument export is made of, beside ASCII and Chinese (CJK ideographs,
# CJK punctuation, full-width forms): used only when bytes are valid UTF-8 and valid GB18030 both.
LAB_SYMBOLS = frozenset("µμ°±×÷≤≥²³·‰℃ΩαβγδΔ→–—‘’“”…•")
CJK = ((0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF),
       (0x20000, 0x3134F))  # fmt: skip


@dataclass(frozen=True)
class Table:
    """An upload's header and data rows, each row with its line (CSV) or row number (Excel)."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    total: int  # data rows in the file (a workbook stops keeping them beyond the cap)
    format: str = "csv"  # csv | xlsx
    encoding: str | None = None  # a key of ENCODINGS for text; None for a workbook
    filename: str = ""

    @property
    def described(self) -> str:
        return describe(self.format, self.encoding)


def describe(kind: str, encoding: str | None) -> str:
    """The format (and a text's encoding) as a person reads it: "CSV, GB18030"."""
    if kind == "xlsx":
        return N_("Excel workbook (.xlsx)")
    return said("CSV, %(encoding)s", encoding=Said(ENCODINGS[encoding])) if encoding else "CSV"


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower().replace(" ", "_")


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
            said(
                "The CSV cannot be read at line %(line)s: %(error)s.",
                line=reader.line_num,
                error=str(err),
            ),
            {f"line {reader.line_num}": str(err)},
        ) from None
    return [_key(h) for h in header], rows


def _unlikely(text: str) -> int:
    """How many distinct characters of `text` an instrument export would hardly hold."""
    return sum(
        1
        for ch in set(text)
        if ch >= "\x80" and ch not in LAB_SYMBOLS and not any(lo <= ord(ch) <= hi for lo, hi in CJK)
    )


def detect(data: bytes) -> tuple[str, str]:
    """The text of an upload and the codec it was read with (a key of ENCODINGS).

    UTF-8 first (a byte-order mark says so outright); otherwise GB18030. Bytes valid in both
    (a few Chinese characters among ASCII can be) are read as UTF-8 unless that reading holds
    more characters an instrument export would not (accented Latin, Greek, Cyrillic letters...)
    than the GB18030 one: Chinese encoded in UTF-8 is therefore always read as written.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            raise ValidationFailed(
                N_(
                    "The file starts with a UTF-8 byte-order mark but is not UTF-8 text; nothing"
                    " was written."
                ),
                {
                    "file": said(
                        "not UTF-8 text after its byte-order mark (line %(line)s)", line=line
                    )
                },
            ) from None
    utf8 = gb = None
    utf8_stop = 0
    try:
        utf8 = data.decode("utf-8")
    except UnicodeDecodeError as err:
        utf8_stop = err.start
    try:
        gb = data.decode("gb18030").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        if utf8 is None:  # named where the likelier reading fails: the later of the two
            line = data[: max(err.start, utf8_stop)].count(b"\n") + 1
            raise ValidationFailed(
                N_(
                    "The file is neither UTF-8 nor GB18030 text; export it as CSV (UTF-8 or"
                    " GB18030) or as .xlsx. Nothing was written."
                ),
                {
                    "file": said(
                        "neither UTF-8 nor GB18030 text (line %(line)s cannot be read)", line=line
                    )
                },
            ) from None
    if utf8 is not None and (gb is None or gb == utf8 or _unlikely(utf8) <= _unlikely(gb)):
        return utf8, "utf-8"
    assert gb is not None
    return gb, "gb18030"


def decode(data: bytes) -> str:
    """The text of a CSV upload (see `detect`)."""
    return detect(data)[0]


def _cell(value: object) -> str:
    """A workbook cell as the CSV export of it would read."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: 99.1, never 99.09999...
        text = format(Decimal(repr(value)), "f")
        return text.removesuffix(".0") if text.endswith(".0") else text
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _refuse_workbook(says: str) -> ValidationFailed:
    return ValidationFailed(
        said(
            "The workbook cannot be read: %(problem)s; nothing was written.",
            problem=Said(says) if not isinstance(says, Said) else says,
        ),
        {"file": says},
    )


def _xlsx(data: bytes, max_rows: int) -> Table:
    """The first worksheet's rows: row 1 the header, every other non-empty row by its number."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise _refuse_workbook(
            N_("not a readable .xlsx workbook (a damaged zip archive)")
        ) from None
    unpacked = sum(m.file_size for m in members)
    if len(members) > XLSX_MAX_MEMBERS or unpacked > XLSX_MAX_UNPACKED:
        raise _refuse_workbook(
            said(
                "the workbook unpacks to %(bytes)s bytes in %(parts)s parts; at most %(mib)s MiB"
                " are read",
                bytes=f"{unpacked:,}",
                parts=len(members),
                mib=XLSX_MAX_UNPACKED // 1024 // 1024,
            )
        )
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    total = cells = 0
    book = None
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it skips; the values are what counts.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            if not book.worksheets:
                raise _refuse_workbook(N_("the workbook has no worksheet"))
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # the declared size may be absent or wrong: read the rows
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells += len(values)
                if cells > XLSX_MAX_CELLS:
                    raise _refuse_workbook(
                        said(
                            "the first worksheet spans more than %(cells)s cells (by row %(row)s)",
                            cells=f"{XLSX_MAX_CELLS:,}",
                            row=number,
                        )
                    )
                row = [_cell(v) for v in values]
                while row and not row[-1].strip():
                    row.pop()
                if number == 1:
                    header = [_key(h) for h in row]
                elif row:
                    total += 1
                    if total <= max_rows:
                        rows.append((number, row))
    except ValidationFailed:
        raise
    except Exception:  # openpyxl raises many kinds on a damaged or hostile workbook
        raise _refuse_workbook(N_("not a readable .xlsx workbook")) from None
    finally:
        if book is not None:
            book.close()
    return Table(header, rows, total, "xlsx")


def read(data: bytes, filename: str = "", *, max_rows: int = 100_000) -> Table:
    """An uploaded instrument export as rows: a workbook by its content, else CSV text."""
    name = (filename or "").lower()
    shown = safe_filename(filename) if filename else ""
    if data.startswith(ZIP_MAGIC):
        table = _xlsx(data, max_rows)
    elif data.startswith(OLE_MAGIC):
        raise _refuse_workbook(
            N_("an Excel 97-2003 (.xls) workbook; save it as .xlsx or export it as CSV")
        )
    elif name.endswith((".xlsx", ".xlsm")):
        raise _refuse_workbook(N_("named .xlsx, but its content is not a workbook (not a zip)"))
    else:
        text, encoding = detect(data)
        table = text_table(text, encoding)
    return Table(table.header, table.rows, table.total, table.format, table.encoding, shown)


def text_table(text: str, encoding: str | None) -> Table:
    if "\x00" in text:
        raise ValidationFailed(
            N_("The file contains NUL characters."), {"file": N_("binary content")}
        )
    header, rows = _rows(text)
    return Table(header, rows, len(rows), "csv", encoding)
