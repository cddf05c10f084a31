"""Two holes of issue 13, each reproduced as it was found on a fresh demo database:
- hole 5: the evaluation API and the lot page said "releasable" while a deviation was open (the
  release review said not);
- hole 2: a donor found ineligible after release left the lot RELEASED; its units still scanned
  GO and `/v/<token>` still said RELEASED. Now the lot goes ON_HOLD at once, waits in QA's "needs
  decision" queue (API and home page), and its label verifies as ON HOLD."""

from __future__ import annotations

import html

from flask import Flask

from lotrack.documents.tokens import make_token
from lotrack.services import lot as lots
from tests.conftest import login
from tests.release_setup import make_lot

DEMO_LOT = "CFM-2025-0001"  # released, from donor FD-0001 (MCB-001, WCB-001-A)


def test_an_open_deviation_makes_the_evaluation_and_the_lot_page_say_not_releasable(
    demo_app: Flask, as_user
) -> None:
    number = make_lot(demo_app)
    tech = as_user("tech")
    assert tech.get(f"/lots/{number}/evaluation").get_json()["releasable"] is True
    resp = tech.post("/deviations", {"lot": number, "description": "label misprint"})
    assert resp.status_code == 201, resp.get_json()
    dev = resp.get_json()["number"]

    answer = tech.get(f"/lots/{number}/evaluation").get_json()
    assert answer["releasable"] is False
    assert [(b["kind"], b["subject"]) for b in answer["blockers"]] == [("deviation", dev)]
    web = demo_app.test_client()
    login(web, "tech")
    page = html.unescape(web.get(f"/lots/{number}").get_data(as_text=True))
    assert "Not releasable" in page and f"Deviation {dev} is open" in page


def test_a_donor_found_ineligible_after_release_puts_the_lot_on_hold_at_once(
    demo_app: Flask, as_user
) -> None:
    qa, tech = as_user("qa"), as_user("tech")
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        dins = [u.din for u in lots.get_lot(s, DEMO_LOT).units]
    key = demo_app.extensions["lotrack_signing_key"]
    verify = demo_app.test_client()
    label = f"/v/{make_token(key, 'U', dins[0])}?format=json"
    assert verify.get(label).get_json()["status"] == "RELEASED"

    resp = qa.post(
        "/donors/FD-0001/determination",
        {
            "determination": "ineligible",
            "responsible_person": "Demo Medical Director",
            "reason": "look-back: HBV NAT reactive on a retained sample",
        },
    )
    assert resp.status_code == 200, resp.get_json()

    assert tech.get(f"/lots/{DEMO_LOT}").get_json()["state"] == "ON_HOLD"
    for din in dins:  # every unit of the lot, wherever it is
        answer = verify.get(f"/v/{make_token(key, 'U', din)}?format=json").get_json()
        assert answer["genuine"] is True and answer["status"] == "ON HOLD"
    queue = tech.get("/lots/needs-decision").get_json()
    assert [item["lot_number"] for item in queue["items"]] == [DEMO_LOT]
    hold = queue["items"][0]["hold"]
    assert hold["kind"] == "lookback" and hold["trigger_entity"] == "donor"
    assert "FD-0001" in hold["reason"] and hold["created_by"] == "qa"
    review = tech.get(f"/lots/{DEMO_LOT}/release").get_json()
    assert (review["state"], review["held_from"]) == ("ON_HOLD", "RELEASED")
    assert review["hold"] == hold  # the review says why it is held, as the queue does
    web = demo_app.test_client()
    login(web, "qa")
    home = html.unescape(web.get("/").get_data(as_text=True))
    assert "Needs decision" in home and DEMO_LOT in home and hold["number"] in home
