"""Instrument exports as Chinese-language software writes them: UTF-8 with or without BOM, GB18030,
and .xlsx workbooks, with Chinese column headers; each read into the same rows as a UTF-8 CSV, and
a file that cannot be read writes nothing (issue 15, item 4)."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lotrack.domain.errors import ValidationFailed
from lotrack.models import AuditEvent
from lotrack.services import instrument_file, result_import
from tests.services.test_result_import import DAY, refused, run, written
from tests.services.test_results import fresh_lot

DATA = Path(__file__).parent.parent / "data" / "instrument"
HEADER = ["检测项目", "结果", "单位", "检测日期", "仪器", "方法"]
INSTRUMENT = "流式细胞仪 FACSCanto II（二号机）"
METHOD = "流式细胞术（直接标记）"
FLOW = [("CD73", 99.1), ("CD90", 99.4), ("CD45", 0.4), ("CD34", 0.3)]


def workbook(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    """An .xlsx as openpyxl writes it (Excel's own format); the first sheet holds the rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "结果"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.create_sheet("说明").append(["not read: only the first worksheet counts"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def flow_rows(day: dt.date) -> list[list[object]]:
    return [[test, value, "%", day, INSTRUMENT, METHOD] for test, value in FLOW]


def read(data: bytes, name: str = "export.csv", max_rows: int = 100) -> instrument_file.Table:
    return instrument_file.read(data, name, max_rows=max_rows)


def refusal(data: bytes, name: str = "export.csv") -> dict[str, str]:
    with pytest.raises(ValidationFailed) as err:
        read(data, name)
    return err.value.fields


# ---- text: encodings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, encoding, described",
    [("flow_gb18030.csv", "gb18030", "CSV, GB18030"),
     ("flow_utf8_bom.csv", "utf-8-sig", "CSV, UTF-8 with BOM")],
)  # fmt: skip
def test_a_chinese_export_is_read_in_its_encoding_with_chinese_headers(name, encoding, described):
    table = read((DATA / name).read_bytes(), name)
    assert (table.format, table.encoding, table.described) == ("csv", encoding, described)
    assert table.header == HEADER and table.filename == name
    assert [line for line, _ in table.rows] == [2, 3, 4, 5]
    assert table.rows[0][1] == ["CD73", "99.1", "%", "2025-12-02", INSTRUMENT, METHOD]


def test_plain_utf8_is_named_as_such():
    table = read(b"test,value\nVIAB,90\n")
    assert (table.encoding, table.described) == ("utf-8", "CSV, UTF-8")


@pytest.mark.parametrize(
    "data, says",
    [
        ((DATA / "flow_gb18030_truncated.csv").read_bytes(), "line 5 cannot be read"),
        (b"test,value\nVIAB,\xff90\n", "line 2 cannot be read"),
        ("Ä".encode("utf-16"), "line 1 cannot be read"),
        ("检测项目,结果\n".encode() + b"CD73,\x80\n", "line 2 cannot be read"),
    ],
)
def test_bytes_that_are_neither_utf8_nor_gb18030_are_refused_naming_the_file(data, says):
    fields = refusal(data)
    assert list(fields) == ["file"] and "neither UTF-8 nor GB18030" in fields["file"]
    assert says in fields["file"]


def test_a_bom_that_lies_is_refused():
    fields = refusal(b"\xef\xbb\xbftest,value\nVIAB,\xd6\xd0\n")
    assert fields == {"file": "not UTF-8 text after its byte-order mark (line 2)"}


def test_utf16_without_a_bom_is_binary_content():
    assert refusal("test,value\n".encode("utf-16-le")) == {"file": "binary content"}


ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
GB2312_HANZI = st.builds(
    lambda row, cell: bytes([0xB0 + row, 0xA1 + cell]).decode("gb2312"),
    st.integers(0, 0xD6 - 0xB0),  # rows 16-55: the 3,755 level-1 characters (most used)
    st.integers(0, 93),
) | st.builds(
    lambda row, cell: bytes([0xD8 + row, 0xA1 + cell]).decode("gb2312"),
    st.integers(0, 0xF7 - 0xD8),  # rows 56-87: level 2
    st.integers(0, 93),
)
CHINESE = GB2312_HANZI | st.sampled_from("，。、；：（）【】“”《》％℃　")
ANY_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) | CHINESE


def _utf8_reading(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if instrument_file._unlikely(text) == 0 else None


@settings(max_examples=400, deadline=None, database=None)
@given(st.text(ASCII | CHINESE, max_size=80))
def test_any_chinese_and_ascii_text_round_trips_through_gb18030(text):
    data = text.encode("gb18030")
    decoded, encoding = instrument_file.detect(data)
    # The one ambiguity UTF-8-first leaves: bytes that are also UTF-8 reading as plausible text
    # (a lone 路 is C2 B7, UTF-8's "·"); see the exhaustive test below for how rare that is.
    assert decoded == text or decoded == _utf8_reading(data), (text, decoded)
    if decoded == text and not text.isascii() and _utf8_reading(data) is None:
        assert encoding == "gb18030"


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(ASCII | ANY_CJK, max_size=80), st.booleans())
def test_any_chinese_and_ascii_text_round_trips_through_utf8(text, bom):
    decoded, encoding = instrument_file.detect(text.encode("utf-8-sig" if bom else "utf-8"))
    assert decoded == text and encoding == ("utf-8-sig" if bom else "utf-8")


def test_only_a_few_lone_common_characters_read_as_utf8_symbols():
    """Every GB2312 character comes back from GB18030 except the 13 whose two bytes are also UTF-8
    for a lab symbol (°, ±, µ, α...), which UTF-8-first reads so when no other Chinese is near."""
    ambiguous = set("掳卤虏鲁碌路梅惟伪尾纬未渭")
    for lead in range(0xB0, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                ch = bytes([lead, trail]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            for text in (ch, f"test,value\nCD73,{ch}\n", f"{ch}{ch}"):
                decoded = instrument_file.detect(text.encode("gb18030"))[0]
                assert (decoded == text) == (ch not in ambiguous), (ch, decoded)
                if ch in ambiguous:
                    assert set(decoded) - set(text) <= instrument_file.LAB_SYMBOLS
            text = f"批号,{ch}\n"  # with any other Chinese in the file, every one reads right
            assert instrument_file.detect(text.encode("gb18030")) == (text, "gb18030")


# ---- workbooks -------------------------------------------------------------------------------


def test_a_workbook_reads_as_the_same_rows_as_a_csv():
    day = dt.date(2025, 12, 2)
    rows = [*flow_rows(day), [], ["VIAB", 95, "%", dt.datetime(2025, 12, 2), "", ""]]
    rows.append(["CD14", 1e-05, "%", dt.datetime(2025, 12, 2, 10, 30), None, None])
    table = read(workbook(rows), "导出.xlsx")
    assert (table.format, table.encoding, table.described) == ("xlsx", None,
                                                              "Excel workbook (.xlsx)")  # fmt: skip
    assert table.header == HEADER and table.total == 6
    csv = read((DATA / "flow_utf8_bom.csv").read_bytes())
    assert table.rows[:4] == csv.rows  # same cells, same line numbers (Excel's row numbers)
    assert table.rows[4:] == [
        (7, ["VIAB", "95", "%", "2025-12-02"]),  # an integer without ".0"; trailing blanks dropped
        (8, ["CD14", "0.00001", "%", "2025-12-02 10:30:00"]),  # a date-time is not a date
    ]


def test_a_workbook_is_known_by_its_content_not_its_name():
    data = workbook(flow_rows(dt.date(2025, 12, 2)))
    assert read(data, "export.csv").format == "xlsx"
    assert read(data, "").format == "xlsx"
    # A CSV named .xls (some instruments do) is text; a real .xls is refused by name.
    assert read(b"test,value\nVIAB,90\n", "export.xls").format == "csv"
    assert ".xls" in refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500)["file"]


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda good: good[: len(good) // 2], "damaged zip"),
        (lambda good: good[:4] + b"\x00" * 200, "damaged zip"),
        (lambda good: b"test,value\nVIAB,90\n", "not a workbook"),
        (lambda good: _zip({"hello.txt": b"not a workbook"}), "not a readable .xlsx"),
        (lambda good: _corrupt_sheet(good), "not a readable .xlsx"),
    ],
)
def test_a_damaged_workbook_is_refused_naming_the_file(make, says):
    fields = refusal(make(workbook(flow_rows(dt.date(2025, 12, 2)))), "export.xlsx")
    assert list(fields) == ["file"] and says in fields["file"], fields


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def _corrupt_sheet(good: bytes) -> bytes:
    members = _members(good)
    members["xl/worksheets/sheet1.xml"] = members["xl/worksheets/sheet1.xml"][:-40]
    return _zip(members)


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    members = _members(workbook([]))
    members["xl/media/padding.bin"] = b"\x00" * (instrument_file.XLSX_MAX_UNPACKED + 1)
    bomb = _zip(members)
    assert len(bomb) < 64 * 1024  # small on the wire, large unpacked
    fields = refusal(bomb, "export.xlsx")
    assert "at most 16 MiB are read" in fields["file"]


def test_a_sheet_of_sparse_wide_rows_is_refused_by_its_cells():
    members = _members(workbook([]))
    rows = "".join(
        f'<row r="{n}"><c r="XFD{n}" t="inlineStr"><is><t>x</t></is></c></row>'
        for n in range(2, 200)
    )
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    members["xl/worksheets/sheet1.xml"] = sheet.replace("</sheetData>", rows + "</sheetData>")
    members["xl/worksheets/sheet1.xml"] = members["xl/worksheets/sheet1.xml"].encode()
    fields = refusal(_zip(members), "export.xlsx")
    assert "more than 1,000,000 cells" in fields["file"], fields


# ---- through the import: all or nothing, line numbers, the audit trail -------------------------


def test_a_gb18030_export_with_chinese_headers_imports_and_names_its_encoding(session):
    s = session
    new = fresh_lot(s)
    text = (DATA / "flow_gb18030.csv").read_bytes().decode("gb18030").replace("2025-12-02", DAY)
    table = read(text.encode("gb18030"), "流式.csv")
    done = run(s, table, new)
    assert (done.format, done.encoding, done.described) == ("csv", "gb18030", "CSV, GB18030")
    assert [(r.analyte, r.value, r.instrument, r.method) for r in done.results] == [
        (t, str(v), INSTRUMENT, METHOD) for t, v in FLOW
    ]
    s.commit()  # the audit trail is sealed at commit
    event = s.scalars(
        select(AuditEvent).where(AuditEvent.action == "results_imported")
        .order_by(AuditEvent.seq.desc())
    ).first()  # fmt: skip
    assert event.entity_type == "lot" and event.entity_id == str(new.id)
    changes = {k: v[1] for k, v in json.loads(event.changes).items()}
    assert changes["encoding"] == "gb18030" and changes["format"] == "csv"
    assert changes["rows"] == 4 and changes["file"] == "流式.csv"


def test_a_workbook_with_one_bad_row_writes_nothing_and_names_its_excel_row(session):
    s = session
    new = fresh_lot(s)
    day = dt.date.fromisoformat(DAY)
    rows = flow_rows(day)
    rows.insert(2, [])  # Excel row 4 left empty
    rows[3][1] = "abc"  # CD45 on Excel row 5
    fields = refused(s, read(workbook(rows), "x.xlsx"), new)
    assert list(fields) == ["line 5"] and "value" in fields["line 5"]


def test_a_workbook_over_the_row_limit_is_refused_counting_its_rows(session):
    rows = flow_rows(dt.date.fromisoformat(DAY)) * 2
    table = read(workbook(rows), "x.xlsx", max_rows=3)
    assert table.total == 8 and len(table.rows) == 3
    assert refused(session, table, fresh_lot(session), max_rows=3) == {
        "file": "8 rows; at most 3 per import"
    }


def test_chinese_and_english_headers_name_the_same_columns():
    by_column: dict[str, set[str]] = {}
    for name, column in result_import.ALIASES.items():
        by_column.setdefault(column, set()).add(name)
    assert all(any(not n.isascii() for n in names) for names in by_column.values()), by_column
    table = read(
        "Ｌｏｔ　Ｎｕｍｂｅｒ,项目,数值,单位,日期\n".encode("gb18030") + b"x,y,1,%,2025-01-01\n"
    )
    assert table.header == ["lot_number", "项目", "数值", "单位", "日期"]


def test_a_refused_file_leaves_the_audit_trail_as_it_was(session):
    s = session
    new = fresh_lot(s)
    s.commit()
    before = written(s)
    with pytest.raises(ValidationFailed):
        run(s, read((DATA / "flow_gb18030_truncated.csv").read_bytes()), new)
    s.rollback()
    assert written(s) == before
