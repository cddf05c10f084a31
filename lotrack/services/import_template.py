"""The import template of a specification version: a CSV with the columns the result import reads
(services/result_import.py) and one row per test, its unit filled in and its criterion beside it,
so that a technician fills in values and dates and imports the file as it is. Rows left without
a value are skipped by the import (a template lists every test; not every one is done at once)."""

from __future__ import annotations

import csv
import io

from lotrack.models import SpecVersion
from lotrack.services import specs

# The import reads `test_name` and `criterion` as the reader's guide and records nothing of them.
COLUMNS = (
    "lot",
    "test",
    "test_name",
    "criterion",
    "value",
    "unit",
    "performed_on",
    "instrument",
    "method",
    "reagent_lot",
    "material_lots",
)
GUIDE_COLUMNS = frozenset({"test_name", "criterion"})


def template_name(version: SpecVersion) -> str:
    """The download's file name, e.g. cfmsc-release-v1-import-template.csv."""
    return f"{version.product}-{version.stage}-v{version.version}-import-template.csv".replace(
        " ", "-"
    ).lower()


def template_csv(version: SpecVersion, lot_number: str = "") -> str:
    """The template as CSV text (UTF-8 with a BOM is added by the edge, for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for t in specs.content_of(version).tests:
        criterion = t.criterion()
        if t.incubation_days is not None:
            criterion += (
                f" (incubated {t.incubation_days} days: enter 'pending' with the inoculation"
                " date, and the reading once due)"
            )
        if not t.required:
            criterion += " (informational)"
        # A panel is entered as the alternative measured: the first is filled in, the criterion
        # names the others.
        row = {
            "lot": lot_number,
            "test": t.analytes[0],
            "test_name": t.name,
            "criterion": criterion,
            "unit": t.unit,
            "method": t.method,
        }
        writer.writerow([row.get(c, "") for c in COLUMNS])
    return out.getvalue()
