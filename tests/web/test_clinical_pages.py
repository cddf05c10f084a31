"""The clinical pages through the real forms, as a nurse on a tablet and a technician would use
them: the bedside check (NO-GO, thaw, GO, infusion), the patient page (checklist, consent,
prescription, adverse event, one-month visit), allocation and shipment, the reports and their
CSV; and a user of another site, who sees none of it."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from lotrack.models import AdverseEvent, Infusion, Shipment
from tests import clinical_setup as cs
from tests.api.test_bedside_photo import label_photo
from tests.conftest import PASSWORDS, csrf_token, login


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def post(client, path: str, data: dict, page: str = "/patients"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def local_now() -> str:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


def count(app, model) -> int:
    with cs.db(app) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_the_bedside_page_works_with_a_wedge_scanner_and_without_inline_script(client) -> None:
    login(client, "nurse")
    page = client.get("/bedside").get_data(as_text=True)
    wristband = re.search(r"<input name=\"patient\"[^>]*>", page).group(0)
    assert "autofocus" in wristband and "data-wedge" in wristband
    assert 'enctype="multipart/form-data"' in page and 'name="image"' in page
    # The camera appears only where bedside.js finds BarcodeDetector; no script is inline.
    assert re.findall(r"<button[^>]*data-camera-for[^>]*>", page)
    assert all(" hidden" in b for b in re.findall(r"<button[^>]*data-camera-for[^>]*>", page))
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts == [
        (' src="/static/js/busy.js" defer', ""),
        (' src="/static/js/tables.js" defer', ""),
        (' src="/static/js/bedside.js" defer', ""),
    ]
    assert not re.search(r"\son[a-z]+=", page)
    with client.get("/static/js/bedside.js") as script:
        assert script.status_code == 200 and "BarcodeDetector" in script.get_data(as_text=True)


def test_no_go_then_thaw_then_go_then_infusion_event_visit_and_report(demo_app, client) -> None:
    din, check_char = cs.ready_din(demo_app)
    login(client, "nurse")
    typed = {"patient": cs.READY, "scan": f"{din} {check_char}"}
    first = post(client, "/bedside/check", typed, "/bedside")
    assert first.status_code == 200
    assert "NO-GO" in text(first) and "The thaw time is not recorded" in text(first)
    thawed = post(client, "/bedside/thaw", {**typed, "din": din, "thawed_at": local_now()})
    assert thawed.status_code == 302 and "/bedside?" in thawed.location
    again = client.get(thawed.location)
    assert "Thaw recorded" in text(again) and f'value="{din} {check_char}"' in text(again)
    go = post(client, "/bedside/check", {**typed, "method": "typed"}, "/bedside")
    assert "✓</span> GO" in text(go) and "Record the infusion" in text(go)
    scan_id = re.search(r'name="scan_id" value="(\d+)"', text(go)).group(1)
    infusion = {"scan_id": scan_id, "started_at": local_now(), "volume_ml": "18.00"}
    # The witness signs (issue 13 item 5): username, password re-entered, meaning "witnessed".
    self_witness = {**cs.WITNESS, "witness": "nurse", "witness_password": PASSWORDS["nurse"]}
    refused = post(client, "/bedside/infusion", {**infusion, **self_witness}, "/bedside")
    assert refused.status_code == 422 and "another clinical user of your site" in text(refused)
    assert count(demo_app, Infusion) == 0
    done = post(client, "/bedside/infusion", {**infusion, **cs.WITNESS}, "/bedside")
    assert done.status_code == 302 and done.location.endswith("/patients/SZ-GIMI/SUBJ-001")
    patient_page = text(client.get(done.location))
    assert "Infusion recorded" in patient_page and "nurse2" in patient_page
    assert cs.scans(demo_app) == 2
    # The whole bag: 72×10^6 cells, 1,028,571 cells/kg at 70 kg, nothing discarded.
    assert "72,000,000" in patient_page and "1,028,571 cells/kg" in patient_page
    assert "0.00 mL discarded" in patient_page

    # The adverse event's attribution and the visit are the investigator's.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/patients")})
    login(client, "doctor")
    path = "/patients/SZ-GIMI/SUBJ-001/adverse-events"
    event = {"term": "Anaphylaxis", "onset_on": cs.today().isoformat()}
    event |= {"attribution": "definite", "outcome": "recovering", "description": "wheeze"}
    events = count(demo_app, AdverseEvent)  # the demo's fever (seed_worklist.py): unrelated
    bad = post(client, path, {**event, "grade": "1"})
    assert bad.status_code == 422 and "grade" in text(bad) and "one of 3, 4, 5" in text(bad)
    assert count(demo_app, AdverseEvent) == events
    data = {**event, "grade": "3", "csrf_token": csrf_token(client, "/patients")}
    saved = client.post(path, data={**data, "seriousness": ["hospitalization", "life_threatening"]})
    assert saved.status_code == 302
    shown = text(client.get(saved.location))
    due = (cs.today() + dt.timedelta(days=7)).isoformat()
    assert "Expedited report due " + due in shown and "hospitalization, life threatening" in shown
    # Infused today: the one-month window (day 30 ± 7) has not opened, so no visit yet.
    visit = post(
        client,
        "/patients/SZ-GIMI/SUBJ-001/follow-up",
        {"visit_on": cs.today().isoformat(), "response": "improved"},
    )
    assert visit.status_code == 422 and "day 30 ± 7 after the first infusion" in text(visit)

    report = text(client.get("/reports"))
    assert "Participants infused</dt><dd><strong>1</strong>" in report
    assert "Grade 3" in report and cs.DEMO_LOT in report
    download = client.get("/reports/primary-outcome.csv")
    assert download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert ["all", "", "1", "1"] in rows and ["worst related grade", "3", "", "1"] in rows


def test_a_photographed_label_is_checked_from_the_page(demo_app, client) -> None:
    din, _ = cs.ready_din(demo_app)
    png, _qr = label_photo(demo_app, din)
    cs.thaw(demo_app, din)
    login(client, "nurse")
    token = csrf_token(client, "/bedside")
    resp = client.post(
        "/bedside/check",
        data={"csrf_token": token, "patient": cs.READY, "image": (io.BytesIO(png), "label.png")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200 and "✓</span> GO" in text(resp) and "(photo)" in text(resp)
    bad = client.post(
        "/bedside/check",
        data={"csrf_token": token, "patient": cs.READY, "image": (io.BytesIO(b"no"), "x.png")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "Nothing was saved" in text(bad)
    empty = post(client, "/bedside/check", {"patient": cs.READY}, "/bedside")
    assert empty.status_code == 422 and "<b>scan</b>: required" in text(empty)
    assert cs.scans(demo_app) == 1


def test_a_new_patient_shows_every_remaining_problem_until_eligible(demo_app, client) -> None:
    login(client, "nurse")
    made = post(
        client,
        "/patients/new",
        {
            "subject_code": "SUBJ-030",
            "weight_kg": "62.50",
            "indication": "acute_gvhd",
            "cohort": "1e6/kg",
            "age_band": "2-11y",
            "sex": "male",
        },
    )
    assert made.status_code == 302
    path = made.location
    # The checklist and the prescription are the site investigator's.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/patients")})
    login(client, "doctor")
    page = text(client.get(path))
    assert "not to be dosed" in page and "informed consent not recorded" in page
    assert page.count("not assessed:") == 5
    partial = post(
        client,
        path + "/eligibility",
        {**{k: "yes" for k in ("consent", "no_alternative")}, "pregnancy": "yes"},
    )
    page = text(client.get(partial.location))
    assert "inclusion not met: Clinically documented immune-related disorder" in page
    assert "exclusion applies: Pregnancy" in page
    refused = post(
        client, path + "/prescriptions", {"dose_per_kg": "1000000", "planned_on": "2026-12-01"}
    )
    assert refused.status_code == 409 and "cannot be dosed" in text(refused)
    post(client, path + "/consent", {"consent_date": "2026-01-10"})
    answers = {k: ("yes" if v else "no") for k, v in cs.ALL_GOOD.items()}
    post(client, path + "/eligibility", answers)
    page = text(client.get(path))
    assert "may be dosed" in page and "not to be dosed" not in page
    rx = post(
        client, path + "/prescriptions", {"dose_per_kg": "1000000", "planned_on": "2026-12-01"}
    )
    assert "62,500,000 cells needed" in text(client.get(rx.location))


def test_a_technician_allocates_and_ships_and_the_site_receives(demo_app, client) -> None:
    wristband = cs.enrol(demo_app, "SUBJ-031")
    din, check_char = cs.free_din(demo_app)
    login(client, "tech")
    page = text(client.get("/allocations"))
    assert wristband in page and "70,000,000" in page
    rx_id = re.search(r"/prescriptions/(\d+)/allocate", page).group(1)
    wrong = post(
        client, f"/prescriptions/{rx_id}/allocate", {"units": "A999900000000"}, "/allocations"
    )
    assert wrong.status_code == 422 and "unknown DIN" in text(wrong)
    done = post(client, f"/prescriptions/{rx_id}/allocate", {"units": f"{din}"}, "/allocations")
    assert done.status_code == 302 and wristband in text(client.get(done.location))
    form = text(client.get("/shipments/new"))
    assert f'value="{din}"' in form and f"→ {wristband}" in form
    sent = post(client, "/shipments/new", {"site": "SZ-GIMI", "units": din}, "/shipments/new")
    assert sent.status_code == 302
    number = sent.location.rsplit("/", 1)[1]
    assert "in transit" in text(client.get(sent.location))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/shipments")})
    login(client, "nurse")
    receipt = {
        "condition": "intact",
        "temperature_record": "logger -170 °C",
        "extra": "A999925999999",
    }
    got = post(client, f"/shipments/{number}/receive", receipt, f"/shipments/{number}")
    assert got.status_code == 302
    shown = text(client.get(got.location))
    assert f"missing: {din}" in shown and "not on the shipment: A999925999999" in shown
    assert check_char


def test_the_allocation_queue_is_paged_and_a_refusal_shows_on_its_own_page(
    demo_app, client
) -> None:
    demo_app.config["LOTRACK_PAGE_SIZE"] = 1
    first, second = cs.enrol(demo_app, "SUBJ-041"), cs.enrol(demo_app, "SUBJ-042")
    login(client, "tech")
    one = text(client.get("/allocations"))
    assert "Page 1 of 2" in one and first in one and second not in one
    assert re.search(r'<a class="button" href="/allocations\?page=2">Next', one)
    two = text(client.get("/allocations?page=2"))
    assert second in two and first not in two and "Previous" in two
    rx_id = re.search(r"/prescriptions/(\d+)/allocate\?page=2", two).group(1)
    refuse = {"units": "A999900000000"}
    wrong = post(client, f"/prescriptions/{rx_id}/allocate?page=2", refuse, "/allocations")
    assert wrong.status_code == 422 and "unknown DIN" in text(wrong) and second in text(wrong)
    cs.allocate(demo_app, first, cs.free_din(demo_app)[0])
    left = text(client.get("/allocations"))  # the covered prescription leaves the queue
    assert second in left and first not in left and "Page 1 of" not in left


def test_a_user_of_another_site_sees_none_of_this_site(demo_app, client) -> None:
    cs.site_user(demo_app)
    with cs.db(demo_app) as s:
        number = s.scalars(select(Shipment.number)).one()  # the demo's, to SZ-GIMI
    login(client, "nurse-bj", "demo-nurse-bj-password")
    assert cs.READY not in text(client.get("/patients"))
    assert client.get(f"/patients/{cs.READY}").status_code == 404
    assert client.get(f"/shipments/{number}").status_code == 404
    assert "SHP-" not in text(client.get("/shipments"))
    refused = post(client, f"/patients/{cs.READY}/consent", {"consent_date": "2026-01-10"})
    assert refused.status_code == 404
    assert client.get("/reports/primary-outcome.csv").get_data(as_text=True).splitlines()[1:] == [
        "all,,0,0",
        "",
        "system organ class,worst grade,related events,event ids",
    ]
    assert client.get("/allocations").status_code == 403


def test_an_exceptional_release_is_acknowledged_on_the_page(demo_app, client) -> None:
    wristband, din, check_char = cs.exceptional_unit(demo_app)
    login(client, "nurse")
    first = post(
        client, "/bedside/check", {"patient": wristband, "scan": din + check_char}, "/bedside"
    )
    page = text(first)
    assert "NO-GO" in page and "I acknowledge the exceptional release" in page
    acknowledged = {
        "patient": wristband,
        "scan": din + check_char,
        "acknowledge_exceptional": "yes",
    }
    second = post(client, "/bedside/check", acknowledged, "/bedside")
    assert "✓</span> GO" in text(second)


def test_qa_sees_a_safety_signal_when_related_severe_events_cluster_on_a_lot(
    demo_app, client
) -> None:
    for index, subject in enumerate(("SUBJ-050", "SUBJ-051")):
        wristband = cs.enrol(demo_app, subject)
        din, _ = cs.free_din(demo_app, index=index)
        cs.allocate(demo_app, wristband, din)
        cs.ship(demo_app, din)
        cs.infuse(demo_app, wristband, din)
        cs.adverse_event(demo_app, wristband, grade=3)
    login(client, "qa")
    page = text(client.get("/reports"))
    assert "Safety signal: QA review needed" in page
    assert f"Lot {cs.DEMO_LOT}: 2 participants with related grade ≥3 events." in page
    assert re.search(r'<tr class="flagged"><td>' + cs.DEMO_LOT, page)
    assert "Participants infused</dt><dd><strong>2</strong>" in page


def test_a_dose_between_bags_is_drawn_shown_to_the_technician_and_the_nurse(
    demo_app, client
) -> None:
    """65 kg × 1×10^6/kg from a 72×10^6 bag of 18 mL: the whole bag is +10.8 %, so 16.3 mL is
    drawn (65.2×10^6 cells, 1,003,077 cells/kg) and 1.70 mL discarded."""
    wristband = cs.enrol(demo_app, "SUBJ-065", weight="65.00")
    din, check_char = cs.free_din(demo_app)
    login(client, "tech")
    page = text(client.get("/allocations"))
    rx_id = re.search(r"/prescriptions/(\d+)/allocate", page).group(1)
    done = post(client, f"/prescriptions/{rx_id}/allocate", {"units": din}, "/allocations")
    shown = text(client.get(done.location))
    assert "draw 16.3 mL, discard 1.70 mL" in shown
    cs.ship(demo_app, din)
    cs.thaw(demo_app, din)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/allocations")})
    login(client, "nurse")
    patient = text(client.get(f"/patients/{wristband}"))
    assert "draw 16.3 mL of 18.00 mL" in patient and "1,003,077 cells/kg" in patient
    go = post(
        client,
        "/bedside/check",
        {"patient": wristband, "scan": f"{din}{check_char}", "method": "typed"},
        "/bedside",
    )
    page = text(go)
    assert "✓</span> GO" in page, page
    assert "Draw 16.3 mL from this unit" in page and "discard the remaining 1.70 mL" in page
    assert 'name="volume_ml" type="number" value="16.3"' in page


def test_the_reports_lot_table_is_shown_a_page_at_a_time(demo_app, client, monkeypatch) -> None:
    """Every lot infused has a row: the page shows PAGE_SIZE of them and a next link; the CSV
    keeps them all."""
    from lotrack.services import report

    outcome = report.PrimaryOutcome(participants=3, by_lot={f"L-{n}": [1, 0] for n in (3, 1, 2)})
    monkeypatch.setattr(report, "primary_outcome", lambda _s, _a: outcome)
    monkeypatch.setitem(demo_app.config, "LOTRACK_PAGE_SIZE", 2)
    login(client, "qa")
    first = text(client.get("/reports"))
    assert "<td>L-1</td>" in first and "<td>L-2</td>" in first and "<td>L-3</td>" not in first
    assert "Page 1 of 2 (3 in all)" in first and 'href="/reports?page=2"' in first
    second = text(client.get("/reports?page=2"))
    assert "<td>L-3</td>" in second and "<td>L-1</td>" not in second
    assert "<td>L-3</td>" in text(client.get("/reports?page=99"))  # past the end: the last page
    rows = client.get("/reports/primary-outcome.csv").get_data(as_text=True).splitlines()
    assert [r for r in rows if r.startswith("lot,")] == [
        "lot,L-1,1,0",
        "lot,L-2,1,0",
        "lot,L-3,1,0",
    ]
