"""Every list page and list API costs the same number of SQL statements whatever the data size.

The demo is grown once (the small set), every page is measured, the same records are grown three
more times (the large set) and every page is measured again: a page that starts issuing one query
per row shows up as a difference, named in the failure. Pages without URL arguments are found in
the url_map, so a new list page is measured without touching this file; a new page with arguments
fails until it is listed below as measured or as not a list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lotrack.domain.decisions import Action
from lotrack.domain.donor import MARKERS
from lotrack.models import AdverseEvent, ApiToken, Lot, Patient, Result, Shipment
from lotrack.services import (
    accounts,
    api_tokens,
    cellbank,
    containment,
    deviation,
    donor,
    equipment,
    exceptional,
    material_uses,
    materials,
    production,
    release,
    result,
    retained,
    shipment,
)
from lotrack.services import adverse_lifecycle as lifecycle
from lotrack.services import lot as lots
from lotrack.services.raw_data import RawFile
from tests import clinical_setup as clin
from tests.conftest import FACILITY, PASSWORDS, counting, login, user
from tests.release_setup import make_lot

WEB_ROLES = ("qa", "tech", "nurse", "admin")
API_ROLES = ("qa", "nurse", "admin")
# The worklist (home page and API) differs by role: every other role is measured on it too.
WORKLISTS = ("/", "/api/v1/worklist")
WORKLIST_ROLES = ("tech2", "md", "doctor")
TARGET_LOT = "CFM-2025-0002"  # quarantined: it takes more units and corrected results each round
PATIENT = "SZ-GIMI/SUBJ-G1A"  # made in round 1, gets an adverse event each round

# Argument-free GET rules that are not database-backed lists, with the reason.
NOT_LISTS = {
    "/healthz": "liveness probe",
    "/favicon.ico": "an empty 204 answer, no database",
    "/login": "form",
    "/account/password": "form",
    "/enrol": "form",
    "/v/public-key.pem": "static key",
    "/api/v1/openapi.json": "static document",
    "/audit/verify": "walks AUDIT_VERIFY_EVENTS_PER_REQUEST events a step, in batches (make bench)",
}

# Pages with arguments: each measured on a record that grows between the two sizes.
MEASURED = {
    "/lots/<lot_number>": "/lots/{lot}",
    "/lots/<lot_number>/release": "/lots/{lot}/release",
    "/lots/<lot_number>/timeline": "/lots/{lot}/timeline",
    "/lots/<lot_number>/timeline.csv": "/lots/{lot}/timeline.csv",
    "/lots/<lot_number>/documents": "/lots/{lot}/documents",
    "/lots/<lot_number>/results/grid": "/lots/{lot}/results/grid",
    "/lineage/lot/<lot_number>": "/lineage/lot/{lot}",
    "/lineage/bank/<code>": "/lineage/bank/MCB-001",
    "/banks/<code>": "/banks/MCB-001",
    "/runs/<code>": "/runs/RUN-2025-01",
    "/donors/<code>": "/donors/FD-0001",
    "/clones/<code>": "/clones/CL-0001",
    "/patients/<wristband>": "/patients/{patient}",
    "/patients/<wristband>/adverse-events/<event_id>": "/patients/{patient}/adverse-events/{event}",
    "/shipments/<number>": "/shipments/{shipment}",
    "/audit/record/<entity_type>/<entity_id>": "/audit/record/lot/{lot_id}",
    "/trends/<test_code>": "/trends/CD105",
    "/api/v1/lots/<lot_number>": "/api/v1/lots/{lot}",
    "/api/v1/lots/<lot_number>/results": "/api/v1/lots/{lot}/results",
    "/api/v1/lots/<lot_number>/evaluation": "/api/v1/lots/{lot}/evaluation",
    "/api/v1/lots/<lot_number>/release": "/api/v1/lots/{lot}/release",
    "/api/v1/lots/<lot_number>/timeline": "/api/v1/lots/{lot}/timeline",
    "/api/v1/lots/<lot_number>/timeline.csv": "/api/v1/lots/{lot}/timeline.csv",
    "/api/v1/lots/<lot_number>/signatures": "/api/v1/lots/{lot}/signatures",
    "/api/v1/lots/<lot_number>/certificates": "/api/v1/lots/{lot}/certificates",
    "/api/v1/banks/<code>": "/api/v1/banks/MCB-001",
    "/api/v1/banks/<code>/results": "/api/v1/banks/WCB-G1/results",
    "/api/v1/runs/<code>": "/api/v1/runs/RUN-2025-01",
    "/api/v1/donors/<code>": "/api/v1/donors/FD-0001",
    "/api/v1/clones/<code>": "/api/v1/clones/CL-0001",
    "/api/v1/patients/<wristband>": "/api/v1/patients/{patient}",
    "/api/v1/adverse-events/<event_id>": "/api/v1/adverse-events/{event}",
    "/api/v1/patients/<wristband>/exceptional-releases": (
        "/api/v1/patients/{patient}/exceptional-releases"
    ),
    "/api/v1/shipments/<number>": "/api/v1/shipments/{shipment}",
    "/api/v1/trends/<code>": "/api/v1/trends/CD105",
    "/api/v1/runs/<code>/material-uses": "/api/v1/runs/RUN-2025-01/material-uses",
}
# Argument-free rules that show a form until given a query argument: measured with one.
QUERIES = {
    "/trace/back": "/trace/back?patient={patient}",
    "/trace/forward": "/trace/forward?bank=MCB-001",
    "/api/v1/trace/forward": "/api/v1/trace/forward?bank=MCB-001",
    "/api/v1/trace/back": "/api/v1/trace/back?lot={lot}",
    "/api/v1/trace/patient": "/api/v1/trace/patient?patient={patient}",
    "/api/v1/trace/units": "/api/v1/trace/units?bank=MCB-001",
}
# Pages with arguments that are not lists: one record of fixed size (by its argument), a form or a
# file (by the end of the rule).
ONE_RECORD = {
    *("result_id", "number", "version_id", "din", "token", "filename", "user_id"),
    *("grant_id", "code"),  # a role grant; an enrolment code
}
FORMS_AND_FILES = (
    "/new",
    "/screening",
    "/determination",
    "/contain",
    "/fill",
    "/withdraw",
    ".pdf",
    ".svg",
    "/evaluation",
    "/raw",
)


def _fill_and_release(s: Session, lot_number: str, count: int) -> Lot:
    """The quarantined lot, `count` more bags filled, released by QA."""
    lot = lots.get_lot(s, lot_number)
    lots.fill_units(
        s,
        user(s, "tech"),
        lot,
        container="bag",
        count=count,
        cells_per_unit=72_000_000,
        volume_ml=Decimal("18"),
        facility_id=FACILITY,
    )
    s.flush()
    release.decide(
        s,
        user(s, "qa"),
        lot,
        Action.RELEASE,
        release.SignIn("qa", PASSWORDS["qa"], "approved for release", "every criterion met"),
        clin.LOCKOUT,
    )
    return lot


def grow(app: Flask, i: int) -> None:
    """One round of more of everything, through the services: a donor, clones, MCBs and WCBs; a
    run with a failing lot (investigation, deviation, hold, exceptional request); a released lot
    whose units reach patients (allocation, shipment, infusion, adverse event); a user."""
    released = make_lot(app)
    with app.extensions["lotrack_db"].sessionmaker() as s:
        tech, tech2, qa = user(s, "tech"), user(s, "tech2"), user(s, "qa")
        day = dt.date(2025, 4, 1) + dt.timedelta(days=i)
        fd = donor.register_donor(s, tech, code=f"FD-G{i}", consent_date=day)
        for marker in MARKERS:
            donor.record_screening(
                s, tech, fd, marker=marker, method="NAT", result="non-reactive", tested_on=day
            )
        s.flush()
        donor.determine_eligibility(
            s, qa, fd, determination="eligible", responsible_person="MD", reason="non-reactive"
        )
        donor.register_clone(s, tech, code=f"CL-G{i}", donor_code=fd.code, derived_on=day)
        donor.register_clone(s, tech, code=f"CL-0001-G{i}", donor_code="FD-0001", derived_on=day)
        s.flush()
        # Each round's banks have parents (a clone, an MCB) never seen before, and its run starts
        # from a WCB of its own: a list looking up each row's parent or bank grows with them.
        for code, tier, parent in (
            (f"MCB-G{i}", "MCB", "CL-0001"),
            (f"WCB-G{i}", "WCB", "MCB-001"),
            (f"MCB-G{i}B", "MCB", f"CL-G{i}"),
            (f"WCB-G{i}B", "WCB", f"MCB-G{i}B"),
        ):
            bank = cellbank.register_bank(
                s,
                tech,
                code=code,
                tier=tier,
                parent_code=parent,
                passage_at_banking=3 if tier == "MCB" else 5,
                pdl_at_banking=Decimal("12.5" if tier == "MCB" else "18.5"),
                banked_on=dt.date(2025, 6, 1) + dt.timedelta(days=i),
            )
            s.flush()
            cellbank.add_vials(
                s, tech, bank, freezer="LN2", rack="G", box=f"{code}", positions=["1", "2"]
            )
        cellbank.add_vials(
            s,
            tech,
            cellbank.get_bank(s, "MCB-001"),
            freezer="LN2",
            rack="H",
            box=str(i),
            positions=["1", "2"],
        )
        # A material of its own each round, its lot approved and used by the run, its passage
        # and RUN-2025-01; an instrument of its own, calibrated: the material and instrument
        # lists grow by a row each.
        materials.register_material(
            s, tech, code=f"MAT-G{i}", name=f"Medium {i}", category="medium",
            supplier=f"Supplier {i}", catalogue_number=f"C-{i}",
        )  # fmt: skip
        s.flush()
        material_lot = materials.receive_lot(
            s, tech, material_code=f"MAT-G{i}", supplier_lot=f"S-{i}",
            received_on=dt.date(2025, 4, 1), expires_on=dt.date(2027, 4, 1),
            certificate=RawFile(f"coa-{i}.pdf", b"%PDF-1.4 certificate"),
        )  # fmt: skip
        s.flush()
        materials.inspect_lot(
            s, qa, material_lot, decision="approved", lockout=clin.LOCKOUT,
            sign_in=release.SignIn("qa", PASSWORDS["qa"], "approved for use", f"round {i}"),
        )  # fmt: skip
        material_uses.record_uses(
            s, tech, [material_lot.number], used_on=dt.date(2025, 8, 4),
            run=production.get_run(s, "RUN-2025-01"),
        )  # fmt: skip
        instrument = equipment.register_instrument(s, tech, code=f"INS-G{i}", name=f"Reader {i}")
        s.flush()
        equipment.record_event(
            s, tech, instrument, kind="calibration", performed_on=dt.date(2025, 1, 6),
            due_on=dt.date(2026, 1, 6), passed=True,
        )  # fmt: skip
        # Retained samples of the measured lot and bank each round, each with a withdrawal: the
        # list, the lot's and the bank's pages grow by a sample each.
        subjects = ({"lot": lots.get_lot(s, TARGET_LOT)}, {"bank": cellbank.get_bank(s, "MCB-001")})
        for subject in subjects:
            kept = retained.lay_down(
                s, tech, **subject, sample_type="cells", container="cryovial",
                quantity=Decimal(4), unit="vial", freezer=f"LN2-G{i}", rack="R", box="B",
                position="1", laid_down_on=dt.date(2025, 12, 1),
            )  # fmt: skip
            retained.withdraw(s, qa, kept, quantity=Decimal(1), reason="other", note=f"round {i}")
        run = production.start_run(
            s,
            tech,
            code=f"RUN-G{i}",
            bank_code=f"WCB-G{i}",
            vial_numbers=[1],
            started_on=dt.date(2025, 11, 1),
            material_lots=[material_lot.number, "MAT-2025-003"],
        )
        s.flush()
        production.record_passage(
            s,
            tech,
            run,
            seeded_on=dt.date(2025, 11, 1),
            harvested_on=dt.date(2025, 11, 7),
            cells_seeded=2_000_000,
            cells_harvested=14_000_000,
            viability_percent=Decimal("94"),
            material_lots=[material_lot.number],
        )
        s.flush()
        failing = lots.register_lot(
            s,
            tech,
            run_code=run.code,
            harvested_on=dt.date(2025, 11, 8),
            expires_on=dt.date(2028, 11, 8),
        )
        s.flush()
        lots.fill_units(
            s,
            tech,
            failing,
            container="bag",
            count=2,
            cells_per_unit=72_000_000,
            volume_ml=Decimal("18"),
            facility_id=FACILITY,
        )
        r = result.record_result(
            s, tech, failing, test="VIAB", value="78.9", unit="%", performed_on=failing.harvested_on
        )
        s.flush()
        result.verify_result(s, tech2, r)
        deviation.open_deviation(s, tech, description=f"round {i}: incubator alarm", lot=failing)
        exceptional.request_release(
            s,
            qa,
            failing,
            physician="Dr. G",
            patient="SZ-GIMI/SUBJ-002",  # a patient record
            request="no alternative",
            requested_on=day,
            risk_assessment="viability low; benefit outweighs the risk",
        )
        s.flush()
        containment.contain(
            s,
            qa,
            kind="hold",
            lot=failing,
            lockout=clin.LOCKOUT,
            sign_in=release.SignIn("qa", PASSWORDS["qa"], "placed on hold", f"round {i}"),
        )
        target = lots.get_lot(s, TARGET_LOT)
        lots.fill_units(
            s,
            tech,
            target,
            container="bag",
            count=3,
            cells_per_unit=72_000_000,
            volume_ml=Decimal("18"),
            facility_id=FACILITY,
        )
        live = s.scalars(
            select(Result).where(
                Result.lot_id == target.id,
                Result.analyte == "CD105",
                Result.invalidated_at.is_(None),
            )
        ).one()
        result.correct_result(
            s,
            tech,
            live,
            reason=f"round {i}: re-read",
            value=f"98.{i}",
            unit="%",
            performed_on=target.harvested_on,
        )
        fresh = _fill_and_release(s, released, 1 + i)
        accounts.create_user(
            s,
            None,
            username=f"grow{i}",
            full_name=f"Grown User {i}",
            role="technician",
            password=f"grown-user-{i}-password",
            must_change_password=False,
        )
        dins = [u.din for u in fresh.units]
        s.commit()
    for subject in (f"SUBJ-G{i}A", f"SUBJ-G{i}B"):
        clin.enrol(app, subject)
    first = f"SZ-GIMI/SUBJ-G{i}A"
    clin.allocate(app, first, dins[0])
    clin.ship(app, dins[0])
    clin.infuse(app, first, dins[0])
    clin.adverse_event(app, first)
    clin.adverse_event(app, PATIENT)
    with app.extensions["lotrack_db"].sessionmaker() as s:
        shipment.ship(s, user(s, "tech"), site_code="SZ-GIMI", dins=dins[1:])
        # The patient's first event gets a follow-up and a report each round: its page grows.
        nurse, doctor = user(s, "nurse"), user(s, "doctor")
        event = lifecycle.get_event(s, nurse, _first_event(s))
        lifecycle.add_follow_up(s, doctor, event, aware_on=clin.today(), note=f"round {i}")
        lifecycle.record_report(
            s,
            nurse,
            event,
            kind="sponsor",
            reported_on=clin.today(),
            reported_by="Dr. G",
            recipient="sponsor",
            reference=f"R-{i}",
        )
        s.commit()


def _first_event(s: Session) -> int:
    """The first adverse event of PATIENT (made in round 1)."""
    return (
        s.scalars(
            select(AdverseEvent.id)
            .join(Patient, AdverseEvent.patient_id == Patient.id)
            .where(Patient.wristband == PATIENT)
            .order_by(AdverseEvent.id)
        ).first()
        or 0
    )


def _paths(app: Flask) -> tuple[list[str], list[str]]:
    """(paths to measure, GET rules with arguments that are neither measured nor exempt)."""
    measured, uncovered = [], []
    for rule in app.url_map.iter_rules():
        name = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"<\1>", rule.rule)  # converters left out
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        if not rule.arguments:
            if rule.rule not in NOT_LISTS:
                measured.append(QUERIES.get(rule.rule, rule.rule))
        elif name in MEASURED:
            measured.append(MEASURED[name])
        elif not (rule.arguments & ONE_RECORD or rule.rule.endswith(FORMS_AND_FILES)):
            uncovered.append(rule.rule)
    return sorted(measured), uncovered


def _targets(app: Flask) -> dict[str, str]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        lot = lots.get_lot(s, TARGET_LOT)
        biggest = s.scalars(select(Shipment).order_by(Shipment.id.desc()).limit(1)).one()
        return {
            "lot": TARGET_LOT,
            "lot_id": str(lot.id),
            "patient": PATIENT,
            "shipment": biggest.number,
            "event": str(_first_event(s)),
        }


def _repeated(statements: list[str]) -> str:
    """The statement run most often: where a per-row query usually shows itself."""
    if not statements:
        return "the page did not answer 200"
    text, n = Counter(" ".join(st.split()) for st in statements).most_common(1)[0]
    return f"{n}x {text[:160]}"


def _measure(
    app: Flask, clients: dict[str, FlaskClient], bearers: dict[str, str], paths: list[str]
) -> dict[tuple[str, str], list[str]]:
    """Statements per (role, path) of every page the role may see (answered 200)."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        # An API token stamps its last use at most once a minute: never during a measurement.
        s.execute(
            update(ApiToken).values(last_used_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        )
        s.commit()
    targets = _targets(app)
    counts: dict[tuple[str, str], list[str]] = {}
    for template in paths:
        path = template.format(**targets)
        api = path.startswith("/api/")
        roles = API_ROLES if api else WEB_ROLES
        for role in roles + (WORKLIST_ROLES if template in WORKLISTS else ()):
            headers = {"Authorization": f"Bearer {bearers[role]}"} if api else {}
            client = clients[role]
            client.get(path, headers=headers)  # warm-up: caches filled once, not counted
            with counting(app) as seen:
                status = client.get(path, headers=headers).status_code
            if status == 200:
                counts[(role, template)] = list(seen)
    return counts


def test_list_pages_cost_the_same_number_of_statements_at_four_times_the_data(
    demo_app: Flask,
) -> None:
    paths, uncovered = _paths(demo_app)
    assert not uncovered, f"GET pages with arguments neither measured nor exempt: {uncovered}"
    clients = {role: demo_app.test_client() for role in WEB_ROLES + WORKLIST_ROLES}
    for role, client in clients.items():
        assert login(client, role).status_code == 302
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        bearers = {
            r: api_tokens.create_token(s, None, user(s, r)) for r in API_ROLES + WORKLIST_ROLES
        }
        s.commit()
    grow(demo_app, 1)
    small = _measure(demo_app, clients, bearers, paths)
    unseen = sorted(set(paths) - {p for _r, p in small})
    assert not unseen, f"pages no role could open (status other than 200): {unseen}"
    for i in (2, 3, 4):
        grow(demo_app, i)
    large = _measure(demo_app, clients, bearers, paths)
    differ = {
        f"{path} as {role}": (len(seen), len(large.get((role, path), [])), _repeated(large_seen))
        for (role, path), seen in sorted(small.items())
        if len(large_seen := large.get((role, path), [])) != len(seen)
    }
    assert not differ, f"statements (small, large, most repeated) differ: {differ}"


# Argument-free API lists that answer a bare JSON list, with why they stay whole.
WHOLE_LISTS = {
    "/api/v1/specs": "one version per product, stage and approval: a handful",
    "/api/v1/runs/RUN-2025-01/material-uses": "one run's uses: a few per passage",
}


def test_every_list_is_paginated_by_the_page_size_setting(demo_app: Flask) -> None:
    """With PAGE_SIZE 1 every API list answers one item and the pages to reach the rest, and the
    web lists show previous/next buttons (a finger-sized target on a tablet)."""
    demo_app.config["LOTRACK_PAGE_SIZE"] = 1
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        bearers = {r: api_tokens.create_token(s, None, user(s, r)) for r in API_ROLES}
        s.commit()
    client = demo_app.test_client()
    paths, _uncovered = _paths(demo_app)
    bare, paged = [], {}
    for path in (p for p in paths if p.startswith("/api/") and "{" not in p and "?" not in p):
        for role in API_ROLES:
            resp = client.get(path, headers={"Authorization": f"Bearer {bearers[role]}"})
            if resp.status_code == 200:
                body = resp.get_json()
                if isinstance(body, list) and path not in WHOLE_LISTS:
                    bare.append(path)
                elif isinstance(body, dict) and "items" in body:
                    paged[path] = body
                break
    assert not bare, f"API lists answering every row at once: {bare}"
    for path, body in paged.items():
        assert body["per_page"] == 1 and len(body["items"]) <= 1, path
        assert body["pages"] == max(1, body["total"]), path
    assert paged["/api/v1/lots"]["total"] == 4 and paged["/api/v1/runs"]["pages"] == 4
    assert (
        client.get(
            "/api/v1/lots?per_page=3", headers={"Authorization": f"Bearer {bearers['qa']}"}
        ).get_json()["per_page"]
        == 3
    )
    assert login(client, "qa").status_code == 302
    for path, total in (("/lots", 4), ("/runs", 4), ("/banks", 3)):
        page = client.get(path).get_data(as_text=True)
        assert f"Page 1 of {total}" in page, path
        assert re.search(r'<a class="button" href="[^"]*page=2[^"]*">Next', page), path
    last = client.get("/lots?page=4").get_data(as_text=True)
    assert "Page 4 of 4" in last and "Previous" in last and "Next" not in last


def _ship_by_new_technicians(app: Flask, first: int, count: int) -> None:
    """`count` shipments of one released unit each, each shipped by a technician never seen."""
    released = make_lot(app)
    with app.extensions["lotrack_db"].sessionmaker() as s:
        lot = _fill_and_release(s, released, count)
        new = [u for u in lot.units if u.container == "bag"][-count:]
        for n, unit in enumerate(new, start=first):
            shipper = accounts.create_user(
                s,
                None,
                username=f"shipper{n}",
                full_name=f"Shipper {n}",
                role="technician",
                password=f"shipper-{n}-password",
                must_change_password=False,
            )
            s.flush()
            shipment.ship(s, shipper, site_code="SZ-GIMI", dins=[unit.din])
        s.commit()


def test_a_list_naming_a_user_per_row_looks_no_user_up_per_row(demo_app: Flask) -> None:
    """Shipments shipped by as many technicians as there are rows: /api/v1/shipments costs the
    same statements for 2 rows as for 8 (its serialiser reads the users the service loaded with
    the page and queries nothing itself)."""
    client = demo_app.test_client()
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        headers = {"Authorization": f"Bearer {api_tokens.create_token(s, None, user(s, 'qa'))}"}
        s.commit()

    def statements() -> list[str]:
        client.get("/api/v1/shipments?per_page=100", headers=headers)  # warm-up
        with counting(demo_app) as seen:
            resp = client.get("/api/v1/shipments?per_page=100", headers=headers)
        assert resp.status_code == 200
        shippers = {s["shipped_by"] for s in resp.get_json()["items"]}
        assert {f"shipper{n}" for n in range(first)} <= shippers
        return list(seen)

    _ship_by_new_technicians(demo_app, 0, 2)
    first = 2
    small = statements()
    _ship_by_new_technicians(demo_app, 2, 6)
    first = 8
    large = statements()
    assert len(large) == len(small), (len(small), len(large), _repeated(large))
