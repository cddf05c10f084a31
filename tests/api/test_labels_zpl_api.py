"""/api/v1 labels as ZPL II for thermal printers: printed, logged and refused as on the page."""

from __future__ import annotations

from flask import Flask

from tests.api.conftest import Api, assert_problem, row_counts
from tests.documents.zpl_reader import read

RELEASED_LOT = "CFM-2025-0001"  # RELEASED, 4 units


def test_the_api_prints_zpl_as_the_page_does(demo_app: Flask, tech: Api, as_user) -> None:
    before = row_counts(demo_app)
    assert_problem(tech.post(f"/lots/{RELEASED_LOT}/labels.zpl", {"dpi": 250}), 422, "dpi")
    assert_problem(tech.post(f"/lots/{RELEASED_LOT}/labels.zpl", {}), 422, "dpi")
    nurse = as_user("nurse")
    assert nurse.post(f"/lots/{RELEASED_LOT}/labels.zpl", {"dpi": 203}).status_code == 403
    assert row_counts(demo_app) == before
    sheet = tech.post(f"/lots/{RELEASED_LOT}/labels.zpl", {"dpi": 300})
    assert sheet.status_code == 200 and sheet.mimetype == "application/zpl"
    expected = f'attachment; filename="labels-{RELEASED_LOT}-300dpi.zpl"'
    assert sheet.headers["Content-Disposition"] == expected
    formats = read(sheet.get_data(as_text=True))
    assert len(formats) == 4 and all(f.width == 1219 for f in formats)
    assert row_counts(demo_app)["label_print"] == before["label_print"] + 4
    din = formats[0].of("code128")[0].data[1:14]
    counted = row_counts(demo_app)
    assert_problem(tech.post(f"/units/{din}/label.zpl", {"dpi": 203}), 422, "reason")
    assert row_counts(demo_app) == counted
    one = tech.post(f"/units/{din}/label.zpl", {"dpi": 203, "reason": "label torn"})
    assert one.status_code == 200
    assert one.headers["Content-Disposition"] == f'attachment; filename="label-{din}-203dpi.zpl"'
    assert tech.get(f"/units/{din}/label.zpl").status_code == 405
