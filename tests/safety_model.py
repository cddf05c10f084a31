"""The oracle of tests/test_safety_state_machine.py: its own model of the facts the machine made,
and the safety answers computed from the issue's rules (issue 13, DESIGN.md, DOMAIN.md) directly.

Nothing here calls lotrack: the rules below are written again, from the documents, so that the
state machine compares two independent answers. Each one, as the issue states it:

Releasable (DESIGN.md "Data rules"; issue 13 item 1): every required test of the release
specification has a valid (not invalidated) latest result that passes (an alert level passes) and
is verified; no OOS investigation is open on the lot or on a sibling lot (same run or same working
cell bank); no deviation is open on the lot or on its run; the run kept its passage limits; the WCB
and its MCB are qualified; the donor was determined eligible.

Lookback (item 2): a RELEASED lot whose release no longer stands (it is not releasable, or the
record its release signature vouched for changed, which voids that signature) is ON_HOLD at once;
an EXCEPTIONALLY released lot is ON_HOLD as soon as it has a blocker its request did not name (a
test the request named as missing, pending or unverified may complete). QA lifts a hold only by a
new decision the lot meets: back to RELEASED only if releasable, back to EXCEPTIONAL_RELEASE only
if every blocker is one the release accepted, back to QUARANTINE always.

A unit may go on (be allocated, shipped; item 3, 4): its lot is RELEASED, or EXCEPTIONALLY released
for this very patient with the treating physician's acceptance signed and the sponsor told; it is
not past the end of its expiry date in the facility's zone (Asia/Shanghai); it is not missing,
infused or destroyed; and its shipment's temperature logger, when one was attached at receipt,
showed no excursion, or QA released the units after it (issue 20 item 5; rejected: destroyed).

GO at the bedside (items 3, 5; DOMAIN.md): the unit may go on to the scanned patient, who is
consented and eligible; for an exceptional release the physician acknowledged it at the scan; the
unit was received at this site and is allocated to this patient; the dose stays within the
prescription's tolerance; its thaw is recorded, not in the future, and at most the release
specification's post-thaw window (60 minutes) ago.

The dose (issue 17 item 3): the containers allocated to a patient, in allocation order, are given
whole but the last not yet infused, from which a volume in 0.1 mL steps may be drawn; those
infused count at the volume given. A dose can be given when some such choice lands within the
prescription's ±10 % and the endotoxin (volume × EU/mL ÷ kg) is at most 5 EU/kg (USP <85>).
Written here as a search over every drawable step, not as the rule's rounding.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")  # the facility's zone: expiry dates end at its midnight
POST_THAW = dt.timedelta(minutes=60)  # specs/cfmsc-release.toml post_thaw_use_minutes
THAW_CLOCK_SLACK = dt.timedelta(minutes=1)  # a thaw time this far ahead is still "not future"
GO_VALID_FOR = dt.timedelta(minutes=30)  # an infusion starts within this of its GO scan
TOLERANCE = Decimal("0.10")  # a prescription's dose tolerance, ±
STEP = Decimal("0.1")  # what a nurse draws, mL
ENDOTOXIN_LIMIT = Decimal(5)  # EU/kg, USP <85> K for intravenous use
# The demo lots' endotoxin (seed_quality: "<0.25" EU/mL, read as its bound); the machine never
# enters another, and a lot whose result is invalidated is held before any unit of it goes on.
EU_PER_ML = Decimal("0.25")

DONOR = "FD-0001"
MCB = "MCB-001"
SITE = "SZ-GIMI"

# The release specification's required tests (specs/cfmsc-release.toml); BSA is informational.
REQUIRED = frozenset(
    {
        "APPEARANCE", "VIAB", "CELLS", "CD105", "CD73", "CD90", "CD45", "CD34", "CD14-CD11B",
        "CD79A-CD19", "HLA-DR", "STERILITY", "MYCO", "ENDOTOXIN", "KARYOTYPE", "STR", "POTENCY",
        "TRILINEAGE",
    }
)  # fmt: skip
INFORMATIONAL = frozenset({"BSA"})

# What the machine enters: test -> outcome -> (value, unit). The outcome is the verdict, read off
# the specification by hand (VIAB: >= 80.0 %, alert below 85.0 %; CELLS 64.8-79.2; ...).
ENTRIES: dict[str, dict[str, tuple[str, str]]] = {
    "VIAB": {"pass": ("93.4", "%"), "alert": ("82.0", "%"), "fail": ("70.0", "%")},
    "CELLS": {"pass": ("72.3", "10^6 cells"), "fail": ("50.0", "10^6 cells")},
    "MYCO": {"pass": ("Negative", ""), "fail": ("Positive", "")},
    "STERILITY": {"pass": ("No growth", ""), "fail": ("Growth", ""), "pending": ("pending", "")},
    "BSA": {"pass": ("Not detected", ""), "fail": ("Detected", "")},
}
PASSING = frozenset({"pass", "alert"})
# The demo's seeded results pass, except what seed_quality.py documents: CFM-2025-0003 failed
# viability (78.9 %), and CFM-2025-0002's sterility is incubating ("pending").
SEED_FAILING = frozenset({("CFM-2025-0003", "VIAB")})
# The demo's run past its passage limit (seed.py: RUN-2025-03 reaches P11).
FLAGGED_RUNS = frozenset({"RUN-2025-03"})

RELEASED, EXCEPTIONAL, ON_HOLD = "RELEASED", "EXCEPTIONAL_RELEASE", "ON_HOLD"
QUARANTINE, RECALLED, REJECTED = "QUARANTINE", "RECALLED", "REJECTED"
USABLE = frozenset({RELEASED, EXCEPTIONAL})
OPEN_FOR_RESULTS = frozenset({QUARANTINE, ON_HOLD, EXCEPTIONAL})
INCOMPLETE = "incomplete"  # missing, pending or unverified: what may complete later
SPENT = frozenset({"missing", "infused", "destroyed"})  # unit states that never go on

Key = tuple[str, str]  # (kind, subject) of a blocker: ("failing", "VIAB"), ("donor", "FD-0001")
Dossier = tuple


@dataclass
class Res:
    id: int
    test: str  # the specification's test code
    verdict: str  # pass, alert, fail, pending
    verified: bool = False
    invalidated: bool = False


@dataclass
class Lot:
    number: str
    run: str
    wcb: str
    expires_on: dt.date
    harvested_on: dt.date
    state: str
    held_from: str | None = None
    results: list[Res] = field(default_factory=list)
    signed: Dossier | None = None  # what the release (or hold-lifting) signature vouched for


@dataclass
class Inv:
    number: str
    lot: str
    result_id: int
    test: str
    open: bool = True
    conclusion: str | None = None


@dataclass
class Dev:
    number: str
    lot: str | None = None
    run: str | None = None
    open: bool = True


@dataclass
class Er:
    number: str
    lot: str
    patient: str
    accepted: frozenset[Key]  # the blockers the request named
    status: str = "pending"  # pending, approved, withdrawn
    signatures: list[tuple[str, Dossier]] = field(default_factory=list)  # (role, what was signed)
    physician_accepted: bool = False
    sponsor_told: bool = False


@dataclass
class Unit:
    din: str
    lot: str
    cells: int
    state: str = "stored"  # stored, in_transit, received, missing, thawed, infused
    patient: str | None = None  # allocated to
    volume: Decimal = Decimal("18.00")
    given_ml: Decimal | None = None  # infused: the volume given
    shipment: str | None = None
    thawed_at: dt.datetime | None = None
    cold_chain_held: bool = False  # its shipment's logger showed an excursion QA has not released


@dataclass
class Patient:
    wristband: str
    cells_needed: int  # dose per kg x weight
    weight: Decimal = Decimal(70)
    consented: bool = True
    eligible: bool = True


@dataclass
class Scan:
    din: str
    patient: str
    at: dt.datetime
    go: bool
    acknowledged: bool


@dataclass
class Oracle:
    now: dt.datetime
    allocated: list[str] = field(default_factory=list)  # DINs in the order they were allocated
    donor: str = "eligible"
    banks: dict[str, str] = field(default_factory=dict)  # code -> qualification
    lots: dict[str, Lot] = field(default_factory=dict)
    invs: dict[str, Inv] = field(default_factory=dict)
    devs: dict[str, Dev] = field(default_factory=dict)
    ers: dict[str, Er] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    patients: dict[str, Patient] = field(default_factory=dict)
    shipments: dict[str, str] = field(default_factory=dict)  # number -> DIN, while in transit
    shipped_at: dict[str, dt.datetime] = field(default_factory=dict)  # number -> dispatch
    excursions: dict[str, str] = field(default_factory=dict)  # number -> DIN, awaiting QA

    # ---- release ---------------------------------------------------------------------------

    def latest(self, lot: str, test: str) -> Res | None:
        valid = [r for r in self.lots[lot].results if r.test == test and not r.invalidated]
        return max(valid, key=lambda r: r.id) if valid else None

    def siblings(self, a: str, b: str) -> bool:
        la, lb = self.lots[a], self.lots[b]
        return a != b and (la.run == lb.run or la.wcb == lb.wcb)

    def blockers(self, number: str) -> frozenset[Key]:
        lot = self.lots[number]
        keys: set[Key] = set()
        for test in REQUIRED:
            r = self.latest(number, test)
            if r is None or r.verdict == "pending":
                keys.add((INCOMPLETE, test))
                continue
            if r.verdict not in PASSING:
                keys.add(("failing", test))
            if not r.verified:
                keys.add((INCOMPLETE, test))
        for inv in self.invs.values():
            if inv.open and (inv.lot == number or self.siblings(inv.lot, number)):
                keys.add(("investigation", inv.number))
        for dev in self.devs.values():
            if dev.open and (dev.lot == number or dev.run == lot.run):
                keys.add(("deviation", dev.number))
        if lot.run in FLAGGED_RUNS:
            keys.add(("run", "*"))
        for bank in (lot.wcb, MCB):
            if self.banks[bank] != "qualified":
                keys.add(("bank", bank))
        if self.donor != "eligible":
            keys.add(("donor", DONOR))
        return frozenset(keys)

    def releasable(self, number: str) -> bool:
        return not self.blockers(number)

    def dossier(self, number: str) -> Dossier:
        """What a QA signature on the lot vouches for: its lineage's status, its results and their
        review, its investigations and the deviations on it or its run (not its state)."""
        lot = self.lots[number]
        return (
            self.donor,
            self.banks[MCB],
            self.banks[lot.wcb],
            tuple(sorted((r.id, r.verified, r.invalidated) for r in lot.results)),
            tuple(
                sorted(
                    (i.number, i.open, i.conclusion) for i in self.invs.values() if i.lot == number
                )
            ),
            tuple(
                sorted(
                    (d.number, d.open)
                    for d in self.devs.values()
                    if d.lot == number or d.run == lot.run
                )
            ),
        )

    def approved_er(self, number: str) -> Er | None:
        found = [e for e in self.ers.values() if e.lot == number and e.status == "approved"]
        return found[-1] if found else None

    def pending_er(self, number: str) -> Er | None:
        found = [e for e in self.ers.values() if e.lot == number and e.status == "pending"]
        return found[-1] if found else None

    def uncovered(self, number: str) -> frozenset[Key]:
        er = self.approved_er(number)
        return self.blockers(number) - (er.accepted if er else frozenset())

    def hold(self, number: str) -> None:
        lot = self.lots[number]
        lot.held_from, lot.state = lot.state, ON_HOLD

    def settle(self) -> list[str]:
        """Lookback after a write: the lots whose decision no longer stands go ON_HOLD."""
        held = []
        for number, lot in self.lots.items():
            stands = (
                lot.state == RELEASED
                and not self.blockers(number)
                and self.dossier(number) == lot.signed
            ) or (lot.state == EXCEPTIONAL and not self.uncovered(number))
            if lot.state in USABLE and not stands:
                self.hold(number)
                held.append(number)
        return held

    # ---- QA decisions: what each leads to (None: it must be refused) ---------------------

    def release_target(self, number: str) -> str | None:
        lot = self.lots[number]
        return RELEASED if lot.state == QUARANTINE and self.releasable(number) else None

    def hold_target(self, number: str) -> str | None:
        return ON_HOLD if self.lots[number].state in (QUARANTINE, *USABLE) else None

    def recall_target(self, number: str) -> str | None:
        lot = self.lots[number]
        if lot.state in USABLE or (lot.state == ON_HOLD and lot.held_from in USABLE):
            return RECALLED
        if lot.state == QUARANTINE:
            return ON_HOLD  # never distributed: kept from release instead
        return None

    def unhold_target(self, number: str) -> str | None:
        lot = self.lots[number]
        if lot.state != ON_HOLD:
            return None
        if lot.held_from == RELEASED:
            return RELEASED if self.releasable(number) else None
        if lot.held_from == EXCEPTIONAL:
            return EXCEPTIONAL if not self.uncovered(number) else None
        return lot.held_from

    def move(self, number: str, target: str) -> None:
        lot = self.lots[number]
        lot.held_from = lot.state if target == ON_HOLD else None
        lot.state = target
        if target == RELEASED:
            lot.signed = self.dossier(number)

    # ---- exceptional release -------------------------------------------------------------

    def er_sign_outcome(self, er: Er, role: str) -> str:
        """refused, signed (the other signature still to come) or approved."""
        lot = self.lots[er.lot]
        if er.status != "pending" or lot.state != QUARANTINE:
            return "refused"
        now = self.dossier(er.lot)
        valid = {r for r, signed in er.signatures if signed == now}
        if role in valid:
            return "refused"
        if valid | {role} == {"qa", "md"}:
            return "refused" if self.blockers(er.lot) - er.accepted else "approved"
        return "signed"

    # ---- units -------------------------------------------------------------------------------

    def expired(self, lot: str, at: dt.datetime) -> bool:
        return at.astimezone(ZONE).date() > self.lots[lot].expires_on

    def status(self, lot: str) -> str:
        """What /v/ reads for a unit of the lot."""
        state = self.lots[lot].state
        if state in USABLE and self.expired(lot, self.now):
            return "EXPIRED"
        return state.replace("_", " ")

    def unit_status(self, din: str) -> str:
        """What /v/ reads for the unit: its lot's status, ON HOLD while an excursion holds it."""
        status = self.status(self.units[din].lot)
        if self.units[din].cold_chain_held and status in ("RELEASED", "EXCEPTIONAL RELEASE"):
            return "ON HOLD"
        return status

    def may_go_on(self, din: str, patient: str | None, at: dt.datetime | None = None) -> bool:
        """Whether the unit may be allocated or shipped (to `patient`, when one is named)."""
        at = at or self.now
        unit = self.units[din]
        lot = self.lots[unit.lot]
        if lot.state not in USABLE:
            return False
        if lot.state == EXCEPTIONAL:
            er = self.approved_er(unit.lot)
            if er is None or not (er.physician_accepted and er.sponsor_told):
                return False
            if patient is not None and patient != er.patient:
                return False
        if unit.cold_chain_held:
            return False
        return not self.expired(unit.lot, at) and unit.state not in SPENT

    def allocation_allowed(self, din: str, patient: str) -> bool:
        unit = self.units[din]
        return (
            unit.patient is None
            and self.may_go_on(din, patient)
            and self.dose_fits(patient, extra=din)
        )

    def containers(self, patient: str, extra: str | None = None) -> list[Unit]:
        dins = [d for d in self.allocated if self.units[d].patient == patient]
        return [self.units[d] for d in dins + ([extra] if extra else [])]

    def dose_fits(
        self, patient: str, extra: str | None = None, given: tuple[str, Decimal] | None = None
    ) -> bool:
        """Whether the patient's containers (and `extra`, about to be allocated; `given`, a unit
        with the volume about to be recorded as given) can still give the dose."""
        p = self.patients[patient]
        low, high = p.cells_needed * (1 - TOLERANCE), p.cells_needed * (1 + TOLERANCE)
        units = self.containers(patient, extra)
        volumes = {u.din: u.given_ml for u in units if u.given_ml is not None}
        if given is not None:
            volumes[given[0]] = given[1]
        rest = [u for u in units if u.din not in volumes]
        for u in rest[:-1]:
            volumes[u.din] = u.volume

        def cells(u: Unit, ml: Decimal) -> Decimal:
            return Decimal(u.cells) * ml / u.volume

        def fine(vols: dict[str, Decimal]) -> bool:
            total = sum(cells(self.units[d], v) for d, v in vols.items())
            eu = sum(v * EU_PER_ML for v in vols.values()) / p.weight
            return low <= total <= high and eu <= ENDOTOXIN_LIMIT

        if not units:
            return False
        if not rest:
            return fine(volumes)
        last = rest[-1]
        before = sum(cells(self.units[d], v) for d, v in volumes.items())
        if before >= p.cells_needed:  # the last container would be one too many
            return False
        steps = int(last.volume / STEP)
        choices = [last.volume] + [STEP * k for k in range(steps, 0, -1)]
        return any(fine({**volumes, last.din: v}) for v in choices)

    def volume_to_give(self, din: str) -> Decimal:
        """A volume of `din` that keeps its patient's dose possible (its whole volume if that
        does), else its whole volume: what a nurse told right would give."""
        unit = self.units[din]
        if unit.patient is None:
            return unit.volume
        p = self.patients[unit.patient]
        exact = (
            (
                Decimal(p.cells_needed)
                - sum(
                    Decimal(u.cells) * (u.given_ml or u.volume) / u.volume
                    for u in self.containers(unit.patient)
                    if u.din != din
                )
            )
            * unit.volume
            / unit.cells
        )
        candidates = [unit.volume, exact.quantize(STEP), exact.quantize(STEP) + STEP]
        for ml in candidates:
            if 0 < ml <= unit.volume and self.dose_fits(unit.patient, given=(din, ml)):
                return ml
        return unit.volume

    def shipping_allowed(self, din: str) -> bool:
        unit = self.units[din]
        return unit.state == "stored" and self.may_go_on(din, unit.patient)

    def go(self, din: str, patient: str, at: dt.datetime, acknowledged: bool) -> bool:
        """GO at the bedside of SITE for this unit and this patient at `at`."""
        unit, p = self.units[din], self.patients[patient]
        if not self.may_go_on(din, patient, at):
            return False
        if self.lots[unit.lot].state == EXCEPTIONAL and not acknowledged:
            return False
        if not (p.consented and p.eligible):
            return False
        if unit.state not in ("received", "thawed") or unit.patient != patient:
            return False
        if unit.given_ml is not None or not self.dose_fits(patient):
            return False
        if unit.thawed_at is None or unit.thawed_at > at + THAW_CLOCK_SLACK:
            return False
        return at - unit.thawed_at <= POST_THAW

    def infusion_allowed(
        self, scan: Scan, started: dt.datetime, witness_ok: bool, volume: Decimal
    ) -> tuple[bool, str]:
        """Whether an infusion after `scan`, starting at `started`, giving `volume` of the unit,
        may be recorded now."""
        unit = self.units[scan.din]
        checks = (
            (scan.go, "the scan was NO-GO"),
            (witness_ok, "the witness did not sign"),
            (started >= scan.at.replace(second=0, microsecond=0), "starts before its GO scan"),
            (started - scan.at <= GO_VALID_FOR, "starts past the GO's validity"),
            (self.now - scan.at <= GO_VALID_FOR, "the GO is too old"),
            (unit.thawed_at is not None and started >= unit.thawed_at, "starts before the thaw"),
            (unit.state == "thawed", f"the unit is {unit.state}"),
            (self.go(scan.din, scan.patient, started, scan.acknowledged), "NO-GO at its start"),
            (0 < volume <= unit.volume, "a volume the unit does not hold"),
            (
                self.dose_fits(scan.patient, given=(scan.din, volume)),
                "with this volume the dose leaves its tolerance",
            ),
        )
        for ok, why in checks:
            if not ok:
                return False, why
        return True, ""
