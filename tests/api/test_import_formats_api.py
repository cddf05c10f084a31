"""Instrument imports through /api/v1 in the formats Chinese-language software writes: UTF-8 with
a BOM, GB18030 and .xlsx, Chinese headers; the answer names the format and encoding, and a file
that cannot be read is a 422 naming `file` with nothing written."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.api.conftest import assert_problem, row_counts
from tests.services.test_result_import_formats import DATA, INSTRUMENT, flow_rows, workbook

LOT = "CFM-2025-0004"  # most results still missing
PATH = f"/lots/{LOT}/results/import"


def upload(api, data: bytes, name: str):
    return api.post(PATH, data={"file": (io.BytesIO(data), name)},
                    content_type="multipart/form-data")  # fmt: skip


def xlsx(bad: bool = False) -> bytes:
    rows = flow_rows(dt.date(2025, 12, 2))
    if bad:
        rows[2][1] = "abc"  # CD45, Excel row 4
    return workbook(rows)


@pytest.mark.parametrize(
    "name, data, fmt, encoding",
    [
        ("flow_utf8_bom.csv", (DATA / "flow_utf8_bom.csv").read_bytes(), "csv", "utf-8-sig"),
        ("flow_gb18030.csv", (DATA / "flow_gb18030.csv").read_bytes(), "csv", "gb18030"),
        ("流式细胞.xlsx", xlsx(), "xlsx", None),
    ],
)
def test_an_export_imports_and_names_its_format_and_encoding(demo_app, tech, name, data, fmt,
                                                             encoding):  # fmt: skip
    before = row_counts(demo_app)["result"]
    resp = upload(tech, data, name)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert (body["imported"], body["format"], body["encoding"]) == (4, fmt, encoding)
    assert [(r["test"], r["value"], r["unit"], r["performed_on"], r["instrument"])
            for r in body["results"]] == [
        (t, v, "%", "2025-12-02", INSTRUMENT)
        for t, v in [("CD73", "99.1"), ("CD90", "99.4"), ("CD45", "0.4"), ("CD34", "0.3")]
    ]  # fmt: skip
    assert row_counts(demo_app)["result"] == before + 4


def test_a_gb18030_body_sent_as_text_csv_imports(tech):
    resp = tech.post(PATH, data=(DATA / "flow_gb18030.csv").read_bytes(), content_type="text/csv")
    assert resp.status_code == 201 and resp.get_json()["encoding"] == "gb18030"


@pytest.mark.parametrize(
    "name, data, says",
    [
        (
            "flow.csv",
            (DATA / "flow_gb18030_truncated.csv").read_bytes(),
            "neither UTF-8 nor GB18030",
        ),
        ("flow.xlsx", xlsx()[:900], "damaged zip"),
        ("flow.xlsx", b"not a workbook at all", "not a workbook"),
        ("flow.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, ".xls"),
    ],
)
def test_a_broken_file_is_refused_naming_the_file_and_writes_nothing(demo_app, tech, name, data,
                                                                      says):  # fmt: skip
    before = row_counts(demo_app)
    body = assert_problem(upload(tech, data, name), 422, "file")
    assert says in body["fields"]["file"], body
    assert row_counts(demo_app) == before


def test_a_workbook_with_one_bad_row_writes_nothing_and_names_its_row(demo_app, tech):
    before = row_counts(demo_app)
    body = assert_problem(upload(tech, xlsx(bad=True), "flow.xlsx"), 422, "line 4")
    assert set(body["fields"]) == {"line 4"} and "value" in body["fields"]["line 4"]
    assert "nothing was written" in body["message"]
    assert row_counts(demo_app) == before
