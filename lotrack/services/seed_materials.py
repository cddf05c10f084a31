"""Demo materials and instruments: approved material lots the demo runs, passages and results use,
and instruments calibrated every year up to now, so that every demo result's test date was in
calibration and the demo's instruments are still current."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lotrack.domain.materials import EquipmentEventKind, MaterialCategory
from lotrack.domain.record_signatures import RecordMeaning
from lotrack.models import User
from lotrack.services import clock, equipment, materials
from lotrack.services.raw_data import RawFile
from lotrack.services.signature import Lockout, SignIn

# (code, name, category, supplier, catalogue number, supplier's lot, expiry)
MATERIALS = (
    ("MEM-A", "alpha-MEM", MaterialCategory.MEDIUM, "Gibco", "12561-056", "2587431"),
    ("HPL-01", "Human platelet lysate", MaterialCategory.PLATELET_LYSATE, "PL BioScience",
     "PLS-GMP-500", "PL2025-118"),
    ("FBS-01", "Foetal bovine serum", MaterialCategory.SERUM, "HyClone", "SH30071.03",
     "AE28431987"),
    ("TRY-01", "TrypLE Select", MaterialCategory.ENZYME, "Gibco", "A12859-01", "2611099"),
    ("CS10-01", "CryoStor CS10", MaterialCategory.CRYOPROTECTANT, "BioLife Solutions", "210102",
     "22K0341"),
    ("AB-01", "MSC phenotyping antibody panel", MaterialCategory.REAGENT, "BD Biosciences",
     "562245", "5123876"),
)  # fmt: skip
DEMO_EXPIRY = dt.date(2027, 12, 31)
# The demo's runs use these lots from their start, and every passage the serum and the enzyme.
RUN_LOTS = ("MAT-2025-001", "MAT-2025-002", "MAT-2025-003")
PASSAGE_LOTS = ("MAT-2025-003", "MAT-2025-004")
RESULT_LOTS = ("MAT-2025-006",)  # the antibody panel, for every demo result
RECEIVED_ON = dt.date(2025, 4, 1)
INSTRUMENTS = (("FCM-01", "Flow cytometer"), ("CC-01", "Automated cell counter"))
FIRST_CALIBRATION = dt.date(2025, 1, 6)
CERTIFICATE = b"%PDF-1.4\n% demo supplier certificate of analysis\n%%EOF\n"


def seed_materials(session: Session, *, tech: User, qa: User, qa_password: str) -> None:
    """Materials and their lots received on 2025-04-01, each approved for use by QA (signed)."""
    for code, name, category, supplier, catalogue, supplier_lot in MATERIALS:
        materials.register_material(
            session,
            tech,
            code=code,
            name=name,
            category=category,
            supplier=supplier,
            catalogue_number=catalogue,
        )
        session.flush()
        lot = materials.receive_lot(
            session,
            tech,
            material_code=code,
            supplier_lot=supplier_lot,
            received_on=RECEIVED_ON,
            expires_on=DEMO_EXPIRY,
            certificate=RawFile(f"CoA-{supplier_lot}.pdf", CERTIFICATE),
        )
        session.flush()
        materials.inspect_lot(
            session,
            qa,
            lot,
            decision="approved",
            sign_in=SignIn("qa", qa_password, RecordMeaning.APPROVED_FOR_USE, "CoA reviewed"),
            lockout=Lockout(max_failures=5, lockout_minutes=15),
        )
        session.flush()


def seed_instruments(session: Session, *, tech: User) -> None:
    """Instruments calibrated each January from 2025, each calibration due a year later."""
    today = clock.today(session)
    for code, name in INSTRUMENTS:
        instrument = equipment.register_instrument(session, tech, code=code, name=name)
        session.flush()
        day = FIRST_CALIBRATION
        while day <= today:
            equipment.record_event(
                session,
                tech,
                instrument,
                kind=EquipmentEventKind.CALIBRATION,
                performed_on=day,
                due_on=day.replace(year=day.year + 1),
                passed=True,
                note="annual calibration, as found within tolerance",
            )
            day = day.replace(year=day.year + 1)
        session.flush()
