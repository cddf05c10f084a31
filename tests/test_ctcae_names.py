"""CTCAE display names in Chinese: loaded only from a file that names its source and matches the
dictionary term by term; shown beside the official English term, never instead of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from lotrack import create_app
from lotrack.domain.ctcae_names import CtcaeNamesError, load_names
from tests.conftest import login

FIXTURE = Path(__file__).parent / "data" / "ctcae" / "names_zh_fixture.json"


def test_a_names_file_that_names_its_source_and_matches_the_dictionary_loads() -> None:
    names = load_names(FIXTURE)
    assert names.language == "zh_CN" and "test fixture" in names.source
    assert names.of("Fever") == "发热" and names.of("Anaphylaxis") is None


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "names.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


FEVER = {"term": "Fever", "meddra": "10016558", "name": "发热"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"language": "zh_CN", "names": [FEVER]}, "'source' must say where"),
        ({"language": "zh_CN", "source": "  ", "names": [FEVER]}, "'source' must say where"),
        ({"source": "s", "names": [FEVER]}, "'language' must name"),
        ({"language": "zh_CN", "source": "s", "names": []}, "'names' must be a non-empty list"),
        (
            # a CTCAE v4.03 term that the built-in subset does not hold
            {"language": "zh_CN", "source": "s", "names": [{**FEVER, "term": "Pneumothorax"}]},
            "names[1]: 'Pneumothorax' is not a CTCAE v4.03 term of the dictionary",
        ),
        (
            {"language": "zh_CN", "source": "s", "names": [{**FEVER, "meddra": "10002218"}]},
            "names[1]: 'Fever' has MedDRA code 10016558, not '10002218'",
        ),
        (
            {"language": "zh_CN", "source": "s", "names": [{**FEVER, "name": ""}]},
            "names[1]: 'Fever' has no display name",
        ),
        (
            {"language": "zh_CN", "source": "s", "names": [FEVER, FEVER]},
            "names[2]: 'Fever' is named twice",
        ),
        ([FEVER], "must hold one JSON object"),
    ],
)
def test_a_names_file_that_could_mislead_is_refused_naming_why(
    tmp_path: Path, data: object, reason: str
) -> None:
    with pytest.raises(CtcaeNamesError) as refused:
        load_names(_write(tmp_path, data))
    assert reason in str(refused.value)


def test_a_file_that_is_not_utf8_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "names.json"
    path.write_bytes("发热".encode("gb18030"))
    with pytest.raises(CtcaeNamesError, match="not a readable UTF-8 JSON file"):
        load_names(path)


def _app_with_names(tmp_path: Path, demo_app: Flask, names_file: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "LOTRACK_DATABASE_URL": demo_app.config["LOTRACK_DATABASE_URL"],
            "LOTRACK_CTCAE_NAMES_FILE": str(names_file),
        }
    )


def test_the_patient_page_shows_both_names_in_chinese_and_the_term_alone_in_english(
    tmp_path: Path, demo_app: Flask
) -> None:
    app = _app_with_names(tmp_path, demo_app, FIXTURE)
    try:
        client = app.test_client()
        assert login(client, "doctor").status_code == 302  # the adverse event form is theirs
        path = "/patients/SZ-GIMI/SUBJ-001"
        zh = client.get(path, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        en = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    finally:
        app.extensions["lotrack_db"].engine.dispose()
    assert '<option value="Fever"' in zh and "发热 (Fever)" in zh
    assert "lotrack test fixture" in zh  # the names' source is named beside them
    assert '<option value="Fever"' in en and "发热" not in en and "Fever (grades" in en


def test_the_application_refuses_to_start_with_a_names_file_that_could_mislead(
    tmp_path: Path, demo_app: Flask
) -> None:
    bad = _write(
        tmp_path, {"language": "zh_CN", "source": "s", "names": [{**FEVER, "meddra": "1"}]}
    )
    with pytest.raises(CtcaeNamesError, match="'Fever' has MedDRA code 10016558"):
        _app_with_names(tmp_path, demo_app, bad)
