"""Issue 13, hole 8: one unit, one place. Three parallel shipments of one unit to three sites give
one 201 and two 409s, and the unit is received at that one site only; two parallel receipts of its
shipment give one 200 and one 409. Each request runs in its own thread, client and transaction, on
the configured database (SQLite, or PostgreSQL with LOTRACK_TEST_DATABASE_URL). The UNIQUE index
on shipment_unit.unit_id is the database's last word: a request that gets past the state guard is
a 409 naming the unit, never a 500, and writes nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, update

from lotrack.models import Shipment, ShipmentUnit, Site, Unit, User
from lotrack.services import accounts, api_tokens
from lotrack.services import lot as lots
from tests.api.conftest import Api, assert_problem, at_once, row_counts
from tests.clinical_setup import free_din, ready_din

SITES = ("SZ-GIMI", "BJ-CIP", "BJ-ACH")
RECEIPT = {"condition": "intact; dry shipper sealed", "temperature_record": "logger: -180 °C"}


def tokens(
    app: Flask, names: list[str], role: str = "technician", site: str | None = None
) -> list[str]:
    """An API token for each of `names`, made users of `role` (at `site`) unless they exist."""
    made = []
    with app.extensions["lotrack_db"].sessionmaker() as s:
        for name in names:
            found = s.scalar(select(User).where(User.username == name))
            if found is None:
                found = accounts.create_user(
                    s,
                    None,
                    username=name,
                    full_name=f"Racer {name}",
                    role=role,
                    password=f"demo-{name}-long-password",
                    site_code=site,
                    must_change_password=False,
                )
                s.flush()
            made.append(api_tokens.create_token(s, None, found))
        s.commit()
    return made


def placed(app: Flask, din: str) -> tuple[str, list[tuple[str, bool | None]]]:
    """The unit's state and every (site, received) it is shipped on."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        unit = lots.get_unit(s, din)
        rows = s.execute(
            select(Site.code, ShipmentUnit.received)
            .join(Shipment, ShipmentUnit.shipment_id == Shipment.id)
            .join(Site, Shipment.site_id == Site.id)
            .where(ShipmentUnit.unit_id == unit.id)
        ).all()
        return unit.state, [(code, received) for code, received in rows]


def test_three_parallel_shipments_of_one_unit_give_one_201_and_two_409s(demo_app):
    din, _check = free_din(demo_app)
    techs = tokens(demo_app, ["tech", "tech2", "tech3"])
    answers = at_once(
        demo_app,
        [
            (t, "/shipments", {"site": site, "units": [din]})
            for t, site in zip(techs, SITES, strict=True)
        ],
        "/shipments",
    )
    won = [i for i, r in enumerate(answers) if r.status_code == 201]
    assert len(won) == 1, [(r.status_code, r.get_json()) for r in answers]
    for i, r in enumerate(answers):
        if i not in won:
            assert_problem(r, 409, din)  # the refusal names the unit
    winner = SITES[won[0]]
    number = answers[won[0]].get_json()["number"]
    assert placed(demo_app, din) == ("in_transit", [(winner, None)])

    # Two people of that site receive the shipment at once: one receipt, one 409.
    nurses = tokens(demo_app, ["racer-a", "racer-b"], role="clinical", site=winner)
    got = at_once(
        demo_app,
        [(t, f"/shipments/{number}/receive", RECEIPT | {"received": [din]}) for t in nurses],
        "/shipments",
    )
    assert sorted(r.status_code for r in got) == [200, 409], [r.get_json() for r in got]
    assert_problem(next(r for r in got if r.status_code == 409), 409)
    assert placed(demo_app, din) == ("received", [(winner, True)])  # at one site only


def test_the_unique_index_turns_a_second_shipment_that_got_past_the_guard_into_a_409(
    demo_app, tech: Api
):
    din, _check = free_din(demo_app)
    first = tech.post("/shipments", {"site": "SZ-GIMI", "units": [din]})
    assert first.status_code == 201, first.get_json()
    # As if the unit's state had never been moved (a record from before revision 0009, say):
    # only the UNIQUE index on shipment_unit.unit_id now stands between it and a second journey.
    with demo_app.extensions["lotrack_db"].engine.begin() as conn:
        conn.execute(update(Unit).where(Unit.din == din).values(state="stored"))
    before = row_counts(demo_app)
    again = tech.post("/shipments", {"site": "BJ-CIP", "units": [din]})
    body = assert_problem(again, 409, din)
    assert "shipped" in body["fields"][din]
    assert row_counts(demo_app) == before  # nothing written
    assert placed(demo_app, din) == ("stored", [("SZ-GIMI", None)])  # one journey only


def test_a_unit_in_the_api_carries_its_state_and_its_store_only_while_stored(
    demo_app, tech: Api
) -> None:
    stored, transit = free_din(demo_app)[0], free_din(demo_app, index=1)[0]
    received = ready_din(demo_app)[0]  # the demo's: shipped to and received at SZ-GIMI
    assert tech.post("/shipments", {"site": "BJ-CIP", "units": [transit]}).status_code == 201
    store = {"freezer": "LN2-2", "rack": "C", "box": "1", "position": None}
    nowhere = dict.fromkeys(store)
    for din, state, site, where, position in (
        (stored, "stored", None, "stored at the manufacturer", store),
        (transit, "in_transit", "BJ-CIP", "in transit to BJ-CIP (SHP-", nowhere),
        (received, "received", "SZ-GIMI", "received at SZ-GIMI", nowhere),
    ):
        unit = tech.get(f"/units/{din}").get_json()
        assert (unit["state"], unit["site"]) == (state, site), unit
        assert unit["where"].startswith(where) and {k: unit[k] for k in store} == position
    listed = {u["din"]: u for u in tech.get("/lots/CFM-2025-0001").get_json()["units"]}
    assert [listed[d]["state"] for d in (stored, transit, received)] == [
        "stored",
        "in_transit",
        "received",
    ]
    assert listed[stored]["freezer"] == "LN2-2" and listed[received]["freezer"] is None
