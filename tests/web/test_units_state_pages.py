"""Issue 13: a unit's state follows where it is and what happened to it on every page and record.
The unit page, the lot page's units table and the recall record show it (stored / in transit /
received at SITE / thawed / infused), and the storage position only while the unit is stored at
the manufacturer: a unit shipped and infused no longer reads "LN2-2 / rack C / box 1"."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lotrack.domain.isbt128 import eye_readable
from lotrack.models import Containment
from tests import clinical_setup as cs
from tests.conftest import login

STORE = "LN2-2 / rack C / box 1"  # where the demo filled CFM-2025-0001


def text(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return html.unescape(resp.get_data(as_text=True))


def facts(page: str) -> str:
    """The unit page's record (its history below may name old values)."""
    return page.split('class="facts"', 1)[1].split("</dl>", 1)[0]


def row(page: str, din: str, table: str) -> str:
    """The table row of `din` in the table whose class attribute starts with `table`."""
    body = page.split(table, 1)[1].split("</table>", 1)[0]
    return next(r for r in body.split("<tr") if eye_readable(din) in r)


def units(app: Flask) -> dict[str, str]:
    """The demo lot's four units, each put somewhere else: stored, in transit, thawed at
    SZ-GIMI and (the demo's received one) infused into SUBJ-001."""
    stored, transit, thawed = (cs.free_din(app, index=i)[0] for i in range(3))
    infused = cs.ready_din(app)[0]
    for din, subject in ((transit, "SUBJ-050"), (thawed, "SUBJ-051")):
        cs.allocate(app, cs.enrol(app, subject), din)
    cs.ship(app, transit, received=None)
    cs.ship(app, thawed)
    return {"stored": stored, "transit": transit, "thawed": thawed, "infused": infused}


def test_a_shipped_unit_shows_where_it_went_and_no_longer_its_freezer(
    demo_app: Flask, client: FlaskClient
) -> None:
    login(client, "qa")
    d = units(demo_app)
    stored = facts(text(client.get(f"/units/{d['stored']}")))
    assert "stored at the manufacturer" in stored and STORE in stored
    transit = facts(text(client.get(f"/units/{d['transit']}")))
    assert re.search(r"in transit to SZ-GIMI \(SHP-\d{4}-\d{4}\)", transit), transit
    assert STORE not in transit and "Storage" not in transit
    received = facts(text(client.get(f"/units/{d['infused']}")))
    assert "received at SZ-GIMI" in received and STORE not in received

    lot = text(client.get("/lots/CFM-2025-0001"))
    assert STORE in row(lot, d["stored"], "<h2>Units</h2>")
    for key, where in (("transit", "in transit to SZ-GIMI"), ("infused", "received at SZ-GIMI")):
        shown = row(lot, d[key], "<h2>Units</h2>")
        assert where in shown and STORE not in shown, key


def test_thawed_and_infused_units_say_so_on_the_unit_page_and_the_recall_record(
    demo_app: Flask, client: FlaskClient
) -> None:
    d = units(demo_app)
    cs.thaw(demo_app, d["thawed"])
    cs.infuse(demo_app, cs.READY, d["infused"])
    cs.recall(demo_app)
    login(client, "qa")
    for key, where in (("thawed", "thawed at SZ-GIMI"), ("infused", "infused at SZ-GIMI")):
        shown = facts(text(client.get(f"/units/{d[key]}")))
        assert where in shown and STORE not in shown, key
    with cs.db(demo_app) as s:
        number = s.scalars(select(Containment.number)).one()
    record = text(client.get(f"/containments/{number}"))
    cells = re.findall(r"<td>(.*?)</td>", row(record, d["stored"], 'class="affected"'), re.S)
    assert cells[4:7] == ["LN2-2", "C", "1"]  # still in the store: look for it there
    for key, where in (
        ("transit", "in transit to SZ-GIMI"),
        ("thawed", "thawed at SZ-GIMI"),
        ("infused", "infused at SZ-GIMI"),
    ):
        shown = row(record, d[key], 'class="affected"')
        cells = re.findall(r"<td>(.*?)</td>", shown, re.S)
        assert cells[4:8] == ["—"] * 4 and where in shown, (key, cells)
