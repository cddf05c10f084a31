"""Passage and doubling limits of a product, read from its in-process spec file under specs/."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from lotrack.domain.errors import NotFound
from lotrack.domain.passage import PassageLimits

SPECS_DIR = Path(__file__).resolve().parents[2] / "specs"


@lru_cache(maxsize=16)
def passage_limits(product: str, specs_dir: Path = SPECS_DIR) -> PassageLimits:
    for path in sorted(specs_dir.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        if data.get("product") == product and data.get("stage") == "in-process":
            lim = data["limits"]
            return PassageLimits(
                int(lim["max_passage"]), Decimal(str(lim["max_cumulative_pdl"])), lim["source"]
            )
    raise NotFound(f"No in-process specification for product {product} under {specs_dir}.")
