"""Lookback and what waits on a decision, in the browser: QA's home page is the "needs decision"
queue; the review of a held lot says why it is held and what lifting the hold needs; the hold and
recall pages show a lookback with its trigger; an exceptional release names its patient record
and what is missing before allocation; the treating physician accepts it, signing, on the
patient's page."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lotrack.models import Containment
from lotrack.services import donor, exceptional
from lotrack.services import lot as lots
from lotrack.services.release import SignIn
from tests import clinical_setup as cs
from tests.conftest import PASSWORDS, csrf_token, login, user
from tests.web.test_quality_pages import db, text
from tests.web.test_release_flows import signing
from tests.web.test_release_pages import sign

DEMO_LOT = "CFM-2025-0001"
QUARANTINED = "CFM-2025-0002"
ACCEPTED = "exceptional release accepted (treating physician)"
PATIENT_PAGE = f"/patients/{cs.READY}"


def held_twice(app: Flask, client: FlaskClient) -> str:
    """QA holds the quarantined lot on its review page; then the donor of the released lot is
    found ineligible (a lookback holds it). The lookback's number."""
    review = f"/lots/{QUARANTINED}/release"
    resp = client.post(
        f"/lots/{QUARANTINED}/contain/hold",
        data={
            **signing("qa", "placed on hold", "freezer alarm"),
            "csrf_token": csrf_token(client, review),
        },
    )
    assert resp.status_code == 302
    with db(app) as s:
        donor.determine_eligibility(
            s, user(s, "qa"), donor.get_donor(s, "FD-0001"), determination="ineligible",
            responsible_person="Demo Medical Director", reason="look-back: HBV reactive",
        )  # fmt: skip
        s.commit()
        number = s.scalars(select(Containment.number).where(Containment.kind == "lookback")).one()
    return number


def test_qa_home_page_is_the_needs_decision_queue(client: FlaskClient, demo_app: Flask) -> None:
    login(client, "qa")
    page = text(client.get("/"))
    assert 'data-count="0"' in page and "No lot is waiting on a decision" in page
    number = held_twice(demo_app, client)
    page = text(client.get("/"))
    assert "Needs decision" in page and 'data-count="2"' in page
    rows = page.split('class="queue"', 1)[1].split("</table>", 1)[0].split("<tr>")[2:]
    assert [re.search(r"CFM-\d{4}-\d{4}", r).group(0) for r in rows] == [QUARANTINED, DEMO_LOT]
    held, looked_back = rows
    assert "HLD-" in held and "HOLD" in held and "freezer alarm" in held
    assert "signed by Demo QA Reviewer" in held
    assert f'href="/lots/{DEMO_LOT}/release"' in looked_back
    assert f'href="/containments/{number}"' in looked_back and "LOOKBACK" in looked_back
    assert '<a href="/donors/FD-0001">donor FD-0001</a>' in looked_back
    assert "Donor FD-0001 is ineligible." in looked_back
    assert "on Demo QA Reviewer's write (qa)" in looked_back
    tech = demo_app.test_client()
    login(tech, "tech")
    home = tech.get("/")  # a technician's home: the results waiting on the bench
    assert home.status_code == 200 and 'data-kind="results_to_enter"' in text(home)


def test_the_review_of_a_held_lot_says_why_and_what_lifting_the_hold_needs(
    client: FlaskClient, demo_app: Flask
) -> None:
    login(client, "qa")
    number = held_twice(demo_app, client)
    page = text(client.get(f"/lots/{DEMO_LOT}/release"))
    why = page.split('aria-label="Why it is held"', 1)[1].split("</section>", 1)[0]
    assert number in why and "LOOKBACK" in why and "donor FD-0001" in why
    assert "Donor FD-0001 determined ineligible" in why
    assert "the lot must be releasable again, with no blocker" in why
    form = page.split('id="sign-unhold"', 1)[1].split("</details>", 1)[0]
    assert "a new decision on the dossier as it stands now" in form.lower()
    assert "Lifting the hold is refused while this remains" in form
    assert "<li>Donor FD-0001 is ineligible.</li>" in form

    resp = sign(client, DEMO_LOT, "unhold", "qa", reason="checked")
    assert resp.status_code == 409 and "Donor FD-0001 is ineligible." in text(resp)
    with db(demo_app) as s:
        assert lots.get_lot(s, DEMO_LOT).state == "ON_HOLD"
    quarantined = text(client.get(f"/lots/{QUARANTINED}/release"))
    assert "it goes back to quarantine" in quarantined and "freezer alarm" in quarantined
    assert "unhold-blockers" not in quarantined  # back to quarantine: nothing required


def test_the_hold_and_recall_pages_show_a_lookback_with_its_trigger(
    client: FlaskClient, demo_app: Flask
) -> None:
    login(client, "qa")
    number = held_twice(demo_app, client)
    listing = text(client.get("/containments"))
    row = next(r for r in listing.split("<tr") if number in r)
    assert "LOOKBACK" in row and "triggered by" in row and "donor FD-0001" in row
    assert "on Demo QA Reviewer's write" in row
    page = text(client.get(f"/containments/{number}"))
    assert f"Lookback hold {number}" in page and "Triggered by" in page
    assert '<a href="/donors/FD-0001">donor FD-0001</a>' in page
    assert "lift the hold (a new signed decision" in " ".join(page.split())
    tech = demo_app.test_client()
    login(tech, "tech")  # no audit trail for a technician: the donor's page is the link
    assert '<a href="/donors/FD-0001">' in text(tech.get(f"/containments/{number}"))


def approved(app: Flask, lot_number: str = "CFM-2025-0003") -> str:
    """An exceptional release for SZ-GIMI/SUBJ-001 signed by QA and the medical director."""
    with db(app) as s:
        qa, md = user(s, "qa"), user(s, "md")
        er = exceptional.request_release(
            s, qa, lots.get_lot(s, lot_number), physician="Dr. Li", patient=cs.READY,
            request="no alternative", requested_on=cs.now().date(), risk_assessment="acceptable",
        )  # fmt: skip
        s.flush()
        for who, meaning in (
            (qa, "exceptional release approved (QA)"),
            (md, "exceptional release approved (medical director)"),
        ):
            sign_in = SignIn(who.username, PASSWORDS[who.username], meaning, "urgent")
            exceptional.sign_release(s, who, er, sign_in, cs.LOCKOUT)
        s.commit()
        return er.number


def accept(client: FlaskClient, number: str, password: str | None = None, **extra: str):
    data = {
        "username": "nurse",
        "password": password if password is not None else PASSWORDS["nurse"],
        "meaning": ACCEPTED,
        "reason": "for my patient",
        **extra,
        "csrf_token": csrf_token(client, PATIENT_PAGE),
    }
    return client.post(f"{PATIENT_PAGE}/exceptional/{number}/accept", data=data)


def test_the_physician_accepts_on_the_patients_page_and_the_request_shows_it(
    client: FlaskClient, demo_app: Flask
) -> None:
    number = approved(demo_app)
    qa = demo_app.test_client()
    login(qa, "qa")
    page = text(qa.get(f"/exceptional/{number}"))
    assert f'<a href="/patients/{cs.READY}">{cs.READY}</a>' in page
    tech = demo_app.test_client()
    login(tech, "tech")  # may not see patients: the wristband, not a link
    shown = text(tech.get(f"/exceptional/{number}"))
    assert cs.READY in shown and f'href="/patients/{cs.READY}"' not in shown
    before = page.split('id="before-allocation"', 1)[1].split("</section>", 1)[0]
    assert f"the treating physician has not accepted {number}" in before
    assert f"the sponsor's notification of {number} is not logged" in before

    login(client, "nurse")
    page = text(client.get(PATIENT_PAGE))
    section = page.split('id="exceptional"', 1)[1].split("</section>", 1)[0]
    assert number in section and "awaiting the treating physician's acceptance" in section
    assert f'<option value="{ACCEPTED}" selected>' in section

    resp = accept(client, number, password="not-my-password")
    page = text(resp)
    assert resp.status_code == 403 and "<b>password</b>: wrong password" in page
    assert f'id="accept-{number}" open' in page and "not-my-password" not in page
    resp = accept(client, number, meaning="reviewed")
    assert resp.status_code == 409 and "<b>meaning</b>" in text(resp)
    with db(demo_app) as s:
        assert user(s, "nurse").failed_signings == 1  # the wrong password counts
        assert exceptional.acceptance_of(s, exceptional.get_request(s, number)) is None

    resp = accept(client, number)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#exceptional")
    section = text(client.get(PATIENT_PAGE)).split('id="exceptional"', 1)[1]
    section = section.split("</section>", 1)[0]
    assert "accepted" in section and "Demo Site Nurse (nurse)" in section
    assert f"/exceptional/{number}/accept" not in section  # no form once accepted
    page = text(qa.get(f"/exceptional/{number}"))
    assert "accepted by Demo Site Nurse (nurse)" in page
    before = page.split('id="before-allocation"', 1)[1].split("</section>", 1)[0]
    assert "has not accepted" not in before and "is not logged" in before
    assert f"/exceptional/{number}/accept" not in text(qa.get(PATIENT_PAGE))  # QA reads only


def test_another_site_or_another_patient_cannot_accept(
    client: FlaskClient, demo_app: Flask
) -> None:
    number = approved(demo_app)
    cs.site_user(demo_app)
    login(client, "nurse-bj", "demo-nurse-bj-password")
    token = csrf_token(client, "/patients")
    resp = client.post(
        f"{PATIENT_PAGE}/exceptional/{number}/accept",
        data={"username": "nurse-bj", "password": "demo-nurse-bj-password", "meaning": ACCEPTED,
              "csrf_token": token},
    )  # fmt: skip
    assert resp.status_code == 404  # another site's patient is not found
    nurse = demo_app.test_client()
    login(nurse, "nurse")
    resp = nurse.post(
        f"/patients/{cs.NOT_ASSESSED}/exceptional/{number}/accept",
        data={"username": "nurse", "password": PASSWORDS["nurse"], "meaning": ACCEPTED,
              "csrf_token": csrf_token(nurse, PATIENT_PAGE)},
    )  # fmt: skip
    assert resp.status_code == 404 and "not for this patient" in text(resp)
    with db(demo_app) as s:
        assert exceptional.acceptance_of(s, exceptional.get_request(s, number)) is None


def test_the_request_form_asks_for_the_patients_wristband(client: FlaskClient) -> None:
    login(client, "qa")
    review = "/lots/CFM-2025-0003/release"
    page = text(client.get(review))
    assert "Patient's wristband (SITE/SUBJECT)" in page
    resp = client.post(
        "/lots/CFM-2025-0003/exceptional",
        data={"physician": "Dr. Li", "patient": "SUBJ-001", "request": "urgent",
              "requested_on": "2025-11-01", "risk_assessment": "acceptable",
              "csrf_token": csrf_token(client, review)},
    )  # fmt: skip
    page = text(resp)
    assert resp.status_code == 422
    assert "<b>patient</b>: no patient with this wristband (SITE/SUBJECT)" in page
    assert 'value="SUBJ-001"' in page  # kept for correction
