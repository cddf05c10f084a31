"""The bedside hard stop (domain/bedside.py): every unsafe fact alone gives NO-GO with a reason that
names it, and any mix of them (hypothesis) never gives GO nor raises."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lotrack.domain.bedside import BedsideFacts, check
from lotrack.domain.states import LotState

NOW = dt.datetime(2026, 3, 14, 2, 0, tzinfo=dt.UTC)  # 2 a.m., the nurse's hour
SAFE = BedsideFacts(
    label_genuine=True,
    unit_found=True,
    din="A9999250000014",
    lot_number="CFM-2025-0001",
    lot_state="RELEASED",
    lot_expires_on=NOW.date() + dt.timedelta(days=90),
    received_at_site=True,
    patient_found=True,
    patient_code="SZ-GIMI/P-001",
    allocated_to_patient=True,
    patient_consented=True,
    patient_eligible=True,
    prescribed_cells=100_000_000,
    unit_cells=72_000_000,
    thawed_at=NOW - dt.timedelta(minutes=20),
    post_thaw_minutes=60,
    now=NOW,
)


def test_the_safe_baseline_is_go():
    verdict = check(SAFE)
    assert verdict.go and verdict.reasons == () and not verdict.needs_acknowledgement


MIN = dt.timedelta(minutes=1)
UNSAFE: list[tuple[str, dict[str, Any], str]] = [
    (
        "forged label",
        {"label_genuine": False, "label_reason": "the signature does not match"},
        "not genuine: the signature does not match",
    ),
    ("altered label", {"label_genuine": False, "label_reason": "altered"}, "not genuine: altered"),
    ("unreadable label", {"label_genuine": False}, "not genuine: unreadable"),
    ("unknown unit", {"unit_found": False}, "No unit A9999250000014 is known"),
    ("unknown patient", {"patient_found": False}, "wristband does not match a patient"),
    ("quarantined lot", {"lot_state": "QUARANTINE"}, "CFM-2025-0001 is QUARANTINE"),
    ("lot on hold", {"lot_state": "ON_HOLD"}, "CFM-2025-0001 is ON HOLD"),
    ("rejected lot", {"lot_state": "REJECTED"}, "CFM-2025-0001 is REJECTED"),
    ("recalled lot", {"lot_state": "RECALLED"}, "CFM-2025-0001 has been RECALLED"),
    ("lot state unknown", {"lot_state": ""}, "in an unknown state"),
    (
        "exceptional release not acknowledged",
        {"lot_state": "EXCEPTIONAL_RELEASE"},
        "must acknowledge the exceptional release",
    ),
    (
        "expired yesterday",
        {"lot_expires_on": NOW.date() - dt.timedelta(days=1)},
        "expired on 2026-03-13",
    ),
    ("expiry unknown", {"lot_expires_on": None}, "expiry date is unknown"),
    ("destroyed", {"unit_destroyed": True}, "destroyed"),
    ("already infused", {"already_infused": True}, "infused already"),
    ("in transit", {"in_transit": True, "received_at_site": False}, "still in transit"),
    ("not received here", {"received_at_site": False}, "not been received at this site"),
    (
        "allocated to another",
        {"allocated_to_patient": False, "allocated_to_other": True},
        "allocated to another patient",
    ),
    ("not allocated", {"allocated_to_patient": False}, "not allocated to this patient"),
    ("unconsented", {"patient_consented": False}, "informed consent is not recorded"),
    (
        "ineligible",
        {"patient_eligible": False, "eligibility_problems": ("exclusion applies: Pregnancy",)},
        "not eligible: exclusion applies: Pregnancy",
    ),
    ("eligibility unassessed", {"patient_eligible": False}, "checklist is incomplete"),
    ("no prescription", {"prescribed_cells": None}, "No prescription"),
    ("zero prescription", {"prescribed_cells": 0}, "No prescription"),
    ("one cell over +10 %", {"unit_cells": 110_000_001}, "above the prescribed 100,000,000"),
    (
        "over with earlier units",
        {"cells_given_before": 40_000_000, "unit_cells": 72_000_000},
        "bring the dose to 112,000,000 cells",
    ),
    ("thaw missing", {"thawed_at": None}, "thaw time is not recorded"),
    ("thaw in the future", {"thawed_at": NOW + 2 * MIN}, "thaw time is in the future"),
    (
        "thaw a second too old",
        {"thawed_at": NOW - 60 * MIN - dt.timedelta(seconds=1)},
        "thawed 60 minutes ago; it must be infused within 60 minutes",
    ),
    ("thaw hours ago", {"thawed_at": NOW - 300 * MIN}, "thawed 300 minutes ago"),
    ("no window in spec", {"post_thaw_minutes": None}, "no post-thaw use window"),
]


@pytest.mark.parametrize(
    "change, reason", [(c, r) for _n, c, r in UNSAFE], ids=[n for n, *_ in UNSAFE]
)
def test_each_unsafe_fact_alone_is_no_go_naming_it(change, reason):
    verdict = check(replace(SAFE, **change))
    assert not verdict.go
    assert any(reason in r for r in verdict.reasons), verdict.reasons
    assert verdict.needs_acknowledgement == (change.get("lot_state") == "EXCEPTIONAL_RELEASE")


SAFE_EDGES: list[tuple[str, dict[str, Any]]] = [
    (
        "exceptional release acknowledged",
        {"lot_state": "EXCEPTIONAL_RELEASE", "exceptional_acknowledged": True},
    ),
    ("expiring today", {"lot_expires_on": NOW.date()}),
    ("exactly at +10 %", {"unit_cells": 110_000_000}),
    (
        "exactly at +10 % with earlier units",
        {"cells_given_before": 38_000_000, "unit_cells": 72_000_000},
    ),
    ("thawed exactly at the window", {"thawed_at": NOW - 60 * MIN}),
    ("thawed this instant", {"thawed_at": NOW}),
    ("clock a minute ahead", {"thawed_at": NOW + MIN}),
    ("a wider tolerance", {"dose_tolerance": Decimal("0.20"), "unit_cells": 120_000_000}),
]


@pytest.mark.parametrize("change", [c for _n, c in SAFE_EDGES], ids=[n for n, _c in SAFE_EDGES])
def test_the_limits_themselves_are_still_go(change):
    verdict = check(replace(SAFE, **change))
    assert verdict.go and verdict.reasons == () and not verdict.needs_acknowledgement


def test_a_forged_label_says_nothing_else_and_never_needs_an_acknowledgement():
    facts = replace(SAFE, label_genuine=False, lot_state="EXCEPTIONAL_RELEASE", unit_found=False)
    verdict = check(facts)
    assert (verdict.go, len(verdict.reasons), verdict.needs_acknowledgement) == (False, 1, False)
    assert "Do not use it" in verdict.reasons[0]


def test_every_reason_is_given_at_once():
    facts = replace(
        SAFE,
        lot_state="RECALLED",
        unit_destroyed=True,
        in_transit=True,
        received_at_site=False,
        patient_consented=False,
        thawed_at=None,
    )
    reasons = check(facts).reasons
    assert len(reasons) == 5
    assert [r.split()[0] for r in reasons] == ["Lot", "The", "The", "The", "The"]


# ---- in combination -----------------------------------------------------------------------

# Each unsafe condition, by group: conditions of one group share one sentence; a forged label or
# an unknown unit stops the check at once; consent and eligibility are judged for a known patient.
GROUP_WORDS = {
    "label": ("label is not genuine",),
    "unit": ("is known to lotrack",),
    "patient": ("wristband does not match",),
    "lot": ("has been RECALLED", "is ON HOLD", "only a released lot", "released by exception"),
    "expiry": ("The unit expired on", "expiry date is unknown"),
    "destroyed": ("recorded as destroyed",),
    "infused": ("infused already",),
    "location": ("still in transit", "not been received at this site"),
    "allocation": ("allocated to another patient", "not allocated to this patient"),
    "consent": ("informed consent is not recorded",),
    "eligibility": ("patient is not eligible",),
    "dose": ("No prescription with a dose", "above the prescribed"),
    "thaw": (
        "thaw time is not",
        "no post-thaw use window",
        "thaw time is in the future",
        "must be infused within",
    ),
}
GROUPS = sorted(GROUP_WORDS)
aware = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)
text = st.text(max_size=30)


@st.composite
def safe_facts(draw: st.DrawFn) -> BedsideFacts:
    """Any GO case: every field drawn within what the rules accept."""
    now = draw(aware)
    window = draw(st.integers(1, 24 * 60))
    prescribed = draw(st.integers(1, 10**10))
    tolerance = draw(st.decimals(0, "0.5", places=2))
    total = draw(st.integers(1, int(Decimal(prescribed) * (1 + tolerance))))
    before = draw(st.integers(0, total - 1))
    return BedsideFacts(
        label_genuine=True,
        label_reason=draw(text),
        unit_found=True,
        din=draw(text),
        lot_number=draw(text),
        lot_state=draw(st.sampled_from(["RELEASED", "EXCEPTIONAL_RELEASE"])),
        lot_expires_on=now.date() + dt.timedelta(days=draw(st.integers(0, 3650))),
        exceptional_acknowledged=True,
        received_at_site=True,
        patient_found=True,
        patient_code=draw(text),
        allocated_to_patient=True,
        patient_consented=True,
        patient_eligible=True,
        eligibility_problems=draw(st.lists(text, max_size=3).map(tuple)),
        prescribed_cells=prescribed,
        cells_given_before=before,
        unit_cells=total - before,
        dose_tolerance=tolerance,
        thawed_at=now - dt.timedelta(seconds=draw(st.integers(-60, window * 60))),
        post_thaw_minutes=window,
        now=now,
    )


def unsafe(draw: st.DrawFn, f: BedsideFacts, group: str) -> dict[str, Any]:
    """One way, drawn at random, of making `group` unsafe on top of the facts `f`."""
    today = f.now.date()
    ceiling = int(Decimal(f.prescribed_cells or 0) * (1 + f.dose_tolerance))
    window = f.post_thaw_minutes or 60
    options: dict[str, list[dict[str, Any]]] = {
        "label": [{"label_genuine": False}],
        "unit": [{"unit_found": False}],
        "patient": [{"patient_found": False}],
        "lot": [
            {
                "lot_state": draw(
                    st.sampled_from([*LotState, "", "SHIPPED"]).filter(
                        lambda s: s not in ("RELEASED", "EXCEPTIONAL_RELEASE")
                    )
                )
            },
            {"lot_state": "EXCEPTIONAL_RELEASE", "exceptional_acknowledged": False},
        ],
        "expiry": [
            {"lot_expires_on": today - dt.timedelta(days=draw(st.integers(1, 3650)))},
            {"lot_expires_on": None},
        ],
        "destroyed": [{"unit_destroyed": True}],
        "infused": [{"already_infused": True}],
        "location": [
            {"in_transit": True, "received_at_site": draw(st.booleans())},
            {"received_at_site": False},
        ],
        "allocation": [
            {"allocated_to_other": True, "allocated_to_patient": draw(st.booleans())},
            {"allocated_to_patient": False},
        ],
        "consent": [{"patient_consented": False}],
        "eligibility": [{"patient_eligible": False}],
        "dose": [
            {"prescribed_cells": draw(st.sampled_from([None, 0, -5]))},
            {"cells_given_before": 0, "unit_cells": ceiling + draw(st.integers(1, 10**9))},
        ],
        "thaw": [
            {"thawed_at": None},
            {"post_thaw_minutes": None},
            {"thawed_at": f.now + dt.timedelta(seconds=draw(st.integers(61, 10**6)))},
            {"thawed_at": f.now - dt.timedelta(seconds=window * 60 + draw(st.integers(1, 10**6)))},
        ],
    }
    return draw(st.sampled_from(options[group]))


@st.composite
def mixed_facts(draw: st.DrawFn) -> tuple[BedsideFacts, frozenset[str]]:
    f = draw(safe_facts())
    flagged = draw(st.frozensets(st.sampled_from(GROUPS)))
    for group in sorted(flagged):
        f = replace(f, **unsafe(draw, f, group))
    return f, flagged


@given(mixed_facts())
def test_go_if_and_only_if_nothing_unsafe_and_every_unsafe_group_is_named(case):
    facts, flagged = case
    verdict = check(facts)
    assert verdict.go == (not flagged) == (not verdict.reasons)
    assert all(isinstance(r, str) and r.strip() for r in verdict.reasons)
    if "label" in flagged or "unit" in flagged:  # nothing else can be known about the unit
        expected = {"label"} if "label" in flagged else {"unit"}
    elif "patient" in flagged:  # an unknown patient has no consent or eligibility to judge
        expected = flagged - {"consent", "eligibility"}
    else:
        expected = set(flagged)
    assert len(verdict.reasons) >= len(expected)
    for group in expected:
        named = any(w in r for w in GROUP_WORDS[group] for r in verdict.reasons)
        assert named, (group, verdict.reasons)
    exceptional = facts.lot_state == "EXCEPTIONAL_RELEASE" and not facts.exceptional_acknowledged
    assert verdict.needs_acknowledgement == (exceptional and not expected & {"label", "unit"})


RANDOM: dict[str, st.SearchStrategy[Any]] = {
    "label_genuine": st.booleans(),
    "label_reason": text,
    "unit_found": st.booleans(),
    "din": text,
    "lot_state": st.sampled_from(list(LotState)) | text,
    "lot_expires_on": st.none() | st.dates(),
    "exceptional_acknowledged": st.booleans(),
    "unit_destroyed": st.booleans(),
    "received_at_site": st.booleans(),
    "in_transit": st.booleans(),
    "already_infused": st.booleans(),
    "patient_found": st.booleans(),
    "allocated_to_patient": st.booleans(),
    "allocated_to_other": st.booleans(),
    "patient_consented": st.booleans(),
    "patient_eligible": st.booleans(),
    "prescribed_cells": st.none() | st.integers(-(10**12), 10**12),
    "cells_given_before": st.integers(-(10**12), 10**12),
    "unit_cells": st.integers(-(10**12), 10**12),
    "dose_tolerance": st.decimals(-1, 10, allow_nan=False, places=3),
    "thawed_at": st.none() | aware,
    "post_thaw_minutes": st.none() | st.integers(-(10**15), 10**15),
}


@st.composite
def any_facts(draw: st.DrawFn) -> BedsideFacts:
    """A GO case with some fields, each with one chance in six, set to anything of its type."""
    f = draw(safe_facts())
    return replace(f, **{k: draw(v) for k, v in RANDOM.items() if draw(st.integers(0, 5)) == 0})


@pytest.mark.parametrize("minutes, go", [(10**15, True), (0, False), (-60, False)])
def test_an_absurd_post_thaw_window_is_judged_not_raised(minutes, go):
    verdict = check(replace(SAFE, post_thaw_minutes=minutes))
    assert verdict.go == go and go == (not verdict.reasons)


@given(any_facts())
def test_any_facts_at_all_get_a_verdict_and_go_only_when_every_rule_holds(f):
    verdict = check(f)
    assert verdict.go == (not verdict.reasons)
    if verdict.go:
        assert f.label_genuine and f.unit_found and f.patient_found
        assert f.lot_state == "RELEASED" or (
            f.lot_state == "EXCEPTIONAL_RELEASE" and f.exceptional_acknowledged
        )
        assert f.lot_expires_on is not None and f.lot_expires_on >= f.now.date()
        assert not (f.unit_destroyed or f.already_infused or f.in_transit or f.allocated_to_other)
        assert f.received_at_site and f.allocated_to_patient
        assert f.patient_consented and f.patient_eligible
        assert f.prescribed_cells is not None and f.prescribed_cells > 0
        total = f.cells_given_before + f.unit_cells
        assert total <= f.prescribed_cells * (1 + f.dose_tolerance)
        assert f.thawed_at is not None and f.post_thaw_minutes is not None
        assert f.thawed_at <= f.now + dt.timedelta(minutes=1)
        assert (f.now - f.thawed_at).total_seconds() <= f.post_thaw_minutes * 60
