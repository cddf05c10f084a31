"""Lineage pages: a lot back to its donor, and a bank forward to every lot and unit, each linked,
at a cost in queries that does not grow with the tree."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

from flask import Flask
from sqlalchemy import select

from lotrack.domain.isbt128 import eye_readable
from lotrack.models import Lot, Unit
from lotrack.services import lot as lots
from lotrack.services import production
from tests.conftest import FACILITY, counting, login, user


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def units_of(app: Flask, lot_numbers: list[str]) -> list[Unit]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return list(
            s.scalars(select(Unit).join(Unit.lot).where(Lot.lot_number.in_(lot_numbers))).all()
        )


def grow(app: Flask) -> None:
    """More of everything under MCB-001: a run with passages, two lots, many units."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        tech = user(s, "tech")
        run = production.start_run(
            s,
            tech,
            code="RUN-2025-09",
            bank_code="WCB-001-B",
            vial_numbers=[2, 3],
            started_on=dt.date(2025, 12, 1),
        )
        s.flush()
        for i in range(3):
            day = dt.date(2025, 12, 1) + dt.timedelta(days=7 * i)
            production.record_passage(
                s,
                tech,
                run,
                seeded_on=day,
                harvested_on=day + dt.timedelta(days=6),
                cells_seeded=2_000_000,
                cells_harvested=12_000_000,
                viability_percent=Decimal("95"),
            )
        s.flush()
        for lot_number in ("CFM-2025-0101", "CFM-2025-0102"):
            new = lots.register_lot(
                s,
                tech,
                run_code=run.code,
                harvested_on=dt.date(2025, 12, 21),
                expires_on=dt.date(2026, 12, 21),
                lot_number=lot_number,
            )
            s.flush()
            lots.fill_units(
                s,
                tech,
                new,
                container="bag",
                count=12,
                cells_per_unit=72_000_000,
                volume_ml=Decimal("18"),
                facility_id=FACILITY,
            )
        existing = lots.get_lot(s, "CFM-2025-0004")
        lots.fill_units(
            s,
            tech,
            existing,
            container="bag",
            count=10,
            cells_per_unit=72_000_000,
            volume_ml=Decimal("18"),
            facility_id=FACILITY,
        )
        s.commit()


def test_lot_lineage_runs_from_the_donor_to_the_units(client, demo_app) -> None:
    login(client, "qa")
    page = text(client.get("/lineage/lot/CFM-2025-0004"))
    chain = re.search(r'(?s)<ol class="chain".*?</ol>', page).group(0)
    steps = [
        ('href="/donors/FD-0001"', "FD-0001"),
        ('href="/clones/CL-0001"', "CL-0001"),
        ('href="/banks/MCB-001"', "MCB-001"),
        ('href="/banks/WCB-001-B"', "WCB-001-B"),
        ('href="/runs/RUN-2025-03"', "RUN-2025-03"),
        ("Passages", "6 (P6–P11"),
        ('href="/lots/CFM-2025-0004"', "CFM-2025-0004"),
        ("Units", "2"),
    ]
    positions = [
        chain.index(f"{link}>{label}" if link.startswith("href") else link) for link, label in steps
    ]
    assert positions == sorted(positions), "the chain reads donor → … → units in order"
    assert "WCB-001-A" not in chain
    # every passage, its doublings and cumulative level, the flagged passage 11
    rows = re.findall(r'(?s)<tr( class="flagged")?>\s*<td>P(\d+)\b(.*?)</tr>', page)
    assert [int(n) for _f, n, _r in rows] == [6, 7, 8, 9, 10, 11]
    assert [int(n) for f, n, _r in rows if f] == [11]
    assert "LIMIT EXCEEDED: passage 11 exceeds the limit of 10" in rows[-1][2]
    assert "36.63" in rows[-1][2]  # 18.40 at banking + the six passages
    # the lot's units, each DIN linked with its check character boxed
    units = units_of(demo_app, ["CFM-2025-0004"])
    assert len(units) == 2
    for u in units:
        assert re.search(
            rf'href="/units/{u.din}">{eye_readable(u.din)}</a>\s*'
            rf'<span class="check"[^>]*>{re.escape(u.check_character)}<',
            page,
        )


def test_bank_forward_from_the_mcb_reaches_every_wcb_run_lot_and_unit(client, demo_app) -> None:
    login(client, "tech")
    page = text(client.get("/lineage/bank/MCB-001"))
    for code in ("WCB-001-A", "WCB-001-B", "RUN-2025-01", "RUN-2025-02", "RUN-2025-03"):
        assert code in page
    for n in range(1, 5):
        assert f'href="/lots/CFM-2025-000{n}"' in page
    assert page.index("WCB-001-A</a>") < page.index("RUN-2025-01") < page.index("WCB-001-B</a>")
    assert page.index("WCB-001-B</a>") < page.index("RUN-2025-03")
    assert "14 units" in page
    for u in units_of(demo_app, [f"CFM-2025-000{n}" for n in range(1, 5)]):
        assert f'href="/units/{u.din}"' in page
    # Each lot and each unit shows its lot's state: CFM-2025-0001 (4 units) is released.
    assert page.count("state-released") >= 1 + 4
    assert page.count("state-quarantine") >= 3 + 10
    assert "P11: " in page and "passage 11 exceeds the limit of 10" in page


def test_bank_forward_from_a_wcb_shows_only_what_it_made(client) -> None:
    login(client, "tech")
    page = text(client.get("/lineage/bank/WCB-001-A"))
    assert "RUN-2025-01" in page and "RUN-2025-02" in page
    assert "RUN-2025-03" not in page and "CFM-2025-0004" not in page
    assert "CFM-2025-0003" not in page  # made on WCB-001-B (RUN-2025-05)
    assert "7 units" in page


def test_bank_forward_pages_its_runs_and_keeps_the_whole_count(client, demo_app) -> None:
    login(client, "tech")
    demo_app.config["LOTRACK_PAGE_SIZE"] = 2
    first = text(client.get("/lineage/bank/MCB-001"))
    assert "14 units" in first and "RUN-2025-01" in first and "RUN-2025-03" not in first
    assert 'href="/lineage/bank/MCB-001?page=2"' in first
    later = "".join(text(client.get(f"/lineage/bank/MCB-001?page={n}")) for n in (2, 3))
    assert "RUN-2025-03" in later and "RUN-2025-01" not in later
    # A bank whose runs are on another page is not said to have none.
    assert "No production run from WCB-001-A" not in later
    assert "No run of WCB-001-A on this page." in later


def test_unknown_records_are_404(client) -> None:
    login(client, "tech")
    assert client.get("/lineage/lot/CFM-1999-0001").status_code == 404
    assert client.get("/lineage/bank/MCB-404").status_code == 404


def test_lineage_pages_cost_the_same_number_of_queries_whatever_the_size(client, demo_app) -> None:
    login(client, "tech")
    paths = ("/lineage/bank/MCB-001", "/lineage/lot/CFM-2025-0004")
    before = {}
    for path in paths:
        with counting(demo_app) as statements:
            assert client.get(path).status_code == 200
        before[path] = len(statements)
    grow(demo_app)
    for path in paths:
        with counting(demo_app) as statements:
            page = text(client.get(path))
        assert len(statements) == before[path], (path, statements)
    assert '<span class="kind">Units</span> 12' in page  # the grown lot is shown
    forward = text(client.get("/lineage/bank/MCB-001"))
    assert "RUN-2025-09" in forward and "CFM-2025-0102" in forward and "48 units" in forward
