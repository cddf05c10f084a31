"""Trace and recall (services/trace.py): a patient back to the donor, a donor, bank or lot forward
to every unit, where it is and who received it, and a recall's impact list, each with a number of
SQL statements that does not grow with the number of units or patients."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import Forbidden, NotFound, ValidationFailed
from lotrack.models import Containment, Lot, User
from lotrack.services import clinical, containment, exceptional, shipment, trace
from lotrack.services import lot as lots
from lotrack.services.release import Lockout, SignIn
from tests.conftest import counting, user
from tests.services.test_bedside_service import give, infuse, with_key
from tests.services.test_clinical import clinical_user, enrol, prescribed, released_lot
from tests.services.test_shipments import receive, send


@pytest.fixture
def s(session: Session, demo_app: Flask) -> Session:
    return with_key(session, demo_app)


@dataclass
class World:
    lot: Lot
    patients: list[str]  # wristbands, in order of infusion
    twice: str  # the patient who received two units


def world(s: Session, tag: str, units: int, patients: int, bags: int = 2) -> World:
    """A released lot of `units` bags: `patients` patients infused at SZ-GIMI (the first one with
    `bags` bags), two bags on their way to BJ-ACH, one received at BJ-CIP, one lost on the way
    there, the rest in the store."""
    nurse, witness = user(s, "nurse"), user(s, "sznurse9")
    lot = released_lot(s, units=units)
    dins = [u.din for u in lot.units]
    heavy = enrol(s, nurse, f"{tag}-000", weight=str(36 * bags))  # 2 x 10^6/kg: `bags` bags
    clinical.allocate(s, user(s, "tech"), prescribed(s, nurse, heavy), dins[:bags])
    receive(s, nurse, send(s, dins[:bags]), dins[:bags])
    for din in dins[:bags]:
        give(s, nurse, witness, heavy, din)
    infused = [heavy.wristband]
    singles = dins[bags : bags + patients - 1]
    for i, din in enumerate(singles, start=1):
        infused.append(infuse(s, nurse, witness, f"{tag}-{i:03d}", din).patient.wristband)
    rest = dins[bags + patients - 1 :]
    if rest[:2]:
        send(s, rest[:2], site="BJ-ACH")
    if rest[2:4]:
        receive(s, user(s, "bjnurse"), send(s, rest[2:4], site="BJ-CIP"), rest[2:3])
    s.commit()
    return World(lot, infused, heavy.wristband)


@pytest.fixture
def staff(s: Session) -> None:
    clinical_user(s, "sznurse9")
    clinical_user(s, "bjnurse", "BJ-CIP")


def test_a_patient_is_traced_back_to_the_donor(s, staff):
    w = world(s, "P", units=6, patients=2)
    back = trace.patient_back(s, user(s, "nurse"), w.twice.lower())
    assert back.patient.wristband == w.twice
    assert [t.unit.din for t in back.infusions] == [u.din for u in w.lot.units[:2]]
    t = back.infusions[0]
    assert (t.lot.lot_number, t.run.code, [p.number for p in t.passages]) == (
        w.lot.lot_number,
        "RUN-2025-01",
        [6, 7],  # WCB-001-A was banked at passage 5
    )
    assert (t.wcb.code, t.mcb.code, t.clone.code, t.donor.code) == (
        "WCB-001-A",
        "MCB-001",
        "CL-0001",
        "FD-0001",
    )
    assert trace.patient_back(s, user(s, "qa"), w.patients[1]).infusions[0].lot == w.lot
    with pytest.raises(NotFound):
        trace.patient_back(s, user(s, "bjnurse"), w.twice)  # another site's patient
    with pytest.raises(Forbidden):
        trace.patient_back(s, user(s, "tech"), w.twice)
    waiting = enrol(s, user(s, "nurse"), "P-900")
    assert trace.patient_back(s, user(s, "nurse"), waiting.wristband).infusions == []


def test_a_lot_is_traced_forward_to_every_unit_place_and_patient(s, staff):
    w = world(s, "P", units=8, patients=3)
    fwd = trace.forward(s, user(s, "qa"), lot=w.lot.lot_number.lower())
    assert (fwd.origin, fwd.lots) == (f"lot {w.lot.lot_number}", [w.lot])
    shipped = {u.din: shipment.location(s, u) for u in w.lot.units}
    assert {p.unit.din: p.location for p in fwd.units} == shipped  # same answer, in bulk
    d = [u.din for u in w.lot.units]
    places = [p.where for p in fwd.units]
    heavy, one, two = w.patients
    assert places[:4] == [
        f"infused into {heavy}",
        f"infused into {heavy}",
        f"infused into {one}",
        f"infused into {two}",
    ]
    assert places[4:6] == [f"in transit to BJ-ACH ({shipped[d[4]].shipment})"] * 2
    assert places[6] == "received at BJ-CIP"
    assert places[7] == f"missing: shipped to BJ-CIP ({shipped[d[7]].shipment}), never received"
    assert [(r.din, r.patient, r.site) for r in fwd.patients] == [
        (d[0], heavy, "SZ-GIMI"),
        (d[1], heavy, "SZ-GIMI"),
        (d[2], one, "SZ-GIMI"),
        (d[3], two, "SZ-GIMI"),
    ]


def test_a_donor_or_bank_is_traced_forward_to_its_lots(s, staff):
    w = world(s, "P", units=5, patients=1)
    qa = user(s, "qa")
    everything = trace.forward(s, qa, donor="fd-0001")
    numbers = [x.lot_number for x in everything.lots]
    assert w.lot.lot_number in numbers and "CFM-2025-0004" in numbers
    assert [x.lot_number for x in trace.forward(s, qa, bank="MCB-001").lots] == numbers
    from_b = trace.forward(s, qa, bank="WCB-001-B")
    # RUN-2025-05's failing lot and RUN-2025-03's (services/seed.py)
    assert [x.lot_number for x in from_b.lots] == ["CFM-2025-0003", "CFM-2025-0004"]
    assert {p.where for p in from_b.units} == {"stored at the manufacturer"} and not from_b.patients
    assert len(everything.units) == sum(len(lots.get_lot(s, n).units) for n in numbers)
    demo_bag = lots.get_lot(s, "CFM-2025-0001").units[-1].din  # seeded: received at SZ-GIMI
    assert (
        next(p.where for p in everything.units if p.unit.din == demo_bag) == "received at SZ-GIMI"
    )
    assert {r.patient for r in everything.patients} == set(w.patients)


@pytest.mark.parametrize(
    "kw, error",
    [
        ({}, ValidationFailed),
        ({"donor": "FD-0001", "lot": "CFM-2025-0001"}, ValidationFailed),
        ({"donor": "FD-9999"}, NotFound),
        ({"bank": "WCB-404"}, NotFound),
        ({"lot": "CFM-1999-0001"}, NotFound),
    ],
)
def test_forward_needs_one_known_starting_point(s, kw, error):
    with pytest.raises(error):
        trace.forward(s, user(s, "qa"), **kw)


@pytest.mark.parametrize("who", ["nurse", "tech"])
def test_forward_names_every_sites_patients_so_only_central_roles_may_read_it(s, who):
    with pytest.raises(Forbidden):
        trace.forward(s, user(s, who), lot="CFM-2025-0001")
    assert trace.forward(s, user(s, "md"), lot="CFM-2025-0001").lots


def recall(s: Session, lot: Lot) -> Containment:
    sign_in = SignIn("qa", "demo-qa-password", "recalled", "endotoxin found in a retained sample")
    done = containment.contain(
        s, user(s, "qa"), kind="recall", lot=lot, sign_in=sign_in, lockout=Lockout(5, 15)
    )
    s.commit()
    return done


def test_a_recalls_impact_lists_patients_to_follow_and_units_to_quarantine(s, staff):
    w = world(s, "P", units=9, patients=2)
    rec = recall(s, w.lot)
    exceptional.record_notification(
        s,
        user(s, "qa"),
        recipient_role="site",
        recipient="BJ-CIP pharmacy",
        method="telephone",
        notified_at=utcnow() - dt.timedelta(minutes=5),
        containment_id=rec.id,
    )
    s.commit()
    impact = trace.recall_impact(s, rec)
    d = [u.din for u in w.lot.units]
    assert impact.lots == [w.lot] and w.lot.state == "RECALLED"
    assert [r.patient for r in impact.patients] == [w.twice, *w.patients]
    assert [(p.unit.din, p.site) for p in impact.at_sites] == [(d[5], "BJ-CIP")]
    assert [(p.unit.din, p.site) for p in impact.in_transit] == [(d[3], "BJ-ACH"), (d[4], "BJ-ACH")]
    assert [p.unit.din for p in impact.missing] == [d[6]]
    assert [p.unit.din for p in impact.at_manufacturer] == d[7:]
    assert [(n.recipient, n.method) for n in impact.notifications] == [
        ("BJ-CIP pharmacy", "telephone")
    ]


def statements(s: Session, app: Flask, call, *actors: User) -> int:
    """SQL statements `call` runs on a session holding nothing but the acting users."""
    s.commit()
    s.expire_all()
    for actor in actors:
        s.refresh(actor)
    with counting(app) as seen:
        call()
    return len(seen)


def test_trace_and_recall_cost_the_same_queries_for_4_or_40_units(s, demo_app, staff):
    qa, nurse = user(s, "qa"), user(s, "nurse")

    def costs(w: World) -> dict[str, int]:
        number, band = w.lot.lot_number, w.twice
        return {
            "back": statements(s, demo_app, lambda: trace.patient_back(s, nurse, band), nurse),
            "lot": statements(s, demo_app, lambda: trace.forward(s, qa, lot=number), qa),
            "wcb": statements(s, demo_app, lambda: trace.forward(s, qa, bank="WCB-001-A"), qa),
            "mcb": statements(s, demo_app, lambda: trace.forward(s, qa, bank="MCB-001"), qa),
            "donor": statements(s, demo_app, lambda: trace.forward(s, qa, donor="FD-0001"), qa),
        }

    def impact_cost(w: World) -> tuple[int, trace.RecallImpact]:
        rec = recall(s, w.lot)
        found: list[trace.RecallImpact] = []
        cost = statements(s, demo_app, lambda: found.append(trace.recall_impact(s, rec)), rec)
        return cost, found[0]

    small = world(s, "S", units=4, patients=1, bags=2)
    (impact_small, _), before = impact_cost(small), costs(small)
    large = world(s, "L", units=40, patients=12, bags=5)
    (impact_large, impact), after = impact_cost(large), costs(large)
    assert after == before, (before, after)
    assert impact_large == impact_small
    assert max(before.values()) <= 6 and impact_small <= 6, (before, impact_small)
    # and the answers are whole: 5 + 11 infusions, 4 units out at sites, 20 in the store
    assert (len(impact.patients), len(impact.in_transit), len(impact.at_sites)) == (16, 2, 1)
    assert (len(impact.missing), len(impact.at_manufacturer)) == (1, 20)
    assert len(trace.forward(s, qa, donor="FD-0001").patients) == 2 + 16
