"""The safety state machine's exceptional releases and clinical writes: allocation, shipment,
receipt, thaw, the bedside check, the infusion, and the clock moving."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.stateful import (
    precondition,
    rule,
)
from sqlalchemy import select

from lotrack.models import (
    BedsideScan,
    Prescription,
)
from lotrack.services import (
    bedside,
    clinical,
    cold_chain,
    exceptional,
    shipment,
)
from lotrack.services import infusion as infusions
from lotrack.services import lot as lots
from lotrack.services.raw_data import RawFile
from lotrack.services.release import SignIn
from tests import safety_model as m
from tests.clinical_setup import label
from tests.conftest import PASSWORDS, user
from tests.safety_harness import CLOCK, L1, L2, L3, LOCKOUT, MEANING, WITNESSES, ScanMade, note

LOGGED = dt.timedelta(days=30)  # longer journeys are received without a logger file here


def logger_file(start: dt.datetime, end: dt.datetime, *, excursion: bool) -> bytes:
    """A generic logger export at -180 °C every 29 minutes (the gap allowed is 30) from before
    dispatch to after receipt, and at dispatch and receipt themselves (a journey may take no time
    on the machine's clock); with an excursion, one more reading at -100 °C halfway."""
    times, t = [start, end], start - dt.timedelta(minutes=29)
    while t <= end + dt.timedelta(minutes=29):
        times.append(t)
        t += dt.timedelta(minutes=29)
    rows = ["timestamp,temperature", *(f"{t.isoformat()},-180" for t in times)]
    if excursion:
        rows.append(f"{(start + (end - start) / 2).isoformat()},-100")
    return ("\n".join(rows) + "\n").encode()


class ClinicRules:
    # ---- exceptional release -----------------------------------------------------------------

    def er_request(self, number: str, patient: str) -> bool:
        o = self.oracle
        allowed = (
            o.lots[number].state == m.QUARANTINE
            and o.pending_er(number) is None
            and not o.releasable(number)
        )

        def write(s):
            er = exceptional.request_release(
                s, user(s, "qa"), lots.get_lot(s, number), physician="Dr. Demo", patient=patient,
                request="no alternative treatment", requested_on=self.today(),
                risk_assessment="benefit outweighs the risk",
            )  # fmt: skip
            s.flush()
            return er.number

        ok, got = self.run("exceptional request", write)
        self.expect(f"exceptional release request for {number}", ok, got, allowed)
        if ok:
            o.ers[got] = m.Er(got, number, patient, o.blockers(number))
        return ok

    def er_sign(self, er: m.Er, role: str) -> bool:
        o = self.oracle
        outcome = o.er_sign_outcome(er, role)
        username = "qa" if role == "qa" else "md"
        sign_in = SignIn(username, PASSWORDS[username], MEANING[role], "urgent")
        ok, got = self.run(
            f"exceptional {role} signature",
            lambda s: exceptional.sign_release(
                s, user(s, username), exceptional.get_request(s, er.number), sign_in, LOCKOUT
            ),
        )
        self.expect(
            f"{role} signature of {er.number} ({er.lot} {o.lots[er.lot].state}, blockers"
            f" {sorted(o.blockers(er.lot))}, accepted {sorted(er.accepted)})",
            ok,
            got,
            outcome != "refused",
        )
        if ok:
            er.signatures.append((role, o.dossier(er.lot)))
            if outcome == "approved":
                er.status = "approved"
                o.move(er.lot, m.EXCEPTIONAL)
            self.settle()
        return ok

    def er_accept(self, er: m.Er) -> bool:
        allowed = er.status in ("pending", "approved") and not er.physician_accepted
        sign_in = SignIn(
            "nurse",
            PASSWORDS["nurse"],
            "exceptional release accepted (treating physician)",
            "for my patient",
        )
        ok, got = self.run(
            "physician acceptance",
            lambda s: exceptional.accept_release(
                s, user(s, "nurse"), exceptional.get_request(s, er.number), sign_in, LOCKOUT
            ),
        )
        self.expect(f"acceptance of {er.number} ({er.status})", ok, got, allowed)
        if ok:
            er.physician_accepted = True
        return ok

    def er_notify(self, er: m.Er) -> bool:
        ok, got = self.run(
            "sponsor notification",
            lambda s: exceptional.record_notification(
                s, user(s, "qa"), recipient_role="sponsor", recipient="Sponsor PV",
                method="e-mail", notified_at=self.oracle.now - dt.timedelta(minutes=1),
                er=exceptional.get_request(s, er.number),
            ),
        )  # fmt: skip
        self.expect(f"sponsor notification of {er.number}", ok, got, True)
        er.sponsor_told = True
        return ok

    @rule(data=st.data())
    def exceptional_step(self, data: st.DataObject) -> None:
        o = self.oracle
        ers = sorted(o.ers)
        action = data.draw(
            st.sampled_from(["request", "sign qa", "sign md", "accept", "notify", "withdraw"])
        )
        if action == "request" or not ers:
            number = data.draw(st.sampled_from([L2, L3]), label="lot")
            self.er_request(number, data.draw(st.sampled_from(self.patients), label="patient"))
            return
        er = o.ers[data.draw(st.sampled_from(ers), label="request")]
        if action.startswith("sign"):
            self.er_sign(er, action.removeprefix("sign "))
        elif action == "accept":
            self.er_accept(er)
        elif action == "notify":
            self.er_notify(er)
        else:
            ok, got = self.run(
                "withdraw",
                lambda s: exceptional.withdraw(
                    s, user(s, "qa"), exceptional.get_request(s, er.number), "new assessment"
                ),
            )
            self.expect(f"withdrawal of {er.number}", ok, got, er.status == "pending")
            if ok:
                er.status = "withdrawn"

    @rule(
        number=st.sampled_from([L3, L2]),
        data=st.data(),
        stages=st.one_of(st.just(8), st.integers(1, 7)),
    )
    def exceptional_flow(self, number: str, data: st.DataObject, stages: int) -> None:
        """Request, QA's and the medical director's signatures, the physician's acceptance, the
        sponsor's notification, then a unit allocated, shipped and received for the patient, and
        at the bedside (thaw, scan, infusion): one transaction each, up to `stages` of these
        eight."""
        waiting = [
            p for p in self.patients if not any(u.patient == p for u in self.oracle.units.values())
        ]
        patient = self.pick(data, waiting, self.patients, "patient")
        if not self.er_request(number, patient):
            return
        er = self.oracle.pending_er(number)
        assert er is not None
        units = [d for d in self.tracked if self.oracle.units[d].lot == number]
        witness = data.draw(st.one_of(st.just("nurse2"), st.sampled_from(list(WITNESSES))))
        steps = (
            lambda: self.er_sign(er, "qa"),
            lambda: self.er_sign(er, "md"),
            lambda: self.er_accept(er),
            lambda: self.er_notify(er),
            lambda: self.allocate(units[0], patient) and self.ship(units[0]),
            lambda: self.receive(self.oracle.units[units[0]].shipment or "", True),
            lambda: self.at_bedside(units[0], patient, 10, witness),
        )
        for done, step in enumerate(steps[: stages - 1], start=2):
            if not step():
                return
            note(f"exceptional flow: stage {done} of {stages}")

    # ---- units: allocation, shipment, receipt, thaw ----------------------------------------

    def allocate(self, din: str, patient: str) -> bool:
        allowed = self.oracle.allocation_allowed(din, patient)

        def write(s):
            p = clinical.get_patient(s, user(s, "qa"), patient)
            rx = s.scalars(select(Prescription).where(Prescription.patient_id == p.id)).one()
            clinical.allocate(s, user(s, "tech"), rx, [din])

        ok, got = self.run("allocate", write)
        self.expect(f"allocation of {din} to {patient}", ok, got, allowed)
        if ok:
            self.oracle.units[din].patient = patient
            self.oracle.allocated.append(din)
        return ok

    def ship(self, din: str) -> bool:
        allowed = self.oracle.shipping_allowed(din)

        def write(s):
            sent = shipment.ship(s, user(s, "tech"), site_code=m.SITE, dins=[din])
            s.flush()
            return sent.number

        ok, got = self.run("ship", write)
        self.expect(f"shipment of {din} ({self.oracle.units[din].state})", ok, got, allowed)
        if ok:
            self.oracle.units[din].state, self.oracle.units[din].shipment = "in_transit", got
            self.oracle.shipments[got] = din
            self.oracle.shipped_at[got] = self.oracle.now
        return ok

    def receive(self, number: str, arrived: bool, logger: str = "none") -> bool:
        """Receive the shipment; with its logger file (`logger`: clean or excursion) attached in
        the same transaction when the journey is short enough to log (at most LOGGED)."""
        din, o = self.oracle.shipments[number], self.oracle
        if o.now - o.shipped_at[number] > LOGGED:
            logger = "none"

        def write(s):
            nurse = user(s, "nurse")
            sent = shipment.get_shipment(s, nurse, number)
            shipment.receive(
                s, nurse, sent,
                received_dins=[din] if arrived else [], condition="intact",
                temperature_record="logger: below -150 °C throughout",
            )  # fmt: skip
            if logger != "none":
                data = logger_file(sent.shipped_at, o.now, excursion=logger == "excursion")
                cold_chain.attach(
                    s, nurse, sent, file=RawFile("logger.csv", data), mapping="generic",
                    settings=self.app.config["LOTRACK_COLD_CHAIN"],
                )  # fmt: skip

        ok, got = self.run("receive", write)
        self.expect(f"receipt of {number}", ok, got, True)
        o.units[din].state = "received" if arrived else "missing"
        del o.shipments[number]
        if logger == "excursion":
            o.units[din].cold_chain_held = True
            o.excursions[number] = din
            note("receipt: a logger excursion")
        return ok

    @precondition(lambda self: self.oracle.excursions)
    @rule(data=st.data())
    def excursion_decision(self, data: st.DataObject) -> None:
        """QA's signed decision on an excursion: the unit released for use, or destroyed."""
        number = data.draw(st.sampled_from(sorted(self.oracle.excursions)), label="excursion")
        self.decide_excursion(number, data.draw(st.sampled_from(["released", "rejected"])))

    def decide_excursion(self, number: str, outcome: str) -> None:
        o = self.oracle
        meaning = {"released": "released for use", "rejected": "rejected"}[outcome]

        def write(s):
            qa = user(s, "qa")
            cold_chain.decide(
                s, qa, shipment.get_shipment(s, qa, number), outcome=outcome,
                sign_in=SignIn("qa", PASSWORDS["qa"], meaning, "safety machine"), lockout=LOCKOUT,
            )  # fmt: skip

        ok, got = self.run("excursion decision", write)
        self.expect(f"{outcome} after the excursion of {number}", ok, got, True)
        unit = o.units[o.excursions.pop(number)]
        if outcome == "released":
            unit.cold_chain_held = False
        elif unit.state in ("received", "thawed"):
            unit.state = "destroyed"
        note(f"excursion: {outcome}")

    def thaw(self, din: str, minutes_ago: int) -> bool:
        unit = self.oracle.units[din]
        allowed = unit.state == "received"
        at = self.oracle.now - dt.timedelta(minutes=minutes_ago)
        ok, got = self.run("thaw", lambda s: infusions.record_thaw(s, user(s, "nurse"), din, at))
        self.expect(f"thaw of {din} ({unit.state})", ok, got, allowed)
        if ok:
            unit.state, unit.thawed_at = "thawed", at
        return ok

    @rule(data=st.data())
    def unit_step(self, data: st.DataObject) -> None:
        o = self.oracle
        action = data.draw(st.sampled_from(["allocate", "ship", "receive", "thaw"]))
        units = self.tracked
        if action == "allocate":
            pairs = [(d, p) for d in units for p in self.patients]
            likely = [(d, p) for d, p in pairs if o.allocation_allowed(d, p)]
            self.allocate(*self.pick(data, likely, pairs, "unit, patient"))
        elif action == "ship":
            likely = [d for d in units if o.shipping_allowed(d)]
            self.ship(self.pick(data, likely, units, "unit"))
        elif action == "receive" and o.shipments:
            number = data.draw(st.sampled_from(sorted(o.shipments)), label="shipment")
            arrived = data.draw(st.integers(0, 5), label="arrived") > 0
            logger = data.draw(st.sampled_from(["none", "clean", "excursion"]), label="logger")
            self.receive(number, arrived, logger)
        elif action == "thaw":
            likely = [d for d in units if o.units[d].state == "received"]
            din = self.pick(data, likely, units, "unit")
            self.thaw(din, data.draw(st.integers(0, 70), label="minutes ago"))

    @rule(data=st.data(), stages=st.one_of(st.just(4), st.integers(1, 3)))
    def deliver(self, data: st.DataObject, stages: int) -> None:
        """Allocate, ship, receive and thaw one unit, one transaction each, up to `stages`."""
        o = self.oracle
        fresh = [d for d in self.tracked if o.units[d].patient is None]
        if not fresh:
            return
        din = data.draw(st.sampled_from(fresh), label="unit")
        patient = self.pick(
            data,
            [p for p in self.patients if o.allocation_allowed(din, p)],
            self.patients,
            "patient",
        )
        minutes = data.draw(st.integers(0, 70), label="thawed minutes ago")
        logger = data.draw(st.sampled_from(["excursion", "clean", "none"]), label="logger")
        steps = (
            lambda: self.allocate(din, patient),
            lambda: self.ship(din),
            lambda: self.receive(o.units[din].shipment or "", True, logger),
            lambda: self.thaw(din, minutes),
        )
        for step in steps[:stages]:
            if not step():
                return

    # ---- the bedside ---------------------------------------------------------------------

    def scan(self, din: str, patient: str, acknowledged: bool) -> ScanMade:
        o = self.oracle

        def write(s):
            checked = bedside.run_check(
                s, user(s, "nurse"), key=self.key, patient_text=patient,
                scan_text=label(self.app, din), acknowledge_exceptional=acknowledged, now=o.now,
            )  # fmt: skip
            s.flush()
            return checked.scan.id, checked.verdict

        ok, got = self.run("scan", write)
        assert ok, f"a bedside check raised: {got}"
        scan_id, verdict = got
        want = o.go(din, patient, o.now, acknowledged)
        assert verdict.go == want, (
            f"bedside {'GO' if verdict.go else 'NO-GO'} for {din} and {patient}, oracle"
            f" {'GO' if want else 'NO-GO'}: {verdict.reasons}"
        )
        note(
            f"scan: GO ({o.lots[o.units[din].lot].state})"
            if verdict.go
            else f"scan: NO-GO ({verdict.codes[0]}, lot {o.lots[o.units[din].lot].state})"
        )
        made = ScanMade(scan_id, m.Scan(din, patient, o.now, verdict.go, acknowledged))
        self.scans.append(made)
        return made

    def infuse(
        self, made: ScanMade, witness: str, minutes_back: int, volume: Decimal | None = None
    ) -> None:
        """The infusion after `made`, giving `volume` (the volume the dose rule asks for when
        None, as the nurse is told)."""
        o = self.oracle
        username, password, signs = WITNESSES[witness]
        started = o.now - dt.timedelta(minutes=minutes_back)
        volume = o.volume_to_give(made.seen.din) if volume is None else volume
        allowed, why = o.infusion_allowed(made.seen, started, signs, volume)
        ok, got = self.run(
            "infusion",
            lambda s: infusions.record_infusion(
                s, user(s, "nurse"), s.get_one(BedsideScan, made.id), witness=username,
                witness_password=password, witness_meaning="witnessed", started_at=started,
                volume_ml=volume,
            ),
        )  # fmt: skip
        self.expect(f"infusion of {made.seen.din} into {made.seen.patient}", ok, got, allowed, why)
        if not ok:
            note(f"infusion refused: {why}")
        if ok:
            o.units[made.seen.din].state = "infused"
            o.units[made.seen.din].given_ml = volume
            note(f"infusion of a unit of a lot {o.lots[o.units[made.seen.din].lot].state}")

    def _pairs(self) -> list[tuple[str, str]]:
        return [(d, u.patient) for d, u in self.oracle.units.items() if u.patient is not None]

    @rule(data=st.data())
    def bedside_scan(self, data: st.DataObject) -> None:
        every = [(d, p) for d in self.tracked for p in self.patients]
        din, patient = self.pick(data, self._pairs(), every, "unit, patient")
        self.scan(din, patient, data.draw(st.integers(0, 4), label="acknowledged") > 0)

    @precondition(lambda self: bool(self.scans))
    @rule(data=st.data())
    def infusion(self, data: st.DataObject) -> None:
        made = data.draw(st.sampled_from(self.scans[::-1]), label="scan")
        witness = data.draw(st.sampled_from(list(WITNESSES)), label="witness")
        minutes = data.draw(st.integers(0, 2), label="started minutes ago")
        # The volume the nurse was told, or one she might type wrongly: the whole bag, a drop.
        unit = self.oracle.units[made.seen.din]
        volume = data.draw(
            st.sampled_from([None, unit.volume, Decimal("0.1"), unit.volume + 1]), label="mL"
        )
        self.infuse(made, witness, minutes, volume)

    def _fit(self) -> list[tuple[str, str]]:
        """Units at the site that may go on to the patient they are for."""
        o = self.oracle
        return [
            (d, p)
            for d, p in self._pairs()
            if o.may_go_on(d, p) and o.units[d].state in ("received", "thawed")
        ]

    @precondition(lambda self: bool(self._fit()))
    @rule(data=st.data())
    def bedside_flow(self, data: st.DataObject) -> None:
        """At the bedside: the thaw if it is not recorded yet, a scan and the infusion after it."""
        din, patient = data.draw(st.sampled_from(self._fit()), label="unit, patient")
        minutes = data.draw(st.integers(0, 70), label="thawed minutes ago")
        self.at_bedside(din, patient, minutes, data.draw(st.sampled_from(list(WITNESSES))))

    def at_bedside(self, din: str, patient: str, thawed_minutes_ago: int, witness: str) -> bool:
        if self.oracle.units[din].state == "received":
            self.thaw(din, thawed_minutes_ago)
        self.infuse(self.scan(din, patient, True), witness, 0)
        return True

    # ---- the clock -------------------------------------------------------------------------

    def set_clock(self, moment: dt.datetime) -> None:
        CLOCK.now = self.oracle.now = moment
        self.settle()  # a moving clock raises no blocker: nothing to hold

    @rule(
        step=st.one_of(
            st.integers(1, 90).map(lambda n: dt.timedelta(minutes=n)),
            st.integers(1, 48).map(lambda n: dt.timedelta(hours=n)),
            st.integers(1, 30).map(lambda n: dt.timedelta(days=n)),
            # To the last minutes of a lot's expiry date in the facility's zone, or just past it.
            st.tuples(st.sampled_from([L1, L2, L3]), st.integers(-3, 0)),
        )
    )
    def move_clock(self, step: dt.timedelta | tuple[str, int]) -> None:
        if isinstance(step, dt.timedelta):
            self.set_clock(self.oracle.now + step)
            return
        number, offset = step
        end = dt.datetime.combine(
            self.oracle.lots[number].expires_on + dt.timedelta(days=1), dt.time(), m.ZONE
        ).astimezone(dt.UTC) + dt.timedelta(minutes=offset)
        if end > self.oracle.now:
            self.set_clock(end)
            note(f"clock: {offset} min from the end of an expiry date")
