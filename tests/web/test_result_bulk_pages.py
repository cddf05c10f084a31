"""Bulk and grid work in the pages: a lot's results ticked and verified in one confirmation (only
others' results offered), a grid with per-cell refusals, the import template downloaded and
imported back, the pending sterility's start and due date, and each action returning the user to
where they were with a confirmation (never to another site)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from flask import Flask

from lotrack.models import Result
from lotrack.services import clock, lot
from tests.conftest import csrf_token, login, user
from tests.services.test_results import HARVEST, fresh_lot, rec
from tests.web.test_quality_pages import db, post, results_count, text

TESTS = ("VIAB", "CD105", "CD73")


def lot_with_results(app: Flask) -> tuple[str, list[int]]:
    """A fresh lot with three results entered by tech."""
    with db(app) as s:
        new = fresh_lot(s)
        ids = [rec(s, new, t).id for t in TESTS]
        s.commit()
        return new.lot_number, ids


def offered(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="result" value="(\d+)" form="verify-selected"', page)]


def test_a_second_technician_verifies_the_ticked_results_in_one_confirmation(demo_app):
    number, ids = lot_with_results(demo_app)
    tech = demo_app.test_client()
    login(tech, "tech")
    assert offered(text(tech.get(f"/lots/{number}"))) == []  # one's own results: none offered
    tech2 = demo_app.test_client()
    login(tech2, "tech2")
    page = f"/lots/{number}"
    assert offered(text(tech2.get(page))) == ids
    done = tech2.post(
        f"/lots/{number}/results/verify",
        data={"result": ids, "next": page, "csrf_token": csrf_token(tech2, page)},
    )
    assert (done.status_code, done.headers["Location"]) == (302, page)
    shown = text(tech2.get(page))
    assert f"3 results of lot {number} verified: #{ids[0]} VIAB" in shown
    assert offered(shown) == []
    with db(demo_app) as s:
        assert all(s.get(Result, i).verified_by_id == user(s, "tech2").id for i in ids)


def test_ticking_ones_own_result_refuses_the_lot_naming_it_and_writes_nothing(demo_app):
    number, ids = lot_with_results(demo_app)
    with db(demo_app) as s:
        mine = rec(s, lot.get_lot(s, number), "CD90", actor=user(s, "tech2")).id
        s.commit()
    tech2 = demo_app.test_client()
    login(tech2, "tech2")
    page = f"/lots/{number}"
    refused = tech2.post(
        f"/lots/{number}/results/verify",
        data={"result": [ids[0], mine], "csrf_token": csrf_token(tech2, page)},
    )
    assert refused.status_code == 403
    assert f"You entered #{mine} CD90; a second person must verify them." in text(refused)
    with db(demo_app) as s:
        assert s.get(Result, ids[0]).verified_at is None


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil", ""])
def test_an_action_never_returns_to_another_site(demo_app, target):
    number, ids = lot_with_results(demo_app)
    tech2 = demo_app.test_client()
    login(tech2, "tech2")
    page = f"/lots/{number}"
    done = tech2.post(
        f"/results/{ids[0]}/verify", data={"next": target, "csrf_token": csrf_token(tech2, page)}
    )
    assert done.headers["Location"] == f"/lots/{number}#result-{ids[0]}"
    assert f"Result #{ids[0]} (VIAB) verified." in text(tech2.get(page))


def test_the_grid_refuses_per_cell_writing_nothing_then_records_with_verdicts(demo_app):
    with db(demo_app) as s:
        number = fresh_lot(s).lot_number
        s.commit()
    tech = demo_app.test_client()
    login(tech, "tech")
    grid = f"/lots/{number}/results/grid"
    page = text(tech.get(grid))
    assert 'name="unit-VIAB" value="%"' in page and 'name="test-CD14-CD11B"' in page
    before = results_count(demo_app)
    # As the browser posts it: the units prefilled, two values typed, one of them not a number.
    cells = {"performed_on": str(HARVEST), "unit-VIAB": "%", "unit-CD105": "%",
             "value-VIAB": "93.4", "value-CD105": "lots"}  # fmt: skip
    refused = post(tech, grid, cells, page=grid)
    assert refused.status_code == 422
    body = text(refused)
    assert 'id="row-CD105" class="flagged"' in body and "a number such as 95.2" in body
    assert 'value="93.4"' in body  # what was entered stays in its cell
    assert results_count(demo_app) == before
    done = post(tech, grid, {**cells, "value-CD105": "94.0"}, page=grid)
    assert (done.status_code, done.headers["Location"]) == (302, grid)
    after = text(tech.get(grid))
    assert "2 results recorded in lot" in after and "CD105 94.0 FAIL" in after.upper()
    row = after.split('id="row-CD105"', 1)[1].split("</tr>", 1)[0]
    assert "verdict-fail" in row


def test_the_import_template_downloads_and_imports_back(demo_app):
    with db(demo_app) as s:
        new = fresh_lot(s)
        number, version = new.lot_number, new.spec_version_id
        s.commit()
    tech = demo_app.test_client()
    login(tech, "tech")
    got = tech.get(f"/specs/{version}/import-template.csv?lot={number}")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert "attachment" in got.headers["Content-Disposition"]
    lines = got.get_data(as_text=True).lstrip("\ufeff").splitlines()
    filled = [lines[0]]
    for line in lines[1:]:
        if line.startswith(f"{number},VIAB,"):
            cells = line.split(",")
            value_at = lines[0].split(",").index("value")
            cells[value_at] = "93.4"
            line = ",".join(cells)
        filled.append(line)
    page = f"/lots/{number}"
    upload = ("\n".join(filled) + "\n").encode()
    done = tech.post(
        f"/lots/{number}/results/import",
        data={
            "file": (io.BytesIO(upload), "template.csv"),
            "performed_on": str(HARVEST),
            "csrf_token": csrf_token(tech, page),
        },
        content_type="multipart/form-data",
    )
    assert done.status_code == 302, text(done)
    assert f"1 results imported into lot {number}" in text(tech.get(page))


def test_the_pending_sterility_shows_its_start_and_due_and_refuses_an_early_reading(demo_app):
    with db(demo_app) as s:
        start = clock.today(s) - dt.timedelta(days=3)
        pending = rec(s, fresh_lot(s), "STERILITY", "pending", unit="", performed_on=start)
        s.commit()
        pid, due = pending.id, pending.due_on
    tech = demo_app.test_client()
    login(tech, "tech")
    page = text(tech.get(f"/results/{pid}"))
    assert f"Incubation started (inoculated) on</dt><dd>{start}" in page
    assert f"Reading due on</dt><dd>{due}" in page
    before = results_count(demo_app)
    refused = post(
        tech,
        f"/results/{pid}/complete",
        {"value": "No growth", "read_on": str(start + dt.timedelta(days=3))},
        page=f"/results/{pid}",
    )
    assert refused.status_code == 422
    assert f"on or after {due} (the due date)" in text(refused)
    assert results_count(demo_app) == before
