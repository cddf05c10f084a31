"""The SDTM mapping as a pure rule: study days have no day 0, every row holds exactly its
dataset's columns, and a CSV reads back, through Python's csv module, exactly as recorded."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain import sdtm
from lotrack.domain import sdtm_rows as rows

START = dt.date(2026, 3, 1)
AT = dt.datetime(2026, 3, 1, 9, 30, 15)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)))
def test_study_day_one_is_the_reference_day_and_there_is_no_day_zero(on):
    day = int(rows.study_day(on, START))
    assert day != 0
    assert (day >= 1) == (on >= START)
    assert day == (on - START).days + (1 if on >= START else 0)


def test_study_day_is_blank_without_a_reference_start():
    assert rows.study_day(START, None) == ""
    assert (rows.study_day(START, START), rows.study_day(START - dt.timedelta(1), START)) == (
        "1",
        "-1",
    )


def subject(code: str, **kw) -> rows.Subject:
    base = dict(
        site="SZ-GIMI",
        subject=code,
        consent_on=START - dt.timedelta(days=2),
        sex="male",
        age_band="2-11y",
        indication="acute_gvhd",
        arm_code="1e6/kg",
        arm="1000000 cells/kg",
    )
    return rows.Subject(**(base | kw))


def dose(code: str, started: dt.datetime = AT) -> rows.Dose:
    return rows.Dose(
        "SZ-GIMI",
        code,
        started,
        None,
        "A999926000012",
        "CFM-1",
        1_000_000,
        12_000_000,
        Decimal("3.00"),
        Decimal("15.00"),
        "1e6/kg",
        "1000000 cells/kg",
    )


def event(code: str, **kw) -> rows.Event:
    base = dict(
        site="SZ-GIMI",
        subject=code,
        number=7,
        term="Lung infection",
        specify="",
        meddra="10061229",
        soc="Infections and infestations",
        onset_on=START + dt.timedelta(days=3),
        worst_grade=3,
        grade=2,
        attribution="possible",
        seriousness=("hospitalization",),
        outcome="recovering",
        resolved_on=None,
        expected=False,
    )
    return rows.Event(**(base | kw))


def test_every_row_holds_exactly_its_datasets_columns():
    built = rows.build(
        [subject("S-1"), subject("S-2", sex=None, consent_on=None, age_band=None)],
        [dose("S-1"), dose("S-1", AT + dt.timedelta(days=7))],
        [event("S-1"), event("S-1", number=8, outcome="fatal", grade=5, worst_grade=5)],
        [rows.Visit("SZ-GIMI", "S-1", START + dt.timedelta(days=30), "improved")],
    )
    for d in sdtm.DATASETS:
        for row in built[d.name]:
            assert tuple(row) == d.columns, d.name
    dm = {r["SUBJID"]: r for r in built["DM"]}
    assert (dm["S-1"]["RFXSTDTC"], dm["S-1"]["SEX"], dm["S-1"]["DTHFL"]) == (
        "2026-03-01T09:30:15",
        "M",
        "Y",
    )
    assert (dm["S-2"]["SEX"], dm["S-2"]["ACTARMCD"], dm["S-2"]["AGE"]) == ("U", "NOTTRT", "")
    assert [r["EXSTDY"] for r in built["EX"]] == ["1", "8"]
    assert [r["AESTDY"] for r in built["AE"]] == ["4", "4"]
    assert [r["DSDECOD"] for r in built["DS"]] == [
        "INFORMED CONSENT OBTAINED",
        "FIRST INFUSION",
        "COMPLETED",
        "DEATH",
    ]
    assert [r["DSSTDY"] for r in built["DS"]][:3] == ["-2", "1", "31"]


@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
def test_a_csv_reads_back_exactly_what_was_written(text):
    row = dict.fromkeys(sdtm.DM.columns, "") | {"SUBJID": text, "ARM": f'"{text}", 中文'}
    data = rows.to_csv(sdtm.DM, [row])
    assert data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel reads UTF-8 by
    read = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert read == [row]


def test_the_metadata_describes_every_column_once():
    read = list(csv.DictReader(io.StringIO(rows.metadata_csv().decode("utf-8-sig"))))
    described = [(r["dataset"], r["variable"]) for r in read]
    assert len(described) == len(set(described))
    wanted = {(d.name, c) for d in sdtm.DATASETS for c in d.columns}
    assert wanted | {(q[0], n) for n, q in sdtm.QUALIFIERS.items()} == set(described)
