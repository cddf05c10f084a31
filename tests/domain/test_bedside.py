"""The bedside hard stop (domain/bedside.py): every unsafe fact alone gives NO-GO with a reason that
names it; any mix of them (hypothesis) never gives GO nor raises, and the first reason given is
the most serious one present, by a ranking written here independently of the code: recall, not
genuine, hold, wrong patient, expiry, condition, patient, steps."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.bedside import (
    BARCODE,
    CHECK_MISMATCH,
    CHECK_MISSING,
    FLAG_MISMATCH,
    OTHER_CODE,
    TYPED,
    BedsideFacts,
    check,
    start_problem,
)
from lotrack.domain.distribution import UnitFacts
from lotrack.domain.dose import Container
from lotrack.domain.dose import plan as dose_plan
from lotrack.domain.isbt128 import parse_din
from lotrack.domain.isbt128_expiry import encode_005, parse_005
from lotrack.domain.states import LotState, UnitState

NOW = dt.datetime(2026, 3, 14, 2, 0, tzinfo=dt.UTC)  # 10 a.m. at the site, 2 a.m. UTC
ZONE = "Asia/Shanghai"
PATIENT = 7
DIN = "A999925000001"


def bag(cells: int = 72_000_000, key: str = DIN, **kw: Any) -> Container:
    """An allocated bag of 18 mL; the lot's endotoxin <0.25 EU/mL."""
    return Container(
        key, cells, kw.pop("ml", Decimal("18.00")), kw.pop("eu", Decimal("0.25")), **kw
    )


SAFE = BedsideFacts(
    label_accepted=True,
    din="A999925000001",
    unit=UnitFacts(
        din="A999925000001",
        lot_number="CFM-2025-0001",
        lot_state="RELEASED",
        expires_on=NOW.date() + dt.timedelta(days=90),
        unit_state="thawed",
    ),
    zone=ZONE,
    received_at_site=True,
    patient_id=PATIENT,
    allocated_to_patient=True,
    patient_consented=True,
    patient_eligible=True,
    prescribed_cells=70_000_000,  # 1×10^6/kg at 70 kg: the 72×10^6 bag whole is +2.9 %
    weight_kg=Decimal(70),
    dose_containers=(bag(),),
    thawed_at=NOW - dt.timedelta(minutes=20),
    post_thaw_minutes=60,
    now=NOW,
)
MIN = dt.timedelta(minutes=1)


def made(f: BedsideFacts = SAFE, **changes: Any) -> BedsideFacts:
    """`f` with changes; a key starting "unit_" changes the unit's facts."""
    unit = {k[5:]: v for k, v in changes.items() if k.startswith("unit_")}
    rest = {k: v for k, v in changes.items() if k not in {f"unit_{u}" for u in unit}}
    if unit and f.unit is not None:  # no unit: nothing of it to change
        rest.setdefault("unit", replace(f.unit, **unit))
    return replace(f, **rest)


def test_a_go_says_what_to_give_from_this_unit():
    # 65 kg × 1×10^6/kg from the 72×10^6 bag in 18 mL: draw 16.3 mL (65.2×10^6), discard 1.7.
    verdict = check(made(prescribed_cells=65_000_000, weight_kg=Decimal(65)))
    assert verdict.go and verdict.draw is not None
    assert (verdict.draw.volume_ml, verdict.draw.whole, verdict.draw.discard_ml) == (
        Decimal("16.3"),
        False,
        Decimal("1.70"),
    )
    assert check(SAFE).draw is not None and check(SAFE).draw.whole  # type: ignore[union-attr]
    assert check(made(prescribed_cells=None)).draw is None  # no draw on a NO-GO


EXCEPTIONAL = {"unit_lot_state": "EXCEPTIONAL_RELEASE", "unit_exceptional_patient_id": PATIENT}


def test_the_safe_baseline_is_go():
    verdict = check(SAFE)
    assert verdict.go and verdict.reasons == () and not verdict.needs_acknowledgement
    assert (verdict.codes, verdict.notes, verdict.thaw_next) == ((), (), False)


UNSAFE: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "forged label",
        {"label_accepted": False, "label_reason": "the signature does not match"},
        "not_genuine",
        "not genuine: the signature does not match",
    ),
    ("unreadable label", {"label_accepted": False}, "not_genuine", "not genuine: unreadable"),
    (
        "mistyped check character",
        {"label_accepted": False, "label_problem": CHECK_MISMATCH},
        "check_mismatch",
        "check character does not match — re-scan or re-type",
    ),
    (
        "typed DIN without its check character",
        {"label_accepted": False, "label_problem": CHECK_MISSING},
        "check_missing",
        "needs its check character",
    ),
    ("unknown unit", {"unit": None}, "unknown_unit", "No unit A999925000001 is known"),
    ("unknown patient", {"patient_id": None}, "patient_unknown", "wristband does not match"),
    ("quarantined lot", {"unit_lot_state": "QUARANTINE"}, "not_released", "is QUARANTINE"),
    ("lot on hold", {"unit_lot_state": "ON_HOLD"}, "on_hold", "CFM-2025-0001 is ON HOLD"),
    ("rejected lot", {"unit_lot_state": "REJECTED"}, "not_released", "is REJECTED"),
    ("recalled lot", {"unit_lot_state": "RECALLED"}, "recalled", "has been RECALLED"),
    ("lot state unknown", {"unit_lot_state": ""}, "not_released", "in an unknown state"),
    (
        "exceptional release not acknowledged",
        EXCEPTIONAL,
        "acknowledge_exceptional",
        "must acknowledge the exceptional release",
    ),
    (
        "exceptional release for another patient",
        {**EXCEPTIONAL, "unit_exceptional_patient_id": 99, "exceptional_acknowledged": True},
        "exceptional_other_patient",
        "released by exception for another patient only",
    ),
    (
        "exceptional release naming no patient record",
        {**EXCEPTIONAL, "unit_exceptional_patient_id": None, "exceptional_acknowledged": True},
        "exceptional_no_patient",
        "without a patient record",
    ),
    (
        "exceptional release not yet accepted by the physician",
        {
            **EXCEPTIONAL,
            "unit_exceptional_problems": ("the treating physician has not accepted ER-2026-001",),
            "exceptional_acknowledged": True,
        },
        "exceptional_conditions",
        "has not accepted ER-2026-001",
    ),
    (
        "expired yesterday",
        {"unit_expires_on": NOW.date() - dt.timedelta(days=1)},
        "expired",
        "expired at the end of 2026-03-13 (Asia/Shanghai)",
    ),
    ("expiry unknown", {"unit_expires_on": None}, "expired", "expiry date is unknown"),
    ("destroyed", {"unit_unit_state": "destroyed"}, "destroyed", "destroyed"),
    ("missing", {"unit_unit_state": "missing"}, "missing", "cold chain is unknown"),
    ("already infused", {"unit_unit_state": "infused"}, "infused", "infused already"),
    ("in transit", {"in_transit": True, "received_at_site": False}, "in_transit", "in transit"),
    ("not received here", {"received_at_site": False}, "not_received", "not been received at"),
    (
        "received at another site",
        {"received_at_site": False, "received_elsewhere": True},
        "elsewhere",
        "at another site",
    ),
    (
        "allocated to another",
        {"allocated_to_patient": False, "allocated_to_other": True},
        "allocated_other",
        "allocated to another patient",
    ),
    ("not allocated", {"allocated_to_patient": False}, "not_allocated", "not allocated to this"),
    ("unconsented", {"patient_consented": False}, "no_consent", "informed consent is not"),
    (
        "ineligible",
        {"patient_eligible": False, "eligibility_problems": ("exclusion applies: Pregnancy",)},
        "not_eligible",
        "not eligible: exclusion applies: Pregnancy",
    ),
    ("eligibility unassessed", {"patient_eligible": False}, "not_eligible", "checklist is"),
    ("no prescription", {"prescribed_cells": None}, "no_prescription", "No prescription"),
    ("zero prescription", {"prescribed_cells": 0}, "no_prescription", "No prescription"),
    # 50 kg: the first bag, given whole, is 72×10^6 (+44 %) before this one.
    (
        "over with the bag before",
        {"prescribed_cells": 50_000_000, "dose_containers": (bag(key="OTHER"), bag())},
        "over_dose",
        "already come to 72,000,000 cells",
    ),
    # 100×10^6 prescribed, one 72×10^6 bag: −28 %.
    ("under the dose", {"prescribed_cells": 100_000_000}, "under_dose", "below the prescribed"),
    # The bag before gave 72×10^6 of 70×10^6: this one is one too many.
    (
        "not needed",
        {"dose_containers": (bag(key="OTHER", given_ml=Decimal("18.00")), bag())},
        "container_not_needed",
        "not needed",
    ),
    # 1×10^6 at 4×10^6 cells/mL: 0.3 mL is +20 %, 0.2 mL −20 %.
    (
        "no drawable volume",
        {"prescribed_cells": 1_000_000, "weight_kg": Decimal(1)},
        "no_drawable_volume",
        "0.1 mL steps",
    ),
    # 18 mL × 20 EU/mL / 70 kg = 5.14 EU/kg > 5.
    (
        "endotoxin over",
        {"dose_containers": (bag(eu=Decimal(20)),)},
        "endotoxin_over_limit",
        "5.14 EU/kg",
    ),
    ("endotoxin unknown", {"dose_containers": (bag(eu=None),)}, "endotoxin_unknown", "endotoxin"),
    (
        "unit not in the prescription",
        {"dose_containers": (bag(key="OTHER"),)},
        "dose_unknown",
        "not among",
    ),
    ("thaw missing", {"thawed_at": None}, "not_thawed", "thaw time is not recorded"),
    ("thaw in the future", {"thawed_at": NOW + 2 * MIN}, "thaw_in_future", "in the future"),
    (
        "thaw a second too old",
        {"thawed_at": NOW - 60 * MIN - dt.timedelta(seconds=1)},
        "post_thaw_expired",
        "thawed 60 minutes ago; it must be infused within 60 minutes",
    ),
    ("thaw hours ago", {"thawed_at": NOW - 300 * MIN}, "post_thaw_expired", "300 minutes ago"),
    ("no window in spec", {"post_thaw_minutes": None}, "no_window", "no post-thaw use window"),
]


@pytest.mark.parametrize("change, code, words", [c[1:] for c in UNSAFE], ids=[c[0] for c in UNSAFE])
def test_each_unsafe_fact_alone_is_no_go_naming_it(change, code, words):
    verdict = check(made(**change))
    assert not verdict.go
    assert verdict.codes == (code,), verdict.reasons
    assert words in verdict.reasons[0], verdict.reasons
    assert verdict.needs_acknowledgement == (code == "acknowledge_exceptional")
    assert verdict.thaw_next == (code == "not_thawed")


SAFE_EDGES: list[tuple[str, dict[str, Any]]] = [
    (
        "exceptional release for this patient, acknowledged",
        {**EXCEPTIONAL, "exceptional_acknowledged": True},
    ),
    ("expiring today", {"unit_expires_on": NOW.date()}),
    ("exactly at +10 %, whole", {"dose_containers": (bag(77_000_000),)}),
    ("exactly at −10 %, whole", {"dose_containers": (bag(63_000_000),)}),
    (
        "with the bag before, whole",
        {
            "prescribed_cells": 140_000_000,
            "dose_containers": (bag(key="OTHER", given_ml=Decimal("18.00")), bag()),
        },
    ),
    ("a partial draw", {"prescribed_cells": 65_000_000, "weight_kg": Decimal(65)}),
    ("thawed exactly at the window", {"thawed_at": NOW - 60 * MIN}),
    ("thawed this instant", {"thawed_at": NOW}),
    ("clock a minute ahead", {"thawed_at": NOW + MIN}),
    (
        "a wider tolerance",
        {"dose_tolerance": Decimal("0.20"), "dose_containers": (bag(84_000_000),)},
    ),
]


@pytest.mark.parametrize("change", [c for _n, c in SAFE_EDGES], ids=[n for n, _c in SAFE_EDGES])
def test_the_limits_themselves_are_still_go(change):
    verdict = check(made(**change))
    assert verdict.go and verdict.reasons == () and not verdict.needs_acknowledgement


def at_site(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), ZoneInfo(ZONE)).astimezone(dt.UTC)


def test_expiry_is_judged_by_the_sites_calendar_not_the_utc_date():
    """Hole 4: the label says "2026-03-14 (Asia/Shanghai)"; at 00:00 on the 15th there, UTC is
    still the 14th (16:00), and the unit has expired all the same."""
    expiry = dt.date(2026, 3, 14)
    last_minute = at_site(expiry, 23, 59)
    midnight = at_site(expiry + dt.timedelta(days=1), 0, 0)
    assert midnight.date() == expiry  # the UTC date is still the expiry date
    for moment, go in ((last_minute, True), (midnight, False)):
        facts = made(unit_expires_on=expiry, now=moment, thawed_at=moment - 5 * MIN)
        verdict = check(facts)
        assert verdict.go == go, (moment, verdict.reasons)
    assert check(made(unit_expires_on=expiry, now=midnight, thawed_at=midnight)).codes == (
        "expired",
    )


def test_an_exceptional_lot_is_acknowledged_only_by_its_named_patient_with_nothing_else_left():
    """Hole 1 at the bedside: for another patient it is NO-GO and no box is offered, even with the
    acknowledgement sent; for the named patient the box comes only when nothing else blocks."""
    for acknowledged in (False, True):
        other = check(made(**EXCEPTIONAL, patient_id=8, exceptional_acknowledged=acknowledged))
        assert not other.go and not other.needs_acknowledgement
        assert other.codes[0] == "exceptional_other_patient"
        assert "acknowledge_exceptional" not in other.codes
    named = check(made(**EXCEPTIONAL))
    assert (named.go, named.needs_acknowledgement) == (False, True)
    with_more = check(made(**EXCEPTIONAL, thawed_at=None))
    assert not with_more.needs_acknowledgement
    assert with_more.codes == ("acknowledge_exceptional", "not_thawed") and with_more.thaw_next
    unknown = check(made(**EXCEPTIONAL, patient_id=None, exceptional_acknowledged=True))
    assert not unknown.go and not unknown.needs_acknowledgement
    held = check(made(**EXCEPTIONAL, unit_exceptional_problems=("the sponsor was not told",)))
    assert not held.needs_acknowledgement and held.codes[0] == "exceptional_conditions"


def test_a_barcode_or_typed_din_is_read_with_a_note_never_a_reason():
    for source, words in ((BARCODE, "a bar code scan does not prove"), (TYPED, "a typed DIN")):
        verdict = check(made(label_source=source))
        assert verdict.go and verdict.reasons == ()
        assert len(verdict.notes) == 1 and words in verdict.notes[0]
        assert "scan the QR code for that" in verdict.notes[0]
        assert not check(made(label_source=source, unit_lot_state="RECALLED")).go
    assert check(SAFE).notes == ()


def test_a_mistyped_check_character_is_not_called_a_forgery():
    mistyped = check(made(label_accepted=False, label_problem=CHECK_MISMATCH, label_reason="x"))
    assert "not genuine" not in mistyped.reasons[0]
    forged = check(made(label_accepted=False, label_reason="the signature does not match"))
    assert forged.reasons[0].startswith("The label is not genuine")


def test_a_bar_code_whose_flags_contradict_its_din_says_why_and_what_to_do():
    why = parse_din("=G12341765432171").reason  # isbt128.md: G1234 17 654321 has flags 70
    verdict = check(made(label_accepted=False, label_problem=FLAG_MISMATCH, label_reason=why))
    assert (verdict.go, verdict.codes) == (False, ("flag_mismatch",))
    assert verdict.reasons[0].startswith(
        "The DIN bar code cannot be used: the flag characters 71 do not agree with DIN"
        " G1234 17 654321 (its type 3 flags are 70)"
    )
    assert "Scan the label's QR code" in verdict.reasons[0]
    assert dict(verdict.said[0][1])["why"].template == why.template  # said again, translated


def test_the_labels_other_bar_code_scanned_for_the_din_says_what_to_scan():
    why = "That is the label's expiry bar code (005), not its DIN"
    verdict = check(made(label_accepted=False, label_problem=OTHER_CODE, label_reason=why))
    assert (verdict.go, verdict.codes) == (False, ("other_code",))
    assert verdict.reasons[0] == f"{why}: scan the DIN bar code or the label's QR code."


def test_a_scanned_005_must_say_the_units_recorded_expiry():
    # isbt128.md 005: "&>cyyjjjhhmm" in the site's zone, 2359 when no time is given.
    assert SAFE.unit is not None and SAFE.unit.expires_on is not None
    day = SAFE.unit.expires_on
    same = parse_005(encode_005(day, ZONE), ZONE).local
    assert check(made(label_expiry=same)).go
    for label in (day + dt.timedelta(days=1), day - dt.timedelta(days=1)):  # later or earlier
        verdict = check(made(label_expiry=parse_005(encode_005(label, ZONE), ZONE).local))
        assert (verdict.go, verdict.codes) == (False, ("expiry_mismatch",))
        assert f"{label:%Y-%m-%d} 23:59" in verdict.reasons[0]
        assert f"recorded expiry {day:%Y-%m-%d} 23:59 (Asia/Shanghai)" in verdict.reasons[0]
    noon = dt.datetime.combine(day, dt.time(12), ZoneInfo(ZONE))  # a time the record never has
    assert check(made(label_expiry=noon)).codes == ("expiry_mismatch",)


def test_every_reason_is_given_at_once_the_most_serious_first():
    facts = made(
        unit_lot_state="RECALLED",
        unit_unit_state="destroyed",
        in_transit=True,
        received_at_site=False,
        patient_consented=False,
        thawed_at=None,
    )
    verdict = check(facts)
    assert verdict.codes == ("recalled", "destroyed", "no_consent", "in_transit", "not_thawed")
    assert verdict.reasons[0].startswith("Lot CFM-2025-0001 has been RECALLED")
    assert not verdict.thaw_next  # recording a thaw for a recalled unit would be wrong


# ---- in combination -----------------------------------------------------------------------

# The order of seriousness, written here for the test: recall, not genuine, hold, wrong
# patient, expiry, condition (destroyed, lost, used, elsewhere, unjudgeable), patient, steps.
RANK = {
    "recalled": 0,
    "not_genuine": 1,
    "check_mismatch": 1,
    "check_missing": 1,
    "flag_mismatch": 1,
    "expiry_mismatch": 1,
    "other_code": 1,
    "unknown_unit": 1,
    "on_hold": 2,
    "not_released": 2,
    "exceptional_conditions": 2,
    "exceptional_other_patient": 3,
    "exceptional_no_patient": 3,
    "allocated_other": 3,
    "expired": 4,
    "post_thaw_expired": 4,
    "destroyed": 5,
    "missing": 5,
    "infused": 5,
    "elsewhere": 5,
    "no_window": 5,
    "thaw_in_future": 5,
    "patient_unknown": 6,
    "no_consent": 6,
    "not_eligible": 6,
    "no_prescription": 6,
    "over_dose": 6,
    "under_dose": 6,
    "container_not_needed": 6,
    "no_drawable_volume": 6,
    "endotoxin_over_limit": 6,
    "endotoxin_unknown": 6,
    "bad_prescription": 6,
    "bad_container": 6,
    "no_containers": 6,
    "dose_unknown": 6,
    "in_transit": 7,
    "not_received": 7,
    "not_allocated": 7,
    "not_thawed": 7,
    "acknowledge_exceptional": 7,
}
# "patient" last: the exceptional-release cases name the scanned patient before it is unknown.
GROUPS = (
    "label",
    "unit",
    "lot",
    "expiry",
    "condition",
    "location",
    "allocation",
    "consent",
    "eligibility",
    "dose",
    "thaw",
    "patient",
)
aware = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)
text = st.text(max_size=30)


@st.composite
def safe_facts(draw: st.DrawFn) -> BedsideFacts:
    """Any GO case: every field drawn within what the rules accept."""
    now = draw(aware)
    zone = draw(
        st.sampled_from(["Asia/Shanghai", "UTC", "America/Los_Angeles", "Pacific/Kiritimati"])
    )
    window = draw(st.integers(1, 24 * 60))
    prescribed = draw(st.integers(10, 10**10))
    tolerance = draw(st.decimals(0, "0.5", places=2))
    low = int((Decimal(prescribed) * (1 - tolerance)).to_integral_value(rounding="ROUND_CEILING"))
    total = draw(st.integers(low, int(Decimal(prescribed) * (1 + tolerance))))
    # Given before, short of the dose: otherwise this unit would be one too many.
    before = draw(st.integers(0, min(total, prescribed) - 1))
    din = draw(text)
    ml = draw(st.decimals("0.1", "500", places=1))
    this = Container(din, total - before, ml, Decimal(0))
    given = Container(din + "-before", before, ml, Decimal(0), given_ml=ml)
    patient = draw(st.integers(1, 10**6))
    exceptional = draw(st.booleans())
    local_today = now.astimezone(ZoneInfo(zone)).date()
    return BedsideFacts(
        label_accepted=True,
        label_source=draw(st.sampled_from(["qr", BARCODE, TYPED])),
        din=din,
        unit=UnitFacts(
            din=draw(text),
            lot_number=draw(text),
            lot_state="EXCEPTIONAL_RELEASE" if exceptional else "RELEASED",
            expires_on=local_today + dt.timedelta(days=draw(st.integers(0, 3650))),
            unit_state=draw(st.sampled_from(["received", "thawed"])),
            exceptional_patient_id=patient if exceptional else None,
        ),
        zone=zone,
        exceptional_acknowledged=exceptional or draw(st.booleans()),
        received_at_site=True,
        patient_id=patient,
        allocated_to_patient=True,
        patient_consented=True,
        patient_eligible=True,
        eligibility_problems=draw(st.lists(text, max_size=3).map(tuple)),
        prescribed_cells=prescribed,
        dose_containers=(given, this) if before else (this,),
        weight_kg=draw(st.decimals("0.5", "300", places=2)),
        dose_tolerance=tolerance,
        thawed_at=now - dt.timedelta(seconds=draw(st.integers(-60, window * 60))),
        post_thaw_minutes=window,
        now=now,
    )


def unsafe(draw: st.DrawFn, f: BedsideFacts, group: str) -> tuple[dict[str, Any], str]:
    """One way, drawn at random, of making `group` unsafe on top of `f`, and the code it gives."""
    today = f.now.astimezone(ZoneInfo(f.zone)).date()
    window = f.post_thaw_minutes or 60
    other = (f.patient_id or 0) + 1
    options: dict[str, list[tuple[dict[str, Any], str]]] = {
        "label": [
            ({"label_accepted": False}, "not_genuine"),
            ({"label_accepted": False, "label_problem": CHECK_MISMATCH}, "check_mismatch"),
            ({"label_accepted": False, "label_problem": CHECK_MISSING}, "check_missing"),
        ],
        "unit": [({"unit": None}, "unknown_unit")],
        "patient": [({"patient_id": None}, "patient_unknown")],
        "lot": [
            ({"unit_lot_state": "RECALLED"}, "recalled"),
            ({"unit_lot_state": "ON_HOLD"}, "on_hold"),
            (
                {"unit_lot_state": draw(st.sampled_from(["QUARANTINE", "REJECTED", ""]))},
                "not_released",
            ),
            (
                {"unit_lot_state": "EXCEPTIONAL_RELEASE", "unit_exceptional_patient_id": other},
                "exceptional_other_patient",
            ),
            (
                {"unit_lot_state": "EXCEPTIONAL_RELEASE", "unit_exceptional_patient_id": None},
                "exceptional_no_patient",
            ),
            (
                {
                    "unit_lot_state": "EXCEPTIONAL_RELEASE",
                    "unit_exceptional_patient_id": f.patient_id,
                    "unit_exceptional_problems": ("the sponsor was not told",),
                },
                "exceptional_conditions",
            ),
            (
                {
                    "unit_lot_state": "EXCEPTIONAL_RELEASE",
                    "unit_exceptional_patient_id": f.patient_id,
                    "exceptional_acknowledged": False,
                },
                "acknowledge_exceptional",
            ),
        ],
        "expiry": [
            ({"unit_expires_on": today - dt.timedelta(days=draw(st.integers(1, 3650)))}, "expired"),
            ({"unit_expires_on": None}, "expired"),
        ],
        "condition": [
            ({"unit_unit_state": state}, state) for state in ("destroyed", "missing", "infused")
        ],
        "location": [
            ({"in_transit": True, "received_at_site": False}, "in_transit"),
            ({"received_at_site": False, "received_elsewhere": True}, "elsewhere"),
            ({"received_at_site": False}, "not_received"),
        ],
        "allocation": [
            ({"allocated_to_other": True, "allocated_to_patient": False}, "allocated_other"),
            ({"allocated_to_patient": False}, "not_allocated"),
        ],
        "consent": [({"patient_consented": False}, "no_consent")],
        "eligibility": [({"patient_eligible": False}, "not_eligible")],
        "dose": [
            ({"prescribed_cells": draw(st.sampled_from([None, 0, -5]))}, "no_prescription"),
            (
                {"dose_containers": tuple(replace(c, eu_per_ml=None) for c in f.dose_containers)},
                "endotoxin_unknown",
            ),
            (
                {
                    "dose_containers": tuple(
                        replace(c, key=c.key + "-other") if c.key == f.din else c
                        for c in f.dose_containers
                    )
                },
                "dose_unknown",
            ),
        ],
        "thaw": [
            ({"thawed_at": None}, "not_thawed"),
            ({"post_thaw_minutes": None}, "no_window"),
            (
                {"thawed_at": f.now + dt.timedelta(seconds=draw(st.integers(61, 10**6)))},
                "thaw_in_future",
            ),
            (
                {
                    "thawed_at": f.now
                    - dt.timedelta(seconds=window * 60 + draw(st.integers(1, 10**6)))
                },
                "post_thaw_expired",
            ),
        ],
    }
    return draw(st.sampled_from(options[group]))


@st.composite
def mixed_facts(draw: st.DrawFn) -> tuple[BedsideFacts, dict[str, str]]:
    """Safe facts with some groups made unsafe: the facts and, by group, the code expected."""
    f = draw(safe_facts())
    flagged = draw(st.frozensets(st.sampled_from(GROUPS)))
    expected: dict[str, str] = {}
    for group in GROUPS:
        if group in flagged:
            change, code = unsafe(draw, f, group)
            f = made(f, **change)
            expected[group] = code
    return f, expected


def oracle(expected: dict[str, str]) -> set[str]:
    """The codes the verdict must give for these unsafe groups, whatever else it adds."""
    if "label" in expected:  # nothing else can be known of a label not accepted
        return {expected["label"]}
    if "unit" in expected:
        return {"unknown_unit"}
    codes = set(expected.values())
    if "patient" in expected:
        # An unknown patient: no consent or eligibility to judge, no one to compare an
        # exceptional release's patient with (NO-GO all the same, for the wristband).
        codes -= {
            "no_consent",
            "not_eligible",
            "exceptional_other_patient",
            "acknowledge_exceptional",
        }
    return codes


@given(mixed_facts())
def test_go_iff_nothing_unsafe_every_unsafe_fact_named_and_the_most_serious_first(case):
    facts, expected = case
    verdict = check(facts)
    assert verdict.go == (not expected) == (not verdict.reasons)
    assert len(verdict.codes) == len(verdict.reasons)
    assert all(isinstance(r, str) and r.strip() for r in verdict.reasons)
    wanted = oracle(expected)
    assert wanted <= set(verdict.codes), (wanted, verdict.codes)
    ranks = [RANK[c] for c in verdict.codes]
    assert ranks == sorted(ranks), verdict.codes
    if wanted:
        assert ranks[0] == min(RANK[c] for c in wanted), (wanted, verdict.codes)
    asked = expected.get("lot") == "acknowledge_exceptional"
    assert verdict.needs_acknowledgement == (asked and set(expected) == {"lot"})
    if verdict.thaw_next:
        assert set(verdict.codes) <= {"not_thawed", "acknowledge_exceptional"}


RANDOM: dict[str, st.SearchStrategy[Any]] = {
    "label_accepted": st.booleans(),
    "label_reason": text,
    "label_problem": st.sampled_from(
        ["not_genuine", CHECK_MISMATCH, CHECK_MISSING, FLAG_MISMATCH, OTHER_CODE, ""]
    ),
    "label_source": st.sampled_from(["qr", BARCODE, TYPED, ""]),
    "unit_lot_state": st.sampled_from(list(LotState)) | text,
    # Up to 9000: domain/clock.expires_at overflows on date.max (left to its owner).
    "unit_expires_on": st.none() | st.dates(max_value=dt.date(9000, 1, 1)),
    "unit_unit_state": st.sampled_from(list(UnitState)) | text,
    "unit_exceptional_patient_id": st.none() | st.integers(0, 3),
    "unit_exceptional_problems": st.lists(text, max_size=2).map(tuple),
    "exceptional_acknowledged": st.booleans(),
    "received_at_site": st.booleans(),
    "received_elsewhere": st.booleans(),
    "in_transit": st.booleans(),
    "patient_id": st.none() | st.integers(0, 3),
    "allocated_to_patient": st.booleans(),
    "allocated_to_other": st.booleans(),
    "patient_consented": st.booleans(),
    "patient_eligible": st.booleans(),
    "prescribed_cells": st.none() | st.integers(-(10**12), 10**12),
    "weight_kg": st.decimals(-10, 500, allow_nan=False, places=2),
    "dose_containers": st.lists(
        st.builds(
            Container,
            st.sampled_from([DIN, "OTHER", ""]),
            st.integers(-(10**12), 10**12),
            st.decimals(-10, 10**4, allow_nan=False, places=2),
            st.none() | st.decimals(-1, 100, allow_nan=False, places=2),
            st.none() | st.decimals(-10, 10**4, allow_nan=False, places=2),
        ),
        max_size=3,
    ).map(tuple),
    "dose_tolerance": st.decimals(-1, 10, allow_nan=False, places=3),
    "thawed_at": st.none() | aware,
    "post_thaw_minutes": st.none() | st.integers(-(10**15), 10**15),
}


@st.composite
def any_facts(draw: st.DrawFn) -> BedsideFacts:
    """A GO case with some fields, each with one chance in six, set to anything of its type."""
    f = draw(safe_facts())
    f = made(f, **{k: draw(v) for k, v in RANDOM.items() if draw(st.integers(0, 5)) == 0})
    return replace(f, unit=None) if draw(st.integers(0, 9)) == 0 else f


@pytest.mark.parametrize("minutes, go", [(10**15, True), (0, False), (-60, False)])
def test_an_absurd_post_thaw_window_is_judged_not_raised(minutes, go):
    verdict = check(made(post_thaw_minutes=minutes))
    assert verdict.go == go and go == (not verdict.reasons)


@given(any_facts())
def test_any_facts_at_all_get_a_verdict_and_go_only_when_every_rule_holds(f):
    verdict = check(f)
    assert verdict.go == (not verdict.reasons)
    ranks = [RANK[c] for c in verdict.codes]
    assert ranks == sorted(ranks)
    if verdict.needs_acknowledgement:
        assert verdict.codes == ("acknowledge_exceptional",)
    if not verdict.go:
        return
    u = f.unit
    assert f.label_accepted and u is not None and f.patient_id is not None
    assert u.lot_state == "RELEASED" or (
        u.lot_state == "EXCEPTIONAL_RELEASE"
        and u.exceptional_patient_id == f.patient_id
        and f.exceptional_acknowledged
        and not u.exceptional_problems
    )
    assert u.expires_on is not None
    assert f.now.astimezone(ZoneInfo(f.zone)).date() <= u.expires_on
    assert u.unit_state not in ("destroyed", "missing", "infused")
    assert not (f.in_transit or f.allocated_to_other or f.received_elsewhere)
    assert f.received_at_site and f.allocated_to_patient
    assert f.patient_consented and f.patient_eligible
    assert f.prescribed_cells is not None and f.prescribed_cells > 0
    plan = dose_plan(f.prescribed_cells, f.dose_tolerance, f.weight_kg, f.dose_containers)
    assert plan.ok and plan.low <= plan.achieved_cells <= plan.high
    assert verdict.draw is not None and verdict.draw == plan.draw_for(f.din)
    assert f.thawed_at is not None and f.post_thaw_minutes is not None
    assert f.thawed_at <= f.now + dt.timedelta(minutes=1)
    assert (f.now - f.thawed_at).total_seconds() <= f.post_thaw_minutes * 60


@given(aware, st.integers(-2 * 3600, 2 * 3600), st.integers(-600, 600))
def test_an_infusion_starts_from_its_go_checks_minute_to_the_end_of_its_validity(
    scanned, offset, clock
):
    """Hole 7: never before the GO check (times are typed to the minute, so its own minute is
    after it), never more than 30 minutes after it, never in the future (5 minutes' slack)."""
    started = scanned + dt.timedelta(seconds=offset)
    now = started + dt.timedelta(seconds=clock)
    in_window = scanned.replace(second=0, microsecond=0) <= started <= scanned + 30 * MIN
    not_future = started <= now + 5 * MIN
    problem = start_problem(scanned, started, now)
    assert (problem == "") == (in_window and not_future), problem
