"""Demo QC results: qualified banks, and four lots that show each kind of verdict and blocker.

CFM-2025-0001 meets its specification (one result corrected with a reason along the way) and
is released under QA's signature;
CFM-2025-0002 waits for its sterility reading, due on the day the demo is loaded, and a
verification (a user finishes its story: reading, verification, QA release);
CFM-2025-0003 (on WCB-001-B) failed viability and has an open OOS investigation, which also
blocks its sibling CFM-2025-0004;
CFM-2025-0004 comes from a run past its passage limit and has most results still missing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain.decisions import Action
from lotrack.domain.record_signatures import RecordMeaning
from lotrack.domain.specs import Verdict
from lotrack.domain.states import Qualification
from lotrack.models import CellBank, Lot, ProductionRun, User
from lotrack.services import clock, qualification, release, result, seed_materials, specs

# Typical passing values (analyte, value, unit); limits and sources are in specs/*.toml.
RELEASE_VALUES = (
    ("APPEARANCE", "Conforms", ""),
    ("VIAB", "93.4", "%"),
    ("CELLS", "72.3", "10^6 cells"),
    ("CD105", "98.7", "%"),
    ("CD73", "99.1", "%"),
    ("CD90", "99.4", "%"),
    ("CD45", "0.4", "%"),
    ("CD34", "0.3", "%"),
    ("CD14", "0.6", "%"),
    ("CD19", "0.2", "%"),
    ("HLA-DR", "0.8", "%"),
    ("STERILITY", "No growth", ""),
    ("MYCO", "Negative", ""),
    ("ENDOTOXIN", "<0.25", "EU/mL"),
    ("KARYOTYPE", "Normal", ""),
    ("STR", "Matches MCB", ""),
    ("POTENCY", "46.0", "%"),
    ("TRILINEAGE", "Conforms", ""),
    ("BSA", "Not detected", ""),
)
BANK_ONLY = {"STR": {"MCB": "Profile recorded", "WCB": "Matches MCB"}}


def _record_all(
    session: Session,
    tech: User,
    verifier: User | None,
    subject: Lot | CellBank,
    day: dt.date,
    values: dict[str, str],
    codes: list[str],
) -> None:
    units = {a: u for a, _v, u in RELEASE_VALUES}
    for analyte in codes:
        r = result.record_result(
            session,
            tech,
            subject,
            test=analyte,
            value=values[analyte],
            unit=units.get(analyte, ""),
            performed_on=day,
            instrument="FCM-01",
            material_lots=list(seed_materials.RESULT_LOTS),
        )
        session.flush()
        if verifier is not None and r.verdict != Verdict.PENDING:
            result.verify_result(session, verifier, r)
    session.flush()


def seed_results(
    session: Session, *, tech: User, verifier: User, qa: User, qa_password: str
) -> None:
    values = {a: v for a, v, _u in RELEASE_VALUES}
    for bank in session.scalars(select(CellBank).order_by(CellBank.tier, CellBank.code)):
        assert bank.spec_version is not None
        tests = specs.content_of(bank.spec_version).tests
        bank_values = values | {k: v[bank.tier] for k, v in BANK_ONLY.items()}
        codes = [t.code for t in tests]
        _record_all(session, tech, verifier, bank, bank.banked_on, bank_values, codes)
        qualification.qualify_bank(
            session,
            qa,
            bank,
            decision=Qualification.QUALIFIED,
            reason="all qualification tests met",
            sign_in=release.SignIn("qa", qa_password, RecordMeaning.QUALIFIED),
            lockout=release.Lockout(max_failures=5, lockout_minutes=15),
        )
        session.flush()
    lots = {lot.lot_number: lot for lot in session.scalars(select(Lot).join(ProductionRun))}
    all_codes = [a for a, _v, _u in RELEASE_VALUES]

    first = lots["CFM-2025-0001"]
    _record_all(session, tech, verifier, first, first.harvested_on, values, all_codes)
    cd90 = next(r for r in result.results_of(session, first) if r.analyte == "CD90")
    corrected = result.correct_result(
        session,
        tech,
        cd90,
        reason="transcription error: the cytometer report reads 99.2",
        value="99.2",
        unit="%",
        performed_on=first.harvested_on,
    )
    session.flush()
    result.verify_result(session, verifier, corrected)

    second = lots["CFM-2025-0002"]
    codes = [c for c in all_codes if c not in ("STERILITY", "CELLS")]
    _record_all(session, tech, verifier, second, second.harvested_on, values, codes)
    # Inoculated a full incubation before the facility's today, so that a user finishes the
    # lot's story today from the pages: the reading is due today, then a second person
    # verifies it with CELLS, and QA releases.
    assert second.spec_version is not None
    sterility = specs.content_of(second.spec_version).test("STERILITY")
    assert sterility is not None and sterility.incubation_days is not None
    incubating_since = clock.today(session) - dt.timedelta(days=sterility.incubation_days)
    _record_all(
        session, tech, None, second, incubating_since, {"STERILITY": "pending"}, ["STERILITY"]
    )
    _record_all(session, tech, None, second, second.harvested_on, values, ["CELLS"])

    third = lots["CFM-2025-0003"]
    codes = [c for c in all_codes if c not in ("VIAB", "CD105")]
    _record_all(session, tech, verifier, third, third.harvested_on, values, codes)
    _record_all(session, tech, verifier, third, third.harvested_on, {"CD105": "95.0"}, ["CD105"])
    _record_all(session, tech, None, third, third.harvested_on, {"VIAB": "78.9"}, ["VIAB"])

    fourth = lots["CFM-2025-0004"]
    _record_all(session, tech, verifier, fourth, fourth.harvested_on, values, ["VIAB", "CD105"])
    session.flush()
    release.decide(
        session,
        qa,
        first,
        Action.RELEASE,
        release.SignIn("qa", qa_password, "approved for release", "every criterion met"),
        release.Lockout(max_failures=5, lockout_minutes=15),
    )
    session.flush()
