"""POST /api/v1/bedside/check: GO only when every check passes, NO-GO naming each reason in plain
words for every unsafe case, one at a time; every attempt recorded; then the infusion."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from lotrack.documents.tokens import make_token
from lotrack.models import Lot, Prescription
from lotrack.services import clinical
from lotrack.services import lot as lots
from tests import clinical_setup as cs
from tests.api.conftest import assert_problem, row_counts
from tests.conftest import user


def check(nurse, patient: str, scan: str, **extra) -> dict:
    resp = nurse.post("/bedside/check", {"patient": patient, "scan": scan, **extra})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert isinstance(body["go"], bool) and isinstance(body["scan_id"], int)
    assert all(isinstance(r, str) and r.endswith(".") for r in body["reasons"])
    return body


def no_go(body: dict, *words: str) -> None:
    assert body["go"] is False
    text = " ".join(body["reasons"])
    for w in words:
        assert w in text, body["reasons"]


@pytest.fixture
def nurse(as_user):
    return as_user("nurse")


@pytest.fixture
def ready(demo_app):
    """The demo patient's unit, thawed five minutes ago: the one GO of the demo."""
    din, check_char = cs.ready_din(demo_app)
    cs.thaw(demo_app, din)
    return din, check_char


def test_go_by_label_or_typed_din_then_the_infusion_is_recorded(demo_app, nurse, ready) -> None:
    din, check_char = ready
    by_qr = check(nurse, cs.READY, cs.label(demo_app, din))
    assert by_qr["go"] is True and by_qr["reasons"] == []
    assert by_qr["din"] == din and by_qr["patient"] == cs.READY
    typed = check(nurse, "sz-gimi/subj-001", f"{din[:5]} {din[5:7]} {din[7:]} {check_char}")
    assert typed["go"] is True
    started = cs.now().isoformat()
    resp = nurse.post(
        "/infusions",
        {
            "scan_id": typed["scan_id"],
            **cs.WITNESS,
            "started_at": started,
            "volume_ml": "18.00",
            "premedication": "paracetamol 500 mg",
            "vital_signs": "BP 120/80, HR 72, T 36.8",
            "immediate_reactions": "none",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    infusion = resp.get_json()
    assert (infusion["din"], infusion["patient"], infusion["witness"]) == (din, cs.READY, "nurse2")
    assert infusion["operator"] == "nurse" and infusion["scan_id"] == typed["scan_id"]
    assert infusion["witness_meaning"] == "witnessed" and infusion["witness_signed_at"]
    # The demo's 70 kg × 1×10^6/kg from the whole 72×10^6 bag: 1,028,571 cells/kg achieved.
    assert (infusion["volume_ml"], infusion["achieved_cells"], infusion["discarded_ml"]) == (
        "18.00",
        72_000_000,
        "0.00",
    )
    assert infusion["achieved_per_kg"] == 1_028_571
    listed = nurse.get("/infusions").get_json()["items"]
    assert [i["din"] for i in listed] == [din]
    # The same unit never goes in twice.
    no_go(check(nurse, cs.READY, cs.label(demo_app, din)), "infused already")


def test_an_infusion_needs_a_go_check_and_another_person_as_witness(demo_app, nurse) -> None:
    din, check_char = cs.ready_din(demo_app)
    refused = check(nurse, cs.READY, din + check_char)  # thaw not recorded: NO-GO
    body = {
        "scan_id": refused["scan_id"],
        **cs.WITNESS,
        "started_at": cs.now().isoformat(),
        "volume_ml": "18.00",
    }
    before = row_counts(demo_app)
    assert_problem(nurse.post("/infusions", body), 409, "scan")
    cs.thaw(demo_app, din)
    go = check(nurse, cs.READY, din + check_char)
    before = row_counts(demo_app)
    assert_problem(
        nurse.post("/infusions", {**body, "scan_id": go["scan_id"], "witness": "nurse"}),
        422,
        "witness",
    )
    assert_problem(
        nurse.post("/infusions", {**body, "scan_id": go["scan_id"], "witness": "qa"}),
        422,
        "witness",
    )
    assert_problem(
        nurse.post("/infusions", {**body, "scan_id": go["scan_id"], "witness": "nobody"}),
        422,
        "witness",
    )
    assert_problem(
        nurse.post(
            "/infusions", {**body, "scan_id": go["scan_id"], "started_at": "2026-01-01T10:00"}
        ),
        422,
        "started_at",
    )
    for missing in ("witness_password", "witness_meaning", "volume_ml"):
        unsigned = {k: v for k, v in body.items() if k != missing}
        assert_problem(
            nurse.post("/infusions", {**unsigned, "scan_id": go["scan_id"]}), 422, missing
        )
    assert_problem(
        nurse.post("/infusions", {**body, "scan_id": go["scan_id"], "witness_meaning": "approved"}),
        422,
        "witness_meaning",
    )
    assert row_counts(demo_app) == before


def forged(app, din: str) -> str:
    other = make_token(Ed25519PrivateKey.generate(), "U", din)
    return f"{app.config['LOTRACK_PUBLIC_BASE_URL']}/v/{other}"


def altered(app, din: str) -> str:
    text = cs.label(app, din)
    flip = "A" if text[-5] != "A" else "B"
    return text[:-5] + flip + text[-4:]


LABEL_CASES = {
    "label signed with another key": (forged, "wedge", "not genuine"),
    "label token altered": (altered, "wedge", "not genuine"),
    "typed DIN without check character": (lambda app, din: din, "typed", "check character"),
    "DIN with a wrong check character": (
        lambda app, din: din + ("X" if cs.ready_din(app)[1] != "X" else "Y"),
        "wedge",
        "check character does not match — re-scan or re-type",
    ),
    "not a label at all": (lambda app, din: "hello nurse", "wedge", "not genuine"),
}


@pytest.mark.parametrize("case", list(LABEL_CASES))
def test_a_label_that_does_not_prove_itself_is_no_go(demo_app, nurse, ready, case) -> None:
    make, method, words = LABEL_CASES[case]
    body = check(nurse, cs.READY, make(demo_app, ready[0]), method=method)
    no_go(body, words)
    assert body["din"] is None
    assert ("not genuine" in body["reasons"][0]) == (words == "not genuine")


def test_a_unit_in_transit_or_not_received_here_is_no_go(demo_app, nurse) -> None:
    wristband = cs.enrol(demo_app, "SUBJ-010")
    din, check_char = cs.free_din(demo_app)
    cs.allocate(demo_app, wristband, din)
    cs.ship(demo_app, din, received=None)
    no_go(check(nurse, wristband, din + check_char), "still in transit")
    other = cs.enrol(demo_app, "SUBJ-011")
    din2, check2 = cs.free_din(demo_app, index=1)
    cs.allocate(demo_app, other, din2)
    cs.ship(demo_app, din2, received=False)  # reported missing at receipt
    no_go(check(nurse, other, din2 + check2), "has not been received at this site")


def test_a_unit_allocated_to_another_patient_is_no_go(demo_app, nurse, ready) -> None:
    other = cs.enrol(demo_app, "SUBJ-010")
    body = check(nurse, other, cs.label(demo_app, ready[0]))
    no_go(body, "allocated to another patient")


def test_an_unconsented_or_ineligible_patient_is_no_go(demo_app, nurse, ready) -> None:
    no_go(check(nurse, cs.NOT_ASSESSED, cs.label(demo_app, ready[0])), "consent is not recorded")
    with cs.db(demo_app) as s:
        p = clinical.get_patient(s, user(s, "nurse"), cs.READY)
        clinical.assess_eligibility(s, user(s, "doctor"), p, {**cs.ALL_GOOD, "pregnancy": True})
        s.commit()
    no_go(check(nurse, cs.READY, cs.label(demo_app, ready[0])), "not eligible", "Pregnancy")


def test_a_recalled_lot_is_no_go(demo_app, nurse, ready) -> None:
    cs.recall(demo_app)
    no_go(check(nurse, cs.READY, cs.label(demo_app, ready[0])), "RECALLED")


def test_an_expired_unit_is_no_go(demo_app, nurse, ready) -> None:
    # Time passes: the lot's expiry date is now behind us (no service moves an expiry date).
    with cs.db(demo_app) as s:
        s.execute(
            update(Lot)
            .where(Lot.lot_number == cs.DEMO_LOT)
            .values(expires_on=cs.now().date() - dt.timedelta(days=1))
        )
        s.commit()
    no_go(check(nurse, cs.READY, cs.label(demo_app, ready[0])), "expired at the end of")


def test_a_unit_thawed_too_long_ago_is_no_go(demo_app, nurse) -> None:
    din, _ = cs.ready_din(demo_app)
    cs.thaw(demo_app, din, minutes_ago=61)  # the release spec's post-thaw window is 60 minutes
    no_go(check(nurse, cs.READY, cs.label(demo_app, din)), "within 60 minutes of thawing")


def test_a_dose_the_units_cannot_give_is_no_go_and_one_below_a_bag_is_drawn(
    demo_app, nurse, ready
) -> None:
    # The allocation service refuses such units; the bedside must refuse them even so (a
    # prescription changed after allocation): 72×10^6 cells are 28 % short of 100×10^6.
    with cs.db(demo_app) as s:
        s.execute(update(Prescription).values(cells_needed=100_000_000))
        s.commit()
    no_go(check(nurse, cs.READY, cs.label(demo_app, ready[0])), "below the prescribed 100,000,000")
    # 60×10^6 from the 72×10^6 bag of 18 mL (4×10^6/mL): the whole bag is +20 %; 15.0 mL drawn.
    with cs.db(demo_app) as s:
        s.execute(update(Prescription).values(cells_needed=60_000_000))
        s.commit()
    go = check(nurse, cs.READY, cs.label(demo_app, ready[0]))
    assert go["go"] is True, go
    assert go["draw"] == {
        "din": ready[0],
        "volume_ml": "15.0",
        "whole": False,
        "cells": 60_000_000,
        "discard_ml": "3.00",
        "given": False,
    }


def test_an_unknown_patient_or_unit_is_no_go(demo_app, nurse, ready) -> None:
    no_go(check(nurse, "SZ-GIMI/SUBJ-999", cs.label(demo_app, ready[0])), "wristband")
    with cs.db(demo_app) as s:
        unknown = lots.next_din(s, "A9999", 2099)
    no_go(check(nurse, cs.READY, cs.label(demo_app, unknown)), "No unit")


def test_every_attempt_is_recorded_go_or_no_go(demo_app, nurse) -> None:
    din, check_char = cs.ready_din(demo_app)
    before = cs.scans(demo_app)
    answers = [check(nurse, cs.READY, din + check_char)["go"]]  # not thawed
    answers.append(check(nurse, cs.READY, "forged")["go"])
    cs.thaw(demo_app, din)
    answers.append(check(nurse, cs.READY, din + check_char)["go"])
    assert answers == [False, False, True]
    assert cs.scans(demo_app) == before + 3
    # Bad input is not an attempt: refused naming the field, nothing recorded.
    assert_problem(nurse.post("/bedside/check", {"patient": cs.READY}), 422, "scan")
    assert_problem(
        nurse.post("/bedside/check", {"patient": cs.READY, "scan": din, "method": "x"}),
        422,
        "method",
    )
    assert cs.scans(demo_app) == before + 3


def test_only_site_staff_check_at_the_bedside(as_user, demo_app) -> None:
    din, _ = cs.ready_din(demo_app)
    for role_user in ("tech", "qa", "md", "admin"):
        assert_problem(
            as_user(role_user).post("/bedside/check", {"patient": cs.READY, "scan": din}), 403
        )
    assert_problem(as_user(None).post("/bedside/check", {"patient": cs.READY, "scan": din}), 401)
    assert cs.scans(demo_app) == 0


def test_an_exceptional_release_needs_an_explicit_acknowledgement(demo_app, nurse) -> None:
    wristband, din, check_char = cs.exceptional_unit(demo_app)
    first = check(nurse, wristband, din + check_char)
    no_go(first, "released by exception")
    assert first["needs_acknowledgement"] is True
    second = check(nurse, wristband, din + check_char, acknowledge_exceptional=True)
    assert second["go"] is True and second["needs_acknowledgement"] is False


def test_a_thaw_is_recorded_once_for_a_unit_received_here(demo_app, nurse) -> None:
    din, check_char = cs.ready_din(demo_app)
    at = cs.now().isoformat()
    before = row_counts(demo_app)
    assert_problem(nurse.post("/thaws", {"din": "A999999999999", "thawed_at": at}), 422, "din")
    assert_problem(
        nurse.post("/thaws", {"din": cs.free_din(demo_app)[0], "thawed_at": at}), 409, "din"
    )
    future = (cs.now() + dt.timedelta(hours=1)).isoformat()
    assert_problem(nurse.post("/thaws", {"din": din, "thawed_at": future}), 422, "thawed_at")
    assert_problem(
        nurse.post("/thaws", {"din": din, "thawed_at": "2026-01-01T10:00"}), 422, "thawed_at"
    )
    assert row_counts(demo_app) == before
    done = nurse.post("/thaws", {"din": din + check_char, "thawed_at": at})
    assert done.status_code == 201 and done.get_json()["din"] == din
    assert_problem(nurse.post("/thaws", {"din": din, "thawed_at": at}), 409, "din")
