"""Instrument CSV import: every row is judged, or, if any row is bad, nothing is written and every
bad row is reported by its line number."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.domain.errors import Forbidden, ValidationFailed
from lotrack.models import AuditHead, Investigation, Result
from lotrack.services import audit, clock, instrument_file, result_import
from tests.conftest import user
from tests.services.test_results import fresh_lot

DAY = "2025-09-22"
FLOW = {"CD105": "98.7", "CD73": "99.1", "CD90": "94.94", "CD45": "0.4", "CD34": "2.05",
        "CD14": "0.6", "CD19": "0.2", "HLA-DR": "0.8"}  # fmt: skip


def written(s: Session) -> tuple[int, int, int]:
    """Results, investigations and audit events: what an import may write."""
    s.flush()
    return (
        s.scalar(select(func.count()).select_from(Result)) or 0,
        s.scalar(select(func.count()).select_from(Investigation)) or 0,
        s.get(AuditHead, 1).seq,
    )


def run(s: Session, text: str, lot=None, **kw):
    return result_import.import_results(s, user(s, kw.pop("as_", "tech")), text, lot=lot, **kw)


def refused(s: Session, text: str, lot=None, **kw) -> dict[str, str]:
    """The refusal's fields, after checking that nothing was written once the edge rolls back."""
    s.commit()
    before = written(s)
    with pytest.raises(ValidationFailed) as err:
        run(s, text, lot, **kw)
    s.rollback()  # as every edge does on a refusal
    assert written(s) == before
    return err.value.fields


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_a_flow_cytometer_export_records_every_row_with_its_verdict(session, sep):
    s = session
    new = fresh_lot(s)
    body = f"marker{sep}percent\r\n" + "".join(f"{m}{sep}{v}\r\n" for m, v in FLOW.items())
    done = run(s, body, new, defaults={"performed_on": DAY, "instrument": "FACSCanto II"})
    assert [(r.analyte, r.value, r.unit, r.verdict) for r in done.results] == [
        (m, v, "%", "fail" if m in ("CD90", "CD34") else "pass") for m, v in FLOW.items()
    ]
    assert {(r.instrument, str(r.performed_on), r.lot_id) for r in done.results} == {
        ("FACSCanto II", DAY, new.id)
    }
    s.commit()
    assert audit.verify(s).ok


def test_a_file_with_lot_and_date_columns_records_rows_of_several_lots(session):
    s = session
    a, b = fresh_lot(s), fresh_lot(s)
    body = (
        "\ufeffLot Number,Test,Value,Unit,Date,Reagent lot\n"
        f"{a.lot_number},VIAB,93.4,%,{DAY},TB-1\n"
        f"{b.lot_number.lower()},ENDOTOXIN,<0.25,EU/mL,{DAY},LAL-9\n"
        "\n"
        f'{a.lot_number},STERILITY,"No growth",,{DAY},\n'  # inoculated at harvest
    )
    done = run(s, instrument_file.decode(body.encode("utf-8")))
    assert [(r.lot_id, r.test_code, r.verdict) for r in done.results] == [
        (a.id, "VIAB", "pass"),
        (b.id, "ENDOTOXIN", "pass"),
        (a.id, "STERILITY", "pass"),
    ]
    assert done.results[1].reagent_lot == "LAL-9"


def test_one_bad_row_among_many_writes_nothing_and_is_reported_by_line(session):
    s = session
    new = fresh_lot(s)
    rows = [f"{m},{v},%,{DAY}" for m, v in FLOW.items()]
    rows.insert(5, f"CD11b,1.5,cells,{DAY}")  # the wrong unit, on line 7
    fields = refused(s, "test,value,unit,date\n" + "\n".join(rows) + "\n", new)
    assert list(fields) == ["line 7"] and "unit" in fields["line 7"]


def test_every_bad_row_is_reported_with_its_reason(session):
    s = session
    new = fresh_lot(s)
    body = (
        "test,value,unit,performed_on,instrument\n"
        f"VIAB,93.4,%,{DAY},\n"  # line 2: good
        f"NOPE,1,%,{DAY},\n"  # 3: unknown test
        f"CD105,ninety,%,{DAY},\n"  # 4: not a number
        "CD73,99.1,%,22/09/2025,\n"  # 5: not an ISO date
        f"VIAB,94.0,%,{DAY},\n"  # 6: a second viability
        f"CD90,99.0,%,{DAY},{'x' * 121}\n"  # 7: instrument too long
        f"CD45,0.4,%,{DAY},,extra\n"  # 8: a cell too many
        f"CD14-CD11B,0.4,%,{DAY},\n"  # 9: a panel needs the alternative measured
    )
    fields = refused(s, body, new)
    assert list(fields) == [f"line {n}" for n in range(3, 10)]
    for line, says in [(3, "test: one of"), (4, "value"), (5, "performed_on"), (6, "test"),
                       (7, "instrument"), (8, "too many cells"), (9, "analyte")]:  # fmt: skip
        assert says in fields[f"line {line}"], (line, fields)


def test_a_row_for_another_lot_or_an_unknown_lot_is_refused(session):
    s = session
    new = fresh_lot(s)
    body = f"lot,test,value,unit,date\nCFM-2025-0001,VIAB,90,%,{DAY}\nNOLOT,VIAB,90,%,{DAY}\n"
    fields = refused(s, body, new)
    assert fields["line 2"] == f"lot: CFM-2025-0001 is not lot {new.lot_number}"
    assert fields["line 3"] == f"lot: NOLOT is not lot {new.lot_number}"
    assert refused(s, body.replace("CFM-2025-0001", new.lot_number)) == {
        "line 3": "lot: no lot NOLOT"
    }
    assert "lot column" in refused(s, "test,value\nVIAB,90.0\n")["header"]


@pytest.mark.parametrize(
    "body, field, says",
    [
        ("test,value,colour\nVIAB,90,red\n", "header", "unknown column colour"),
        ("marker,percnt\nCD105,98\n", "header", "unknown column percnt"),
        ("value,unit\n90,%\n", "header", "test (or marker) column"),
        ("test,unit\nVIAB,%\n", "header", "value (or percent) column"),
        ("test,marker,value\nVIAB,CD105,90\n", "header", "twice"),
        ("test,value\n", "file", "no data rows"),
        ("test,value\n\n ,\n", "file", "no data rows"),
        ("", "file", "no data rows"),
        ("test,value\nVIAB,9\x000\n", "file", "binary content"),
        ('test,value\nVIAB,"90\n', "line 2", "unexpected end of data"),
        ('test,value\nVIAB,"90"x\n', "line 2", "expected after"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_problem(session, body, field, says):
    fields = refused(session, body, fresh_lot(session))
    assert says in fields[field], fields


def test_too_many_rows_are_refused_before_any_is_judged(session):
    body = "test,value,unit\n" + "VIAB,90,%\n" * 4
    fields = refused(session, body, fresh_lot(session), max_rows=3)
    assert fields == {"file": "4 rows; at most 3 per import"}


@pytest.mark.parametrize("data", [b"test,value\nVIAB,\xff90\n", "Ä".encode("utf-16")])
def test_text_that_is_not_utf8_is_refused(data):
    with pytest.raises(ValidationFailed) as err:
        instrument_file.decode(data)
    assert "neither UTF-8 nor GB18030 text" in err.value.fields["file"]  # see ..._formats.py


def test_only_technicians_import(session):
    with pytest.raises(Forbidden):
        run(session, f"test,value,unit,date\nVIAB,90,%,{DAY}\n", fresh_lot(session), as_="qa")


# ---- honest test dates hold for every row (issue 13, hole 9) ---------------------------------


def test_a_row_dated_before_its_lots_harvest_or_after_today_writes_nothing(session):
    s = session
    new = fresh_lot(s)  # harvested on DAY
    tomorrow = clock.today(s) + dt.timedelta(days=1)  # by the facility's calendar
    body = (
        "test,value,unit,date\n"
        f"VIAB,93.4,%,{DAY}\n"  # line 2: good
        'STERILITY,"No growth",,2025-09-01\n'  # 3: "inoculated" three weeks before harvest
        f"CD105,98.7,%,{tomorrow}\n"  # 4: tomorrow at the facility
    )
    fields = refused(s, body, new)
    assert fields == {
        "line 3": f"performed_on: not before {DAY} (the harvest of lot {new.lot_number})",
        "line 4": f"performed_on: in the future (today is {clock.today(s)})",
    }


def test_a_final_row_cannot_predate_the_pending_row_or_result_it_completes(session):
    s = session
    new = fresh_lot(s)
    today = clock.today(s)
    started, earlier = today - dt.timedelta(days=3), today - dt.timedelta(days=15)
    # Within one file: the pending row, then its "final" reading re-dated 15 days back.
    body = f'test,value,unit,date\nSTERILITY,pending,,{started}\nSTERILITY,"No growth",,{earlier}\n'
    fields = refused(s, body, new)
    assert list(fields) == ["line 3"]
    assert fields["line 3"].startswith(f"performed_on: not before {started} (the incubation on")
    # Against a pending result already recorded: the same refusal.
    run(s, f"test,value,unit,date\nSTERILITY,pending,,{started}\n", new)
    fields = refused(s, f'test,value,unit,date\nSTERILITY,"No growth",,{earlier}\n', new)
    assert fields["line 2"].startswith(f"performed_on: not before {started}")
