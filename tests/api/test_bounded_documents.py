"""Bounded work per request: a lot's labels and its timeline PDF come in parts of a configured
size; asking for more than one part holds is refused before anything renders, naming `part`."""

from __future__ import annotations

import pytest
from flask import Flask

from lotrack.domain.errors import ValidationFailed
from lotrack.domain.parts import choose_part, part_count
from tests.api.conftest import Api, assert_problem, row_counts
from tests.conftest import login
from tests.documents.pdfs import (
    codes_per_page,
    din_of,
    page_texts,
    reader,
)

LOT = "CFM-2025-0001"  # RELEASED, 4 units


def test_parts_cover_every_item_once() -> None:
    for total in range(0, 12):
        count = part_count(total, 3)
        parts = [choose_part(total, 3, n) for n in range(1, count + 1)]
        assert [i for p in parts for i in p.of(list(range(total)))] == list(range(total))
    assert choose_part(3, 3, None).count == 1
    with pytest.raises(ValidationFailed) as refused:
        choose_part(4, 3, None)
    assert "at most 3" in refused.value.message and refused.value.fields["part"]
    for wrong in (0, 3, -1):
        with pytest.raises(ValidationFailed):
            choose_part(4, 3, wrong)


def test_lot_labels_beyond_the_cap_are_refused_then_printed_in_parts(
    demo_app: Flask, tech: Api
) -> None:
    demo_app.config["LOTRACK_MAX_LABELS_PER_PDF"] = 3
    before = row_counts(demo_app)
    for call in (tech.get, tech.post):
        body = assert_problem(call(f"/lots/{LOT}/labels.pdf"), 422, "part")
        assert "at most 3" in body["message"] and "1 to 2" in body["fields"]["part"]
        assert_problem(call(f"/lots/{LOT}/labels.pdf?part=3"), 422, "part")
        assert_problem(call(f"/lots/{LOT}/labels.pdf?part=x"), 422, "part")
    assert row_counts(demo_app) == before
    preview = tech.get(f"/lots/{LOT}/labels.pdf?part=2")
    assert preview.status_code == 200 and len(page_texts(preview.data)) == 1
    assert "part2of2-PREVIEW" in preview.headers["Content-Disposition"]
    first = tech.post(f"/lots/{LOT}/labels.pdf?part=1", {})
    second = tech.post(f"/lots/{LOT}/labels.pdf?part=2", {})
    assert [len(reader(r.data).pages) for r in (first, second)] == [3, 1]
    dins = [din_of(c) for r in (first, second) for c in codes_per_page(r.data)]
    assert len(set(dins)) == 4 and dins == sorted(dins)  # every unit once, in DIN order
    assert row_counts(demo_app)["label_print"] == before["label_print"] + 4


def test_the_documents_page_offers_the_parts(demo_app: Flask, client) -> None:
    demo_app.config["LOTRACK_MAX_LABELS_PER_PDF"] = 3
    login(client, "tech")
    page = client.get(f"/lots/{LOT}/documents").get_data(as_text=True)
    assert f"/lots/{LOT}/labels.pdf?part=1" in page and f"/lots/{LOT}/labels.pdf?part=2" in page
    refused = client.get(f"/lots/{LOT}/labels.pdf")
    assert refused.status_code == 422 and "at most 3" in refused.get_data(as_text=True)


def test_the_timeline_pdf_beyond_the_cap_comes_in_parts(demo_app: Flask, client) -> None:
    login(client, "tech")
    whole = client.get(f"/lots/{LOT}/timeline.csv").get_data(as_text=True)
    events = len(whole.strip().splitlines()) - 1
    assert events > 2
    demo_app.config["LOTRACK_MAX_TIMELINE_PDF_EVENTS"] = events - 1
    refused = client.get(f"/lots/{LOT}/timeline.pdf")
    assert refused.status_code == 422
    assert f"at most {events - 1}" in refused.get_data(as_text=True)
    assert client.get(f"/lots/{LOT}/timeline.pdf?part=3").status_code == 422
    page = client.get(f"/lots/{LOT}/timeline").get_data(as_text=True)
    assert f"/lots/{LOT}/timeline.pdf?part=2" in page
    last = client.get(f"/lots/{LOT}/timeline.pdf?part=2")
    assert last.status_code == 200 and "part2of2" in last.headers["Content-Disposition"]
    text = "".join(page_texts(last.data))
    assert f"Part 2 of 2: events {events} to {events}" in text
