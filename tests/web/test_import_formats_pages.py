"""Instrument imports on the lot page in the formats Chinese-language software writes: UTF-8 with a
BOM, GB18030 and .xlsx with Chinese headers import and the page says how the file was read; a
broken file is refused naming the file field, with nothing written."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from tests.conftest import login
from tests.services.test_result_import_formats import DATA, INSTRUMENT, flow_rows, workbook
from tests.web.test_quality_flows import counts, result_of
from tests.web.test_quality_pages import text

LOT = "CFM-2025-0004"


def upload(client, data: bytes, name: str):
    token = re.search(r'csrf_token" value="([^"]+)', text(client.get(f"/lots/{LOT}")))[1]
    return client.post(
        f"/lots/{LOT}/results/import",
        data={"file": (io.BytesIO(data), name), "csrf_token": token},
        content_type="multipart/form-data",
    )


def xlsx(bad: bool = False) -> bytes:
    rows = flow_rows(dt.date(2025, 12, 2))
    if bad:
        rows[1][3] = "2025/12/02"  # CD90's date, Excel row 3
    return workbook(rows)


@pytest.mark.parametrize(
    "name, data, says",
    [
        ("flow_utf8_bom.csv", (DATA / "flow_utf8_bom.csv").read_bytes(), "CSV, UTF-8 with BOM"),
        ("flow_gb18030.csv", (DATA / "flow_gb18030.csv").read_bytes(), "CSV, GB18030"),
        ("流式细胞.xlsx", xlsx(), "Excel workbook (.xlsx)"),
    ],
)
def test_an_export_imports_and_the_page_says_how_it_was_read(client, demo_app, name, data, says):
    login(client, "tech")
    before = counts(demo_app)
    resp = upload(client, data, name)
    assert resp.status_code == 302, text(resp)[:800]
    page = text(client.get(f"/lots/{LOT}"))
    assert f"4 results imported into lot {LOT} (read as {says})." in page
    assert counts(demo_app)[0] == before[0] + 4
    assert result_of(demo_app, LOT, "CD73").instrument == INSTRUMENT
    assert "results_imported" in page  # the lot's history names the import, its file, encoding


@pytest.mark.parametrize(
    "name, data, field, says",
    [
        ("flow.csv", (DATA / "flow_gb18030_truncated.csv").read_bytes(), "file",
         "neither UTF-8 nor GB18030 text (line 5 cannot be read)"),
        ("flow.xlsx", xlsx()[:-100], "file", "damaged zip"),
        ("flow.xlsx", xlsx(bad=True), "line 3", "performed_on"),
    ],
)  # fmt: skip
def test_a_broken_file_is_refused_and_writes_nothing(client, demo_app, name, data, field, says):
    login(client, "tech")
    before = counts(demo_app)
    resp = upload(client, data, name)
    page = text(resp)
    assert resp.status_code == 422, page[:800]
    assert re.search(rf"<b>{field}</b>: [^<]*{re.escape(says)}", page), page
    assert counts(demo_app) == before
