"""Free text in Chinese is kept exactly and bounded by characters, not bytes, on both databases:
an instrument name of 120 Chinese characters (360 bytes in UTF-8, some of them outside the Basic
Multilingual Plane) is stored and read back as typed; one more character is refused naming the
field, and nothing is written."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import assert_problem, row_counts

RUN = "RUN-2025-01"
DAY = "2025-12-02"
# CJK Unified Ideographs and Extension B (four bytes in UTF-8: 𠀀…), and Chinese punctuation.
CHINESE = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF),
        st.sampled_from("，。：；（）、"),
    ),
    min_size=1,
    max_size=120,
)


@pytest.fixture
def lot(tech) -> str:
    r = tech.post("/lots", {"run": RUN, "harvested_on": "2025-12-01", "expires_on": "2026-12-01"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["lot_number"]


def _record(tech, lot: str, instrument: str):
    body = {"test": "CD73", "value": "99.1", "unit": "%", "performed_on": DAY}
    return tech.post(f"/lots/{lot}/results", {**body, "instrument": instrument})


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(description=CHINESE)
def test_chinese_free_text_is_stored_and_read_back_exactly(tech, lot, description: str) -> None:
    made = tech.post("/deviations", {"lot": lot, "description": description})
    assert made.status_code == 201, made.get_json()
    number = made.get_json()["number"]
    assert tech.get(f"/deviations/{number}").get_json()["description"] == description


def test_the_limit_counts_characters_and_one_more_is_refused(demo_app, tech, lot) -> None:
    longest = "流式细胞仪𠀀" * 20  # 120 characters, 380 bytes in UTF-8
    assert len(longest) == 120 and len(longest.encode()) > 360
    assert _record(tech, lot, longest).status_code == 201
    before = row_counts(demo_app)
    body = assert_problem(_record(tech, lot, longest + "仪"), 422, "instrument")
    assert "120" in body["fields"]["instrument"]
    assert row_counts(demo_app) == before
