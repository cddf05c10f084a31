"""Upload limits on the API: a request over MAX_CONTENT_LENGTH is a 413 JSON problem, not a 500,
and an instrument CSV over MAX_IMPORT_ROWS is refused naming the file and its row count; in both
cases nothing is written."""

from __future__ import annotations

import io

from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.api.conftest import assert_problem, row_counts

LOT = "CFM-2025-0004"  # in quarantine: it takes results
ROW = "VIAB,91.0,%\n"  # one CSV row (only its size matters here)


def test_a_request_over_the_size_limit_is_a_413_problem_and_writes_nothing(demo_app, tech):
    limit = demo_app.config["MAX_CONTENT_LENGTH"]
    before = row_counts(demo_app)
    csv = ("test,value,unit\n" + ROW * (limit // len(ROW) + 1)).encode()
    assert len(csv) > limit
    body = assert_problem(
        tech.post(f"/lots/{LOT}/results/import", data=csv, content_type="text/csv"), 413
    )
    assert f"{limit / 1024 / 1024:g} MiB" in body["message"]
    big_json = {"test": "VIAB", "value": "91.0", "unit": "%", "note": "x" * limit}
    assert_problem(tech.post(f"/lots/{LOT}/results", big_json), 413)
    assert row_counts(demo_app) == before


def test_the_bedside_photo_keeps_its_own_larger_limit(as_user):
    """A phone photo may exceed the 2 MiB of forms; the photo endpoint says so in its 413."""
    photo = b"\xff\xd8\xff" + b"\x00" * (17 * 1024 * 1024)
    # Encoded in memory: the test client would spool so large a form to a temporary file.
    boundary, body = encode_multipart(
        {"patient": "SZ-GIMI/SUBJ-001", "image": FileStorage(io.BytesIO(photo), "p.jpg")}
    )
    resp = as_user("nurse").post(
        "/bedside/check-photo",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert "16 MiB" in assert_problem(resp, 413)["message"]


def test_a_csv_over_the_row_limit_is_refused_naming_the_file_and_its_rows(demo_app, tech):
    assert demo_app.config["LOTRACK_MAX_IMPORT_ROWS"] == 2000  # the documented default
    demo_app.config["LOTRACK_MAX_IMPORT_ROWS"] = 3
    path = f"/lots/{LOT}/results/import?performed_on=2025-12-02"
    before = row_counts(demo_app)
    four = "marker,percent\nCD73,99.1\nCD90,99.4\nCD45,0.4\nCD34,0.3\n"
    body = assert_problem(tech.post(path, data=four, content_type="text/csv"), 422, "file")
    assert body["fields"]["file"] == "4 rows; at most 3 per import"
    assert row_counts(demo_app) == before
    three = "marker,percent\nCD73,99.1\nCD90,99.4\nCD45,0.4\n"
    resp = tech.post(path, data=three, content_type="text/csv")
    assert resp.status_code == 201 and resp.get_json()["imported"] == 3, resp.get_json()
