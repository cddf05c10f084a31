"""The demo history: a donor, a clone, one MCB, two WCBs, runs with passages, lots with units,
the three trial sites and one user per role. Written through the same services as real data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lotrack.domain.donor import MARKERS
from lotrack.domain.permissions import Role
from lotrack.domain.record_signatures import RecordMeaning
from lotrack.domain.states import BankTier, Container, Determination
from lotrack.models import Site, User
from lotrack.services import (
    accounts,
    audit,
    cellbank,
    donor,
    lot,
    production,
    seed_clinical,
    seed_materials,
    seed_quality,
    seed_worklist,
    specs,
)
from lotrack.services.signature import Lockout, SignIn

# shared/reference/trial.md: the three sites of NCT03123458.
TRIAL_SITES = (
    ("SZ-GIMI", "Shenzhen Geno-immune Medical Institute", "Shenzhen", "Asia/Shanghai"),
    (
        "BJ-CIP",
        "Capital Institute of Pediatrics affiliated Children's Hospital",
        "Beijing",
        "Asia/Shanghai",
    ),
    ("BJ-ACH", "Aerospace Center Hospital", "Beijing", "Asia/Shanghai"),
)

# Demo only: printed by `make run`; any real deployment creates its own users.
DEMO_USERS = (
    ("tech", Role.TECHNICIAN, "Demo Technician", None, "demo-tech-password"),
    ("tech2", Role.TECHNICIAN, "Demo Second Technician", None, "demo-tech2-password"),
    ("qa", Role.QA, "Demo QA Reviewer", None, "demo-qa-password"),
    ("md", Role.MEDICAL_DIRECTOR, "Demo Medical Director", None, "demo-md-password"),
    ("nurse", Role.CLINICAL, "Demo Site Nurse", "SZ-GIMI", "demo-nurse-password"),
    ("nurse2", Role.CLINICAL, "Demo Second Site Nurse", "SZ-GIMI", "demo-nurse2-password"),
    # One investigator (physician) per trial site: prescribes, assesses, attributes.
    ("doctor", Role.INVESTIGATOR, "Demo Investigator SZ-GIMI", "SZ-GIMI", "demo-doctor-password"),
    (
        "doctor-cip",
        Role.INVESTIGATOR,
        "Demo Investigator BJ-CIP",
        "BJ-CIP",
        "demo-doctor-cip-password",
    ),
    (
        "doctor-ach",
        Role.INVESTIGATOR,
        "Demo Investigator BJ-ACH",
        "BJ-ACH",
        "demo-doctor-ach-password",
    ),
    ("admin", Role.ADMIN, "Demo Administrator", None, "demo-admin-password"),
)

# Demo shelf life of cryopreserved units (the programme's; no published figure in the references).
DEMO_SHELF_LIFE = dt.timedelta(days=3 * 365)
# Presentation of a unit: Temcell HS Inj. bag of 72x10^6 cells in 18 mL (msc_release_specs.md §B).
BAG_CELLS, BAG_ML = 72_000_000, Decimal("18.00")


def has_users(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)))


def seed_sites(session: Session) -> None:
    for code, name, city, tz in TRIAL_SITES:
        if session.scalar(select(Site).where(Site.code == code)) is None:
            audit.created(session, None, Site(code=code, name=name, city=city, time_zone=tz))
    session.flush()


def seed_demo(session: Session, *, facility_id: str) -> list[tuple[str, str, str]]:
    """Load the demo; returns (username, role, password) for each demo login."""
    seed_sites(session)
    users: dict[str, User] = {}
    for username, role, name, site, password in DEMO_USERS:
        users[username] = accounts.create_user(
            session,
            None,
            username=username,
            full_name=name,
            role=role,
            password=password,
            site_code=site,
            # Demo logins, printed by seed-demo and the README; no administrator chose them.
            must_change_password=False,
        )
    for username, person in users.items():
        # Demo addresses under example.org (RFC 2606): notices go nowhere real.
        person.email = f"{username}@example.org"
    session.flush()
    tech, qa = users["tech"], users["qa"]
    qa_password = next(p for u, *_r, p in DEMO_USERS if u == "qa")
    specs.load_specs(session, None)
    for version in specs.list_versions(session):
        specs.approve(
            session,
            qa,
            version,
            sign_in=SignIn("qa", qa_password, RecordMeaning.APPROVED, "demo specifications"),
            lockout=Lockout(max_failures=5, lockout_minutes=15),
        )
    session.flush()
    seed_materials.seed_materials(session, tech=tech, qa=qa, qa_password=qa_password)
    seed_materials.seed_instruments(session, tech=tech)
    d = dt.date
    fd = donor.register_donor(session, tech, code="FD-0001", consent_date=d(2025, 3, 10))
    for marker in MARKERS:
        method = "NAT and serology" if marker != "syphilis" else "TPPA"
        donor.record_screening(
            session,
            tech,
            fd,
            marker=marker,
            method=method,
            result="non-reactive",
            tested_on=d(2025, 3, 12),
        )
    session.flush()
    donor.determine_eligibility(
        session,
        qa,
        fd,
        determination=Determination.ELIGIBLE,
        responsible_person="Demo Medical Director",
        reason="all required screening tests non-reactive",
    )
    clone = donor.register_clone(
        session, tech, code="CL-0001", donor_code="FD-0001", derived_on=d(2025, 4, 2)
    )
    session.flush()
    mcb = cellbank.register_bank(
        session,
        tech,
        code="MCB-001",
        tier=BankTier.MCB,
        parent_code=clone.code,
        passage_at_banking=3,
        pdl_at_banking=Decimal("12.50"),
        banked_on=d(2025, 5, 10),
    )
    session.flush()
    cellbank.add_vials(
        session,
        tech,
        mcb,
        freezer="LN2-1",
        rack="A",
        box="1",
        positions=[f"A{i}" for i in range(1, 11)],
    )
    wcbs = []
    for code, pdl, banked, box in (
        ("WCB-001-A", "18.20", d(2025, 6, 15), "2"),
        ("WCB-001-B", "18.40", d(2025, 7, 1), "3"),
    ):
        wcb = cellbank.register_bank(
            session,
            tech,
            code=code,
            tier=BankTier.WCB,
            parent_code=mcb.code,
            passage_at_banking=5,
            pdl_at_banking=Decimal(pdl),
            banked_on=banked,
        )
        session.flush()
        cellbank.add_vials(
            session,
            tech,
            wcb,
            freezer="LN2-1",
            rack="B",
            box=box,
            positions=[f"A{i}" for i in range(1, 9)],
        )
        wcbs.append(wcb)
    session.flush()
    # (run code, WCB, vial, start, number of passages, lots as (harvest offset, units))
    plan = (
        ("RUN-2025-01", wcbs[0], 1, d(2025, 8, 4), 2, ((0, 4), (0, 3))),
        ("RUN-2025-02", wcbs[0], 2, d(2025, 9, 1), 3, ()),  # a clean run, no lot harvested yet
        # CFM-2025-0003, on the other WCB: its open OOS (seed_quality) blocks its siblings (same
        # run or WCB), and the released CFM-2025-0001 on WCB-001-A must not be one of them.
        ("RUN-2025-05", wcbs[1], 8, d(2025, 9, 1), 3, ((0, 5),)),
        (
            "RUN-2025-03",
            wcbs[1],
            1,
            d(2025, 10, 6),
            6,
            ((0, 2),),
        ),  # reaches P11: flagged
    )
    for code, wcb, vial, start, n_passages, lots in plan:
        run = production.start_run(
            session,
            tech,
            code=code,
            bank_code=wcb.code,
            vial_numbers=[vial],
            started_on=start,
            material_lots=list(seed_materials.RUN_LOTS),
        )
        session.flush()
        day = start
        for i in range(n_passages):
            production.record_passage(
                session,
                tech,
                run,
                seeded_on=day,
                harvested_on=day + dt.timedelta(days=6),
                cells_seeded=2_000_000,
                cells_harvested=14_000_000 + 1_000_000 * i,
                viability_percent=Decimal("94.5") - i,
                material_lots=list(seed_materials.PASSAGE_LOTS),
            )
            day += dt.timedelta(days=7)
        session.flush()
        for offset, n_units in lots:
            harvest = day - dt.timedelta(days=1) + dt.timedelta(days=offset)
            new_lot = lot.register_lot(
                session,
                tech,
                run_code=code,
                harvested_on=harvest,
                expires_on=harvest + DEMO_SHELF_LIFE,
            )
            session.flush()
            lot.fill_units(
                session,
                tech,
                new_lot,
                container=Container.BAG,
                count=n_units,
                cells_per_unit=BAG_CELLS,
                volume_ml=BAG_ML,
                facility_id=facility_id,
                freezer="LN2-2",
                rack="C",
                box="1",
            )
            session.flush()
    seed_quality.seed_results(
        session,
        tech=tech,
        verifier=users["tech2"],
        qa=qa,
        qa_password=qa_password,
    )
    seed_clinical.seed_clinical(session)
    seed_worklist.seed_waiting_work(session)
    return demo_logins()


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, password) of each demo login."""
    return [(u, r, p) for u, r, _n, _s, p in DEMO_USERS]
