"""Upload limits in the browser: a form over MAX_CONTENT_LENGTH gets a page saying the limit (413),
not a 500; a raw-data file is refused unless its extension is allowed and its content is what the
extension claims; and whatever the uploaded file was called, the stored name is safe."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from lotrack.services import raw_data
from tests.conftest import login
from tests.web.test_quality_flows import counts, harvested, result_of
from tests.web.test_quality_pages import text

LOT = "CFM-2025-0004"  # in quarantine, CD73 not yet recorded


def _csrf(client, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text(client.get(path)))
    assert found, path
    return found.group(1)


def _upload(client, path: str, fields: dict, name: str, data: bytes, field: str = "file"):
    """A multipart form encoded in memory (the test client would spool a large one to disk)."""
    values = {**fields, field: FileStorage(io.BytesIO(data), name)}
    boundary, body = encode_multipart(values)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _record_with_raw(client, demo_app, name: str, data: bytes):
    fields = {"test": "CD73", "value": "99.0", "unit": "%", "performed_on": harvested(demo_app),
              "csrf_token": _csrf(client, f"/lots/{LOT}")}  # fmt: skip
    return _upload(client, f"/lots/{LOT}/results", fields, name, data, field="raw_file")


def test_a_form_over_the_size_limit_gets_a_page_naming_the_limit(client, demo_app):
    login(client, "tech")
    before = counts(demo_app)
    limit = demo_app.config["MAX_CONTENT_LENGTH"]
    big = b"marker,percent\n" + b"CD73,99.1\n" * (limit // 10 + 1)
    resp = _upload(
        client, f"/lots/{LOT}/results/import", {"csrf_token": _csrf(client, f"/lots/{LOT}")},
        "export.csv", big,
    )  # fmt: skip
    page = text(resp)
    assert resp.status_code == 413 and resp.mimetype == "text/html"
    assert f"larger than the {limit / 1024 / 1024:g} MiB accepted here" in page
    assert "nothing was saved" in page and "Traceback" not in page
    assert counts(demo_app) == before


@pytest.mark.parametrize(
    "name, data, says",
    [
        ("report.exe", b"MZ\x90\x00", "one of"),
        ("scan.png", b"marker,percent\nCD73,99.0\n", "content is not PNG"),  # renamed CSV
        ("report.pdf", b"<html><script>alert(1)</script>", "content is not PDF"),
        ("export.csv", b"CD73\x00\x01\x02binary", "content is not CSV"),
    ],
)
def test_a_raw_data_file_of_another_type_is_refused_naming_the_field(client, demo_app, name,
                                                                      data, says):  # fmt: skip
    login(client, "tech")
    before = counts(demo_app)
    resp = _record_with_raw(client, demo_app, name, data)
    page = text(resp)
    assert resp.status_code == 422, page[:500]
    assert "raw_file" in page and says in page, page
    assert counts(demo_app) == before


def test_a_real_file_of_an_allowed_type_is_kept_under_a_safe_name(client, demo_app):
    login(client, "tech")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    hostile = "..\\..\\C:/evil/\x1b[31mgel\u202eexe\x07.png"
    resp = _record_with_raw(client, demo_app, hostile, png)
    assert resp.status_code == 302, text(resp)[:500]
    r = result_of(demo_app, LOT, "CD73")
    download = client.get(f"/results/{r.id}/raw")
    assert download.data == png and download.mimetype == "image/png"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "/" not in disposition.split(";", 1)[1]
    assert "\x1b" not in disposition and "\u202e" not in disposition
    detail = text(client.get(f"/results/{r.id}"))
    assert hashlib.sha256(png).hexdigest() in detail and "_31mgel_exe_.png" in detail


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(st.one_of(st.characters(), st.sampled_from("./\\:\x00\n ")), max_size=300))
def test_any_uploaded_name_becomes_a_safe_one(name: str) -> None:
    safe = raw_data.safe_filename(name)
    assert 0 < len(safe) <= 120
    assert not {"/", "\\"} & set(safe)
    assert not any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in safe)
    assert not safe.startswith((".", " ")) and safe not in {".", ".."}
    assert raw_data.safe_filename(safe) == safe  # already safe: kept as it is
