"""`flask lotrack ctcae load FILE`: NCI's CTCAE v4.03 spreadsheet (here as CSV, NCI's headers)
checked and converted into the dictionary the app reads, naming its source and the file's
SHA-256; a file that cannot be used is refused naming the row; the app then offers its terms.
The investigator's brochure's expected terms must be terms of the dictionary."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from flask import Flask

from lotrack import create_app
from lotrack.domain import ctcae

HEADER = [
    "MedDRA Code",
    "MedDRA SOC",
    "CTCAE Term",
    "Grade 1",
    "Grade 2",
    "Grade 3",
    "Grade 4",
    "Grade 5",
    "Definition",
]
ROWS = [
    [
        "10016558",
        "General disorders and administration site conditions",
        "Fever",
        "38.0 - 39.0 degrees C (100.4 - 102.2 degrees F)",
        ">39.0 - 40.0 degrees C",
        "-",
        "-",
        "Death",
        "Elevation of the body's temperature.",
    ],
    ["", "", "", "", "", "", "", "", ""],
    [
        "10028813",
        "Gastrointestinal disorders",
        "Nausea",
        "Loss of appetite",
        "Oral intake decreased",
        "Inadequate oral caloric or fluid intake",
        "-",
        "-",
        "",
    ],
]


def _csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *rows])
    return path


def _app(tmp_path: Path, demo_app: Flask, **config: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOTRACK_DATABASE_URL": demo_app.config["LOTRACK_DATABASE_URL"],
            **config,
        }
    )


@pytest.fixture(autouse=True)
def _built_in_again():
    yield
    ctcae.use(None)  # the next test's apps read the built-in dictionary


def test_nci_rows_are_loaded_and_the_app_offers_them(tmp_path, demo_app):
    source = _csv(tmp_path / "CTCAE_4.03.csv", ROWS)
    target = tmp_path / "ctcae.json"
    app = _app(tmp_path, demo_app, LOTRACK_CTCAE_FILE=str(target))  # not loaded yet: built-in
    assert "Anemia" in ctcae.active().terms
    got = app.test_cli_runner().invoke(
        args=["lotrack", "ctcae", "load", str(source), "--source", "NCI CTCAE v4.03 (test)"]
    )
    assert got.exit_code == 0, got.output
    assert got.output.strip().endswith(f"2 terms in 2 system organ classes written to {target}")
    data = json.loads(target.read_text("utf-8"))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert data["source"] == f"NCI CTCAE v4.03 (test) (file CTCAE_4.03.csv, SHA-256 {digest})"
    assert data["terms"][0]["grades"] == {
        "1": "38.0 - 39.0 degrees C (100.4 - 102.2 degrees F)",
        "2": ">39.0 - 40.0 degrees C",
        "5": "Death",
    }
    _app(tmp_path, demo_app, LOTRACK_CTCAE_FILE=str(target))
    assert list(ctcae.active().terms) == ["Fever", "Nausea"]
    target.write_text("{not json", "utf-8")
    with pytest.raises(ctcae.DictionaryError, match="not a readable UTF-8 JSON file"):
        _app(tmp_path, demo_app, LOTRACK_CTCAE_FILE=str(target))


def test_a_file_that_cannot_be_used_is_refused_naming_the_row(tmp_path, demo_app):
    bad = _csv(tmp_path / "bad.csv", [[*ROWS[0][:3], "-", "-", "-", "-", "-", ""]])
    app = _app(tmp_path, demo_app)
    got = app.test_cli_runner().invoke(args=["lotrack", "ctcae", "load", str(bad), "--source", "x"])
    assert got.exit_code == 1
    assert "terms[1]: 'Fever' must define some of grades 1-5" in got.output
    assert not (tmp_path / "instance" / "ctcae_v403.json").exists()
    wrong = tmp_path / "ctcae.xls"
    wrong.write_bytes(b"\xd0\xcf\x11\xe0")
    got = app.test_cli_runner().invoke(
        args=["lotrack", "ctcae", "load", str(wrong), "--source", "x"]
    )
    assert got.exit_code == 1 and "saved as .xlsx" in got.output


def test_the_brochures_expected_terms_must_be_in_the_dictionary(tmp_path, demo_app):
    with pytest.raises(ctcae.DictionaryError, match="Feeling blue"):
        _app(tmp_path, demo_app, LOTRACK_IB_EXPECTED_TERMS="Fever|Feeling blue")
    app = _app(tmp_path, demo_app, LOTRACK_IB_EXPECTED_TERMS="Fever | Infusion related reaction")
    from lotrack.i18n import expected_terms

    assert expected_terms(app.config) == {"Fever", "Infusion related reaction"}
