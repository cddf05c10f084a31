"""The worklist counts what waits on each role, at the user's own site for site staff, and each
count moves when the work is done (services/worklist*.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Flask

from lotrack.services import clinical, deviation, exceptional, result, seed_worklist, worklist
from lotrack.services import coa as certificates
from lotrack.services import lot as lots
from lotrack.services.documents import Printing
from tests import clinical_setup as cs
from tests.conftest import PASSWORDS, lock_out, user
from tests.release_setup import make_lot


def counts(app: Flask, username: str, visits: worklist.VisitRules | None = None) -> dict[str, int]:
    with cs.db(app) as s:
        work = worklist.worklist(s, user(s, username), visits)
        return {i.kind: i.count for i in work.items}


def entries(app: Flask, username: str, kind: str) -> list[tuple[str, str]]:
    with cs.db(app) as s:
        work = worklist.worklist(s, user(s, username))
        (item,) = [i for i in work.items if i.kind == kind]
        return [(e.label, str(e.detail)) for e in item.entries]


def test_every_demo_user_has_work_waiting_named_by_its_records(demo_app: Flask) -> None:
    app = demo_app
    tech = counts(app, "tech")
    assert (tech["results_to_enter"], tech["results_to_verify"]) == (2, 0)  # none by another
    assert entries(app, "tech", "results_to_enter") == [
        ("CFM-2025-0002", "pending: 1"),  # the sterility incubation
        ("CFM-2025-0004", "missing: 16"),
    ]
    # tech's unverified results wait on the second technician (four eyes).
    assert counts(app, "tech2")["results_to_verify"] == 2
    qa = counts(app, "qa")
    assert (qa["open_investigations"], qa["certificates_to_issue"], qa["needs_decision"]) == (
        1,
        1,
        0,
    )
    assert entries(app, "qa", "open_investigations")[0][1] == "lot CFM-2025-0003"
    md = counts(app, "md")
    assert md["serious_events"] == 1 and md["exceptional_to_sign"] == 0
    (event,) = entries(app, "md", "serious_events")
    assert event[0].startswith("SZ-GIMI/SUBJ-001 · AE ") and event[0].endswith("Fever")
    assert event[1].startswith("report due ")
    for nurse in ("nurse", "nurse2"):
        assert counts(app, nurse)["infusions_due"] == 1
        assert counts(app, nurse)["events_to_follow_up"] == 1
    assert counts(app, "doctor")["eligibility_to_answer"] == 1
    assert entries(app, "doctor-cip", "eligibility_to_answer")[0][0] == "BJ-CIP/SUBJ-101"
    assert entries(app, "doctor-ach", "eligibility_to_answer")[0][0] == "BJ-ACH/SUBJ-201"
    assert entries(app, "admin", "accounts_awaiting_approval") == [
        (seed_worklist.PENDING_QA, "role qa")
    ]
    with cs.db(app) as s:
        for username, *_rest in PASSWORDS.items():
            assert worklist.worklist(s, user(s, username)).total >= 1, username


def test_results_wait_for_another_person_to_verify_them(demo_app: Flask) -> None:
    app = demo_app
    before = counts(app, "tech2")["results_to_verify"]
    with cs.db(app) as s:
        tech = user(s, "tech")
        fourth = lots.get_lot(s, "CFM-2025-0004")
        r = result.record_result(
            s, tech, fourth, test="CD73", value="99.0", unit="%", performed_on=fourth.harvested_on
        )
        s.commit()
        result_id = r.id
    assert counts(app, "tech2")["results_to_verify"] == before + 1
    assert counts(app, "tech")["results_to_verify"] == 0  # never one's own
    assert ("CFM-2025-0004", "missing: 15") in entries(app, "tech", "results_to_enter")
    with cs.db(app) as s:
        result.verify_result(s, user(s, "tech2"), s.get(result.Result, result_id))
        s.commit()
    assert counts(app, "tech2")["results_to_verify"] == before


def test_qa_counts_lots_ready_for_review_deviations_and_certificates(demo_app: Flask) -> None:
    app = demo_app
    before = counts(app, "qa")
    ready = make_lot(app)  # every result in and verified
    waiting = make_lot(app, unverified="VIAB")
    after = counts(app, "qa")
    assert after["lots_awaiting_review"] == before["lots_awaiting_review"] + 1
    assert (ready, "results: 19") in entries(app, "qa", "lots_awaiting_review")
    assert waiting not in {label for label, _d in entries(app, "qa", "lots_awaiting_review")}
    with cs.db(app) as s:
        deviation.open_deviation(
            s, user(s, "tech"), lot=lots.get_lot(s, ready), description="freezer door open 2 min"
        )
        s.commit()
    assert counts(app, "qa")["open_deviations"] == before["open_deviations"] + 1
    with cs.db(app) as s:
        qa = user(s, "qa")
        certificates.issue_certificate(
            s,
            qa,
            lots.get_lot(s, "CFM-2025-0001"),
            Printing(app.extensions["lotrack_signing_key"], "x"),
        )
        s.commit()
    assert counts(app, "qa")["certificates_to_issue"] == before["certificates_to_issue"] - 1


def test_a_lookback_hold_waits_on_qa_and_names_a_voided_release(demo_app: Flask) -> None:
    app = demo_app
    with cs.db(app) as s:
        released = lots.get_lot(s, "CFM-2025-0001")
        viab = next(
            r
            for r in result.results_of(s, released)
            if r.analyte == "VIAB" and r.invalidated_at is None
        )
        result.invalidate_result(s, user(s, "tech"), viab, "pipetting error found on review")
        s.commit()
    qa = counts(app, "qa")
    assert (qa["needs_decision"], qa["lookback_holds"], qa["signatures_voided"]) == (1, 1, 1)
    (held,) = entries(app, "qa", "lookback_holds")
    assert held[0] == "CFM-2025-0001" and held[1].startswith("LBK-")


def test_site_staff_count_their_own_site_only(demo_app: Flask) -> None:
    app = demo_app
    cs.site_user(app)  # nurse-bj at BJ-CIP
    bj_din, _check = cs.free_din(app, "CFM-2025-0001", 0)
    sz_din, _check = cs.free_din(app, "CFM-2025-0001", 1)
    cs.ship(app, bj_din, "BJ-CIP", received=None)
    assert counts(app, "nurse-bj")["shipments_to_receive"] == 1
    assert counts(app, "nurse")["shipments_to_receive"] == 0
    number = cs.ship(app, sz_din, received=None)
    assert entries(app, "nurse", "shipments_to_receive")[0][0] == number
    with cs.db(app) as s:
        clinical.register_patient(
            s, user(s, "nurse-bj"), subject_code="SUBJ-102", weight_kg=Decimal("40"),
            indication="acute_gvhd", cohort="1e6/kg", age_band="12-17y", sex="male",
        )  # fmt: skip
        s.commit()
    assert counts(app, "doctor-cip")["eligibility_to_answer"] == 2
    assert counts(app, "doctor")["eligibility_to_answer"] == 1  # SZ-GIMI/SUBJ-002 only
    assert counts(app, "doctor-ach")["eligibility_to_answer"] == 1


def test_an_eligible_patient_waits_for_a_prescription_then_an_infusion(demo_app: Flask) -> None:
    app = demo_app
    wristband = cs.enrol(app, "SUBJ-050", consent=False)
    with cs.db(app) as s:
        doctor, nurse = user(s, "doctor"), user(s, "nurse")
        p = clinical.get_patient(s, doctor, wristband)
        clinical.record_consent(s, nurse, p, cs.today() - dt.timedelta(days=1))
        clinical.assess_eligibility(s, doctor, p, cs.ALL_GOOD)
        s.commit()
    assert entries(app, "doctor", "prescriptions_to_write") == [
        (wristband, "eligible, no prescription")
    ]
    with cs.db(app) as s:
        doctor = user(s, "doctor")
        clinical.prescribe(
            s, doctor, clinical.get_patient(s, doctor, wristband), planned_on=cs.today()
        )
        s.commit()
    assert counts(app, "doctor")["prescriptions_to_write"] == 0
    assert counts(app, "nurse")["infusions_due"] == 2


def test_an_infusion_leaves_the_infusion_list_for_the_one_month_visit(demo_app: Flask) -> None:
    app = demo_app
    din, _check = cs.ready_din(app)
    cs.infuse(app, cs.READY, din)
    assert counts(app, "nurse")["infusions_due"] == 0
    # Day 30 ± 7: not yet; a protocol whose window opens on the day of the infusion: due now.
    assert counts(app, "doctor", worklist.VisitRules(30, 7))["visits_due"] == 0
    today = worklist.VisitRules(day=3, window=3)
    assert counts(app, "doctor", today)["visits_due"] == 1
    assert counts(app, "nurse", today)["visits_due"] == 1


def test_exceptional_releases_wait_on_the_medical_director_and_the_physician(
    demo_app: Flask,
) -> None:
    app = demo_app
    with cs.db(app) as s:
        qa = user(s, "qa")
        er = exceptional.request_release(
            s, qa, lots.get_lot(s, "CFM-2025-0002"), physician="Dr. Demo", patient=cs.READY,
            request="no alternative", requested_on=cs.now().date(), risk_assessment="sterility",
        )  # fmt: skip
        s.commit()
        number = er.number
    assert entries(app, "md", "exceptional_to_sign") == [
        (number, f"lot CFM-2025-0002 for {cs.READY}")
    ]
    assert counts(app, "nurse")["exceptional_to_accept"] == 1
    with cs.db(app) as s:
        md = user(s, "md")
        meaning = "exceptional release approved (medical director)"
        exceptional.sign_release(
            s, md, exceptional.get_request(s, number),
            cs.SignIn("md", PASSWORDS["md"], meaning, "urgent"), cs.LOCKOUT,
        )  # fmt: skip
        s.commit()
    assert counts(app, "md")["exceptional_to_sign"] == 0


def test_the_admin_sees_locked_accounts(demo_app: Flask) -> None:
    assert counts(demo_app, "admin")["locked_accounts"] == 0
    lock_out(demo_app, "tech2")
    assert entries(demo_app, "admin", "locked_accounts") == [("tech2", "login locked")]


def test_qa_keeps_the_needs_decision_queue_first(demo_app: Flask) -> None:
    with cs.db(demo_app) as s:
        kinds = [i.kind for i in worklist.worklist(s, user(s, "qa")).items]
    assert kinds[0] == "needs_decision"
