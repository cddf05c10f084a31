"""The ISBT 128 product code (003) in configuration, checked when the app starts against the
configured pattern: YA000-YZ999, clinical trials, by default (shared/reference/isbt128.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lotrack.config import build_config
from lotrack.domain.errors import ValidationFailed

SECRET = {"SECRET_KEY": "test"}


def test_the_default_product_code_is_in_the_clinical_trial_range(tmp_path: Path) -> None:
    cfg = build_config(tmp_path, SECRET)
    assert cfg["LOTRACK_PRODUCT_CODE"] == "YA000000"
    assert cfg["LOTRACK_PRODUCT_CODE_PATTERN"] == r"Y[A-Z][0-9]{3}"


def test_a_clinical_trial_code_is_taken(tmp_path: Path) -> None:
    cfg = build_config(tmp_path, {**SECRET, "LOTRACK_PRODUCT_CODE": "YA000000"})
    assert cfg["LOTRACK_PRODUCT_CODE"] == "YA000000"


@pytest.mark.parametrize("code", ["SA000000", "YA00000", "ya000000"])
def test_a_code_outside_the_pattern_stops_the_start(tmp_path: Path, code: str) -> None:
    with pytest.raises(ValidationFailed, match="Product code"):
        build_config(tmp_path, {**SECRET, "LOTRACK_PRODUCT_CODE": code})


def test_a_site_with_registered_codes_sets_its_own_pattern(tmp_path: Path) -> None:
    # isbt128.md: "for cellular therapy the description code starts with `S`".
    own = {"LOTRACK_PRODUCT_CODE": "S1234000", "LOTRACK_PRODUCT_CODE_PATTERN": r"S[0-9A-Z]{4}"}
    assert build_config(tmp_path, {**SECRET, **own})["LOTRACK_PRODUCT_CODE"] == "S1234000"


@pytest.mark.parametrize("jurisdiction", ["", "cn", "EU"])
def test_an_unknown_label_jurisdiction_stops_the_start(tmp_path: Path, jurisdiction: str) -> None:
    with pytest.raises(ValidationFailed, match="LOTRACK_LABEL_JURISDICTION"):
        build_config(tmp_path, {**SECRET, "LOTRACK_LABEL_JURISDICTION": jurisdiction})
