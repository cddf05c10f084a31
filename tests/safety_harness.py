"""The safety state machine's plumbing: one clock for every lotrack module, a fresh demo
database per example, and the oracle's starting facts read from it (the machine itself:
tests/test_safety_state_machine.py)."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import pkgutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import (
    RuleBasedStateMachine,
)
from sqlalchemy import select

import lotrack
import lotrack.db
from lotrack.domain.errors import DomainError
from lotrack.models import (
    ApiToken,
    CellBank,
    Deviation,
    Investigation,
    Prescription,
)
from lotrack.services import (
    api_tokens,
    donor,
    result,
)
from lotrack.services import lot as lots
from lotrack.services.release import Lockout
from tests import safety_model as m
from tests.clinical_setup import READY, enrol
from tests.conftest import PASSWORDS, _app, user

L1, L2, L3, L4 = "CFM-2025-0001", "CFM-2025-0002", "CFM-2025-0003", "CFM-2025-0004"
LOTS = (L1, L2, L3, L4)
RUNS = ("RUN-2025-01", "RUN-2025-05")
BANKS = (m.MCB, "WCB-001-A", "WCB-001-B")
# Consented, eligible, 1x10^6 cells/kg: SUBJ-101 at 70 kg (a 72x10^6 bag whole is +2.9 %),
# SUBJ-102 at 65 kg (a whole bag is +10.8 %: 16.3 mL is drawn from it).
NEW_PATIENTS = (("SUBJ-101", "70.00"), ("SUBJ-102", "65.00"))
LOCKOUT = Lockout(max_failures=5, lockout_minutes=15)
MEANING = {
    "release": "approved for release",
    "unhold": "hold lifted",
    "hold": "placed on hold",
    "recall": "recalled",
    "qa": "exceptional release approved (QA)",
    "md": "exceptional release approved (medical director)",
}
# A witness who signs (nurse2 with her password), one whose password is wrong, and the operator
# witnessing herself: only the first may record an infusion.
WITNESSES = {
    "nurse2": ("nurse2", PASSWORDS["nurse2"], True),
    "wrong password": ("nurse2", "not-her-password", False),
    "self": ("nurse", PASSWORDS["nurse"], False),
}
EXAMPLES = int(os.environ.get("LOTRACK_SAFETY_EXAMPLES", "10"))
STEPS = int(os.environ.get("LOTRACK_SAFETY_STEPS", "25"))


class Clock:
    """The one clock every lotrack module reads in this test (None: the real one)."""

    now: dt.datetime | None = None

    def utcnow(self) -> dt.datetime:
        return self.now if self.now is not None else dt.datetime.now(dt.UTC)


CLOCK = Clock()
STATS: Counter[str] = Counter()  # what the run did, printed at its end (pytest -s shows it)


def note(what: str) -> None:
    if currently_in_test_context():  # not when a replay below drives the machine by hand
        event(what)
    STATS[what] += 1


def _load_all_lotrack_modules() -> None:
    """Import every lotrack module now, so that none imports `utcnow` after the clock is set."""
    for info in pkgutil.walk_packages(lotrack.__path__, "lotrack."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)


def set_clocks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Point every loaded lotrack module that imported `utcnow` from lotrack.db at CLOCK."""
    _load_all_lotrack_modules()
    original = lotrack.db.utcnow
    patched = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("lotrack") and getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", CLOCK.utcnow)
            patched += 1
    return patched


def key_of(kind: str, subject: str) -> m.Key:
    """An application blocker as the oracle names it (its kinds of "incomplete", a run flag)."""
    if kind in ("missing", "pending", "unverified"):
        return (m.INCOMPLETE, subject)
    if kind in ("passage", "in-process"):
        return ("run", "*")
    return (kind, subject)


@dataclass
class Env:
    backend: Any
    template: str
    tmp: Path


@dataclass
class ScanMade:
    id: int
    seen: m.Scan


class MachineBase(RuleBasedStateMachine):
    env: Env  # set on the subclass the test builds
    examples = 0

    def __init__(self) -> None:
        super().__init__()
        MachineBase.examples += 1
        STATS["examples"] += 1
        CLOCK.now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        self._app_gen = _app(
            self.env.backend, self.env.template, self.env.tmp / f"e{MachineBase.examples}"
        )
        self.app = next(self._app_gen)
        self.key = self.app.extensions["lotrack_signing_key"]
        self.client = self.app.test_client()
        self.scans: list[ScanMade] = []
        self.patients = [READY] + [enrol(self.app, code, weight=kg) for code, kg in NEW_PATIENTS]
        with self.session() as s:
            self.token = api_tokens.create_token(s, None, user(s, "qa"))
            # The oracle's own reading glass outlives every jump of the clock (years, to the
            # end of a lot's shelf life): its token expires long after, unlike a site's.
            s.scalars(select(ApiToken)).one().expires_at = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)
            s.commit()
            self.oracle = self._observe(s)
        self.tracked = list(self.oracle.units)
        # A second unit of the released lot waits at SZ-GIMI for SUBJ-101, not thawed yet.
        first = self.tracked[0]
        assert self.allocate(first, self.patients[1]) and self.ship(first)
        assert self.receive(self.oracle.units[first].shipment or "", arrived=True)
        self.checks = 0
        self.last_seen: dict[str, tuple] = {}

    def teardown(self) -> None:
        next(self._app_gen, None)  # disposes the engine and drops the database
        CLOCK.now = None

    # ---- plumbing ----------------------------------------------------------------------------

    def session(self):
        return self.app.extensions["lotrack_db"].sessionmaker()

    def run(self, name: str, write: Any) -> tuple[bool, Any]:
        """One transaction through the services: committed, or rolled back on a refusal."""
        with self.session() as s:
            try:
                value = write(s)
                s.commit()
            except DomainError as refused:
                s.rollback()
                note(f"{name}: refused")
                return False, refused
        note(f"{name}: done")
        return True, value

    def expect(self, name: str, ok: bool, got: Any, allowed: bool, why: str = "") -> None:
        """A write the oracle decides: done exactly when it allows it."""
        if ok and not allowed:
            raise AssertionError(f"{name} was done; the oracle refuses it: {why}")
        if not ok and allowed:
            raise AssertionError(f"{name} was refused; the oracle allows it: {got}")

    def today(self) -> dt.date:
        return self.oracle.now.astimezone(m.ZONE).date()

    @staticmethod
    def pick(data: st.DataObject, likely: list, anything: list, label: str) -> Any:
        """Mostly a choice that may succeed; sometimes any choice (to be refused)."""
        pool = likely if likely and data.draw(st.integers(0, 4), label="any?") else anything
        return data.draw(st.sampled_from(pool), label=label)

    def _observe(self, s) -> m.Oracle:
        """The oracle's starting facts, read from the fresh demo database."""
        o = m.Oracle(now=CLOCK.utcnow())
        o.donor = donor.get_donor(s, m.DONOR).determination
        o.banks = {b.code: b.qualification for b in s.scalars(select(CellBank))}
        for number in LOTS:
            lot = lots.get_lot(s, number)
            results = [
                m.Res(
                    r.id,
                    r.test_code,
                    "pending"
                    if r.value == "pending"
                    else "fail"
                    if (number, r.test_code) in m.SEED_FAILING
                    else "pass",
                    r.verified_at is not None,
                    r.invalidated_at is not None,
                )
                for r in result.results_of(s, lot)
            ]
            o.lots[number] = m.Lot(
                number,
                lot.run.code,
                lot.run.bank.code,
                lot.expires_on,
                lot.harvested_on,
                lot.state,
                lot.held_from,
                results,
            )
        for inv in s.scalars(select(Investigation)):
            o.invs[inv.number] = m.Inv(
                inv.number, inv.lot.lot_number, inv.result_id, inv.result.test_code,
                inv.status == "open",
            )  # fmt: skip
        for dev in s.scalars(select(Deviation)):
            o.devs[dev.number] = m.Dev(
                dev.number,
                dev.lot.lot_number if dev.lot else None,
                dev.run.code if dev.run else None,
                dev.status == "open",
            )
        o.lots[L1].signed = o.dossier(L1)  # the demo's release signature stands
        for rx in s.scalars(select(Prescription)):
            if rx.patient.wristband in self.patients:
                o.patients[rx.patient.wristband] = m.Patient(
                    rx.patient.wristband, cells_needed=rx.cells_needed, weight=rx.weight_kg
                )
        ready = {
            a.unit.din
            for rx in s.scalars(select(Prescription))
            for a in rx.allocations
            if rx.patient.wristband == READY
        }
        o.allocated = sorted(ready)
        for number, picks in ((L1, (0, 1)), (L2, (0, 1)), (L3, (0, 1))):
            units = sorted(lots.get_lot(s, number).units, key=lambda u: u.din)
            for u in [units[i] for i in picks] + [u for u in units if u.din in ready]:
                o.units[u.din] = m.Unit(
                    u.din, number, u.cells, u.state, READY if u.din in ready else None,
                    volume=u.volume_ml,
                )  # fmt: skip
        return o

    def settle(self) -> None:
        for number in self.oracle.settle():
            note(f"lookback holds {number}")
