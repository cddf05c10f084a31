"""Proof (issue 13, item 10): a stateful hypothesis test that interleaves every write that can
change a unit's fitness and, after every step, holds the application's safety answers against an
oracle written independently (tests/safety_model.py).

Each example runs on a fresh copy of the demo database (tests/conftest.py) with its own app and its
own clock: every lotrack module's `utcnow` reads the machine's clock, and the bedside is asked at
that moment. The writes go through the services, as the demo users: tech enters results and tech2
verifies them; qa decides, investigates and signs; md signs exceptional releases; nurse (SZ-GIMI)
receives, thaws, scans and infuses with nurse2 as witness. A refusal (DomainError) rolls back and
leaves the oracle as it was; where the oracle knows a write must be refused (an unsafe release,
allocation, shipment, infusion, lifting of a hold) or must succeed, that is asserted as well.

Tracked: lots CFM-2025-0001 (released), -0002 (its sibling, sterility incubating), -0003 (failed
viability, OOS open) and -0004 (its sibling, past the passage limit); two or three units of each of
the first three; patients SZ-GIMI/SUBJ-001 (with a received bag of -0001), SUBJ-101 (a second bag
received for it at the start) and SUBJ-102.

After every step:
- every lot's state is the oracle's (lookback holds included) and its evaluation names the oracle's
  blockers (-0004, which has no tracked unit, in turn); QA's review and GET
  /api/v1/lots/<lot>/evaluation are read too for each lot the step changed, and one more in turn,
  and all three name the same blockers and agree on releasable;
- /v/ (token_verification.verify_token) reads the oracle's status of each tracked unit's lot;
- the bedside (bedside.run_check, the QR label's text scanned by nurse at the machine's clock)
  says GO for a tracked unit and patient exactly when the oracle does, so never GO when any rule
  fails: each unit is scanned for its own patient, the patient its lot's exceptional release
  names (also without the acknowledgement) and one other.

LOTRACK_SAFETY_EXAMPLES and LOTRACK_SAFETY_STEPS change the size of the run (CI keeps the defaults
and a fixed seed); LOTRACK_SAFETY_RANDOM=1 explores new examples on each run.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.safety_checks import OracleChecks
from tests.safety_harness import (
    CLOCK,
    EXAMPLES,
    L1,
    L3,
    STATS,
    STEPS,
    Env,
    MachineBase,
    set_clocks,
)
from tests.safety_rules_clinic import ClinicRules
from tests.safety_rules_lab import LabRules


class SafetyMachine(OracleChecks, ClinicRules, LabRules, MachineBase):
    """Every write that can change a unit's fitness, and the oracle's check after each."""


SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    derandomize=os.environ.get("LOTRACK_SAFETY_RANDOM") != "1",
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_no_unsafe_answer_in_any_sequence_of_writes(backend, demo_template, tmp_path, monkeypatch):
    """Every interleaving the machine tries keeps the bedside, the evaluation, the review, the
    API and /v/ in agreement with the oracle, and never gives a GO the oracle does not."""
    assert set_clocks(monkeypatch) > 10
    machine = type(
        "SafetyMachineOnThisDatabase",
        (SafetyMachine,),
        {"env": Env(backend, demo_template, tmp_path)},
    )
    STATS.clear()
    started = time.monotonic()
    try:
        run_state_machine_as_test(machine, settings=SETTINGS)
    finally:
        CLOCK.now = None
        print(f"\n{backend.name}: {time.monotonic() - started:.1f} s")
        for what, count in sorted(STATS.items()):
            print(f"  {count:5d}  {what}")


# ---- replays: the shortest sequences the machine found that disagree with the oracle ----------
# Each drives the machine by hand, step by step, checking every invariant after each step as
# hypothesis does; they fail while the application disagrees with the rules.


@pytest.fixture
def machine(backend, demo_template, tmp_path, monkeypatch) -> Any:
    set_clocks(monkeypatch)
    made = type("Replay", (SafetyMachine,), {"env": Env(backend, demo_template, tmp_path)})()
    made.agree_with_the_oracle()
    yield made
    made.teardown()


def test_replay_acceptance_before_the_second_approval_completes_the_release(machine):
    """The physician may accept a pending request (accept_release allows it); the approval
    signature that follows must still complete the exceptional release, not leave it stuck."""
    patient = machine.patients[2]
    assert machine.er_request(L3, patient)
    machine.agree_with_the_oracle()
    er = machine.oracle.pending_er(L3)
    assert machine.er_sign(er, "qa")
    machine.agree_with_the_oracle()
    assert machine.er_accept(er)
    machine.agree_with_the_oracle()
    assert machine.er_sign(er, "md")  # both approvals given: the lot is released by exception
    machine.agree_with_the_oracle()


def test_replay_verifying_a_result_of_a_released_lot_voids_its_release(machine):
    """A released lot may carry an unverified informational result; verifying it changes the
    record the release signature vouched for, so the release no longer stands: ON_HOLD."""
    o = machine.oracle
    bsa = next(r for r in o.lots[L1].results if r.test == "BSA" and not r.invalidated)
    machine.correct(L1, bsa, "fail")  # lookback: L1 ON_HOLD
    machine.agree_with_the_oracle()
    assert machine.qa("unhold", L1)  # an informational result blocks nothing: RELEASED
    machine.agree_with_the_oracle()
    new = o.latest(L1, "BSA")
    assert new is not None and not new.verified
    machine.verify(L1, new)  # the release signature is void now
    machine.agree_with_the_oracle()


def _deliverable(machine) -> tuple[str, str]:
    """A tracked unit still at the manufacturer and a patient it may be allocated to."""
    o = machine.oracle
    found = [
        (d, p)
        for d in machine.tracked
        for p in machine.patients
        if o.units[d].state == "stored" and o.allocation_allowed(d, p)
    ]
    assert found, "the demo leaves a unit to deliver"
    return found[0]


@pytest.mark.parametrize("outcome", ["released", "rejected"])
def test_replay_an_excursion_holds_the_unit_until_qa_decides(machine, outcome):
    """Issue 20 item 5: the unit of a shipment whose logger showed an excursion is NO-GO (and /v/
    reads ON HOLD) until QA releases it (GO again) or rejects it (destroyed)."""
    o = machine.oracle
    din, patient = _deliverable(machine)
    assert machine.allocate(din, patient) and machine.ship(din)
    machine.agree_with_the_oracle()
    assert machine.receive(o.units[din].shipment or "", True, "excursion")
    assert o.units[din].cold_chain_held and o.unit_status(din) == "ON HOLD"
    machine.agree_with_the_oracle()
    assert machine.thaw(din, 5)
    assert not o.go(din, patient, o.now, True)
    machine.agree_with_the_oracle()
    machine.decide_excursion(o.units[din].shipment or "", outcome)
    assert o.go(din, patient, o.now, True) == (outcome == "released")
    machine.agree_with_the_oracle()


def test_replay_a_clean_logger_holds_nothing(machine):
    o = machine.oracle
    din, patient = _deliverable(machine)
    assert machine.allocate(din, patient) and machine.ship(din)
    assert machine.receive(o.units[din].shipment or "", True, "clean")
    assert machine.thaw(din, 5) and o.go(din, patient, o.now, True)
    machine.agree_with_the_oracle()
