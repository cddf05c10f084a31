"""Adverse events through the pages, as an investigator at the site would use them: the term
typed against the whole dictionary, a measured grade proposed then confirmed, the event's page
with its history, a follow-up to resolution, the reports to the sponsor and the regulator, the
overdue list on the home pages, the dictionary search, and the report's counts linking to the
events."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from lotrack.models import AdverseEvent, AdverseEventUpdate
from tests import clinical_setup as cs
from tests.conftest import login
from tests.web.test_clinical_pages import count, post, text

PAGE = f"/patients/{cs.READY}"


def _event_id(app) -> int:
    with cs.db(app) as s:
        return s.scalars(select(AdverseEvent.id).order_by(AdverseEvent.id.desc())).first()


def test_the_form_offers_every_term_with_its_soc_and_proposes_a_measured_grade(demo_app, client):
    login(client, "doctor")
    page = text(client.get(PAGE))
    options = re.findall(r'<option value="([^"]+)" data-grades="([^"]+)"', page)
    assert len(options) >= 90
    assert ("Febrile neutropenia", "3,4,5") in options and ("Sudden death NOS", "5") in options
    assert "Infections and infestations - Other, specify" in dict(options)
    assert "Investigations" in page  # each option is labelled with its SOC
    today = cs.today().isoformat()
    form = {
        "term": "Platelet count decreased",
        "measurement": "40",
        "reference": "150",
        "onset_on": today,
        "aware_on": today,
        "attribution": "possible",
        "outcome": "not_recovered",
        "action": "propose",
    }
    before = count(demo_app, AdverseEvent)
    proposed = post(client, f"{PAGE}/adverse-events", form, PAGE)
    assert proposed.status_code == 200 and count(demo_app, AdverseEvent) == before
    shown = text(proposed)
    assert "Proposed: grade 3." in shown and '<option value="3" selected>' in shown
    # The investigator overrides without a reason: refused, naming the field, nothing written.
    del form["action"]
    refused = post(client, f"{PAGE}/adverse-events", {**form, "grade": "4"}, PAGE)
    assert refused.status_code == 422 and "grade 3" in text(refused)
    assert count(demo_app, AdverseEvent) == before
    done = post(client, f"{PAGE}/adverse-events", {**form, "grade": "3"}, PAGE)
    assert done.status_code == 302 and count(demo_app, AdverseEvent) == before + 1
    event = _event_id(demo_app)
    page = text(client.get(f"{PAGE}/adverse-events/{event}"))
    assert "proposed grade 3" in page and "Investigations" in page


def test_an_event_is_followed_to_resolution_on_its_page(demo_app, client):
    cs.adverse_event(demo_app, cs.READY, grade=3, attribution="possible")  # serious
    event = _event_id(demo_app)
    login(client, "doctor")
    path = f"{PAGE}/adverse-events/{event}"
    today = cs.today().isoformat()
    refused = post(
        client, f"{path}/follow-ups", {"aware_on": today, "grade": "4"}, path
    )  # a grade change without a reason
    assert refused.status_code == 422 and count(demo_app, AdverseEventUpdate) == 0
    ok = post(
        client,
        f"{path}/follow-ups",
        {
            "aware_on": today,
            "outcome": "recovered",
            "resolved_on": today,
            "treatment": "antihistamines",
        },
        path,
    )
    assert ok.status_code == 302
    page = text(client.get(path))
    assert "antihistamines" in page and f"resolved {today}" in page
    assert "Sent to" in page  # the site may record its notification to the sponsor
    sent = post(
        client,
        f"{path}/reports",
        {
            "kind": "sponsor",
            "reported_on": today,
            "reported_by": "Dr. Li",
            "recipient": "sponsor safety desk",
            "reference": "SAE-9",
        },
        path,
    )
    assert sent.status_code == 302 and "SAE-9" in text(client.get(path))


def test_overdue_reports_show_on_the_site_and_qa_home_pages(demo_app, client):
    with cs.db(demo_app) as s:
        from lotrack.services import adverse
        from tests.conftest import user

        nurse = user(s, "doctor")
        long_ago = cs.today() - dt.timedelta(days=20)
        event = adverse.record_adverse_event(
            s,
            nurse,
            cs.clinical.get_patient(s, nurse, cs.READY),
            term="Anaphylaxis",
            grade=4,
            onset_on=long_ago,
            attribution="definite",
            seriousness=["life_threatening"],
            outcome="recovered",
        )
        s.commit()
        event_id = event.id
    for who in ("doctor", "qa"):
        login(client, who)
        home = text(client.get("/"))
        assert "Overdue adverse-event reports" in home and f"AE {event_id}" in home
        assert "expedited report to the regulator (SUSAR)" in home
        client.post("/logout", data={})
    login(client, "doctor")
    assert f"AE {event_id}" in text(client.get("/adverse-events/overdue"))


def test_the_dictionary_is_searched_by_term_and_soc(client):
    login(client, "doctor")
    found = text(client.get("/ctcae?q=neutro&soc=Investigations"))
    assert "Neutrophil count decreased" in found and "Febrile neutropenia" not in found
    assert "&lt;1000 - 500/mm3" in client.get("/ctcae?q=neutro").get_data(as_text=True)
    everything = text(client.get("/ctcae?soc=Hepatobiliary+disorders"))
    assert "Hepatobiliary disorders - Other, specify" in everything


def test_the_reports_counts_link_to_their_events(demo_app, client):
    wristband = cs.enrol(demo_app, "SUBJ-AE1")
    din, _ = cs.free_din(demo_app)
    cs.allocate(demo_app, wristband, din)
    cs.ship(demo_app, din)
    cs.infuse(demo_app, wristband, din)
    cs.adverse_event(demo_app, wristband, grade=2, attribution="definite")
    event = _event_id(demo_app)
    login(client, "qa")
    page = client.get("/reports").get_data(as_text=True)
    assert "General disorders and administration site conditions" in page
    link = f"/adverse-events?event={event}"
    assert link in page
    listed = text(client.get(link))
    assert f"AE {event}" in listed and "Infusion related reaction" in listed


def test_enter_without_a_measurement_records_the_form_as_typed(demo_app, client):
    """Enter in a field presses the form's first button (Propose): with no measurement there is
    nothing to propose, so the event is recorded as typed, or refused naming the field."""
    login(client, "doctor")
    today = cs.today().isoformat()
    form = {
        "term": "Nausea",
        "onset_on": today,
        "attribution": "unlikely",
        "outcome": "recovering",
        "action": "propose",
    }
    before = count(demo_app, AdverseEvent)
    refused = post(client, f"{PAGE}/adverse-events", form, PAGE)
    assert refused.status_code == 422 and count(demo_app, AdverseEvent) == before
    done = post(client, f"{PAGE}/adverse-events", {**form, "grade": "1"}, PAGE)
    assert done.status_code == 302 and count(demo_app, AdverseEvent) == before + 1
