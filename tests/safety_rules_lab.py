"""The safety state machine's laboratory and QA writes: results, verifications, invalidations and
corrections, deviations, OOS investigations, donor and bank decisions, and QA's lot decisions."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st
from hypothesis.stateful import (
    precondition,
    rule,
)
from sqlalchemy import func, select

from lotrack.domain.decisions import Action
from lotrack.models import (
    CellBank,
    Investigation,
    ProductionRun,
    Result,
)
from lotrack.services import (
    containment,
    deviation,
    donor,
    investigation,
    qualification,
    release,
    result,
)
from lotrack.services import lot as lots
from lotrack.services.release import SignIn
from tests import safety_model as m
from tests.conftest import PASSWORDS, user
from tests.record_signing import signs
from tests.safety_harness import BANKS, L1, L2, L3, LOCKOUT, LOTS, MEANING, RUNS


class LabRules:
    # ---- results -----------------------------------------------------------------------------

    def _test_date(self, s, lot, test: str, outcome: str) -> dt.date:
        """The harvest; for sterility the incubation on record (or a new one started today)."""
        if test != "STERILITY":
            return lot.harvested_on
        if outcome == "pending":
            return self.today()
        on_record = s.scalar(
            select(func.max(Result.performed_on)).where(
                Result.lot_id == lot.id, Result.test_code == "STERILITY"
            )
        )
        return on_record or lot.harvested_on

    def _judged(self, number: str, rid: int, test: str, outcome: str, oos: str | None) -> None:
        """The oracle's record of a new result; a failing required test has its OOS opened."""
        self.oracle.lots[number].results.append(m.Res(rid, test, outcome))
        if outcome == "fail" and test in m.REQUIRED:
            assert oos is not None, f"{test} failed on {number} and no OOS investigation opened"
            self.oracle.invs[oos] = m.Inv(oos, number, rid, test)
        else:
            assert oos is None, f"{oos} opened for a {outcome} {test} result"

    @staticmethod
    def _oos_of(s, rid: int) -> str | None:
        return s.scalar(select(Investigation.number).where(Investigation.result_id == rid))

    def record(self, number: str, test: str, outcome: str) -> None:
        value, unit = m.ENTRIES[test][outcome]

        def write(s):
            lot = lots.get_lot(s, number)
            r = result.record_result(
                s, user(s, "tech"), lot, test=test, value=value, unit=unit,
                performed_on=self._test_date(s, lot, test, outcome),
            )  # fmt: skip
            s.flush()
            return r.id, self._oos_of(s, r.id)

        ok, got = self.run(f"record {outcome} {test}", write)
        if ok:
            self._judged(number, got[0], test, outcome, got[1])
            self.settle()

    def verify(self, number: str, res: m.Res) -> None:
        ok, _ = self.run(
            "verify",
            lambda s: result.verify_result(s, user(s, "tech2"), s.get_one(Result, res.id)),
        )
        if ok:
            res.verified = True
            self.settle()

    def _results(self, verified: bool | None = None) -> list[tuple[str, m.Res]]:
        """Valid results of the tests the machine enters, of every lot."""
        return [
            (number, r)
            for number, lot in self.oracle.lots.items()
            for r in lot.results
            if not r.invalidated
            and r.test in m.ENTRIES
            and (verified is None or (r.verified == verified and r.verdict != "pending"))
        ]

    @rule(data=st.data())
    def result_entry(self, data: st.DataObject) -> None:
        o = self.oracle
        what = data.draw(st.sampled_from(["record", "verify", "invalidate", "correct"]))
        if what == "record":
            open_tests = [
                (n, t)
                for n in LOTS
                for t in m.ENTRIES
                if o.lots[n].state in m.OPEN_FOR_RESULTS
                and ((r := o.latest(n, t)) is None or r.verdict == "pending")
            ]
            number, test = self.pick(
                data, open_tests, [(n, t) for n in LOTS for t in m.ENTRIES], "lot, test"
            )
            self.record(number, test, data.draw(st.sampled_from(sorted(m.ENTRIES[test]))))
            return
        if what == "verify":
            choices = self._results(verified=False)
            if choices:
                self.verify(*data.draw(st.sampled_from(choices), label="result"))
            return
        choices = [(n, r) for n, r in self._results() if r.verdict != "fail"]
        if not choices:
            return
        number, old = data.draw(st.sampled_from(choices), label="result")
        if what == "invalidate":
            self.invalidate(old)
        else:
            self.correct(number, old, data.draw(st.sampled_from(sorted(m.ENTRIES[old.test]))))

    def invalidate(self, old: m.Res) -> None:
        ok, _ = self.run(
            "invalidate",
            lambda s: result.invalidate_result(
                s, user(s, "tech2"), s.get_one(Result, old.id), "sample mix-up found"
            ),
        )
        if ok:
            old.invalidated = True
            self.settle()

    def correct(self, number: str, old: m.Res, outcome: str) -> None:
        value, unit = m.ENTRIES[old.test][outcome]

        def write(s):
            row = s.get_one(Result, old.id)
            lot = lots.get_lot(s, number)
            new = result.correct_result(
                s, user(s, "tech"), row, reason="transcription error", value=value, unit=unit,
                performed_on=self._test_date(s, lot, old.test, outcome),
            )  # fmt: skip
            s.flush()
            return new.id, self._oos_of(s, new.id)

        ok, got = self.run(f"correct to {outcome}", write)
        if ok:
            old.invalidated = True
            self._judged(number, got[0], old.test, outcome, got[1])
            self.settle()

    def qc_complete(self, number: str) -> None:
        """Every test the machine enters completed with a passing result, then verified."""
        for test in sorted(m.ENTRIES):
            r = self.oracle.latest(number, test)
            if r is None or r.verdict == "pending":
                self.record(number, test, "pass")
        for lot_number, r in self._results(verified=False):
            if lot_number == number:
                self.verify(number, r)

    # ---- deviations, investigations, donor, banks ------------------------------------------

    def close_deviation(self, number: str) -> None:
        def close(s):
            dev = deviation.get_deviation(s, number)
            deviation.assess(s, user(s, "tech"), dev, "no impact on the product")
            deviation.close(s, user(s, "qa"), dev, "root cause corrected", **signs("qa", "closed"))

        ok, got = self.run("close deviation", close)
        self.expect(f"closing {number}", ok, got, self.oracle.devs[number].open)
        self.oracle.devs[number].open = False
        self.settle()

    @rule(data=st.data())
    def deviation_step(self, data: st.DataObject) -> None:
        open_devs = sorted(n for n, d in self.oracle.devs.items() if d.open)
        if open_devs and data.draw(st.booleans(), label="close?"):
            self.close_deviation(data.draw(st.sampled_from(open_devs), label="deviation"))
            return
        target = data.draw(st.sampled_from((L1, L2, L3, *RUNS)), label="on")

        def open_(s):
            where = (
                {"lot": lots.get_lot(s, target)}
                if target in LOTS
                else {"run": s.scalar(select(ProductionRun).where(ProductionRun.code == target))}
            )
            dev = deviation.open_deviation(
                s, user(s, "tech"), description="incubator alarm", **where
            )
            s.flush()
            return dev.number

        ok, number = self.run("open deviation", open_)
        self.expect(f"a deviation on {target}", ok, number, True)
        on_lot = target in LOTS
        self.oracle.devs[number] = m.Dev(
            number, target if on_lot else None, None if on_lot else target
        )
        self.settle()

    def conclude(self, number: str, conclusion: str) -> None:
        ok, got = self.run(
            f"conclude {conclusion}",
            lambda s: investigation.conclude(
                s, user(s, "qa"), investigation.get_investigation(s, number),
                conclusion=conclusion, findings="reviewed",
                assignable_cause="pipetting error" if conclusion == "invalidated" else "",
                **signs("qa", "concluded"),
            ),
        )  # fmt: skip
        inv = self.oracle.invs[number]
        self.expect(f"concluding {number}", ok, got, inv.open)
        inv.open, inv.conclusion = False, conclusion
        if conclusion == "invalidated":
            failed = next(r for r in self.oracle.lots[inv.lot].results if r.id == inv.result_id)
            failed.invalidated = True
        self.settle()

    @precondition(lambda self: any(i.open for i in self.oracle.invs.values()))
    @rule(data=st.data())
    def conclude_oos(self, data: st.DataObject) -> None:
        number = data.draw(
            st.sampled_from(sorted(n for n, i in self.oracle.invs.items() if i.open)), label="oos"
        )
        self.conclude(number, data.draw(st.sampled_from(["confirmed_oos", "invalidated"])))

    def determine(self, determination: str) -> None:
        ok, _ = self.run(
            f"donor {determination}",
            lambda s: donor.determine_eligibility(
                s, user(s, "qa"), donor.get_donor(s, m.DONOR), determination=determination,
                responsible_person="Demo Medical Director", reason="look-back",
            ),
        )  # fmt: skip
        if ok:
            self.oracle.donor = determination
            self.settle()

    def qualify(self, code: str, decision: str) -> None:
        ok, _ = self.run(
            f"bank {decision}",
            lambda s: qualification.qualify_bank(
                s, user(s, "qa"), s.scalar(select(CellBank).where(CellBank.code == code)),
                decision=decision, reason="bank review",
                **signs("qa", decision.replace("_", " ")),
            ),
        )  # fmt: skip
        if ok:
            self.oracle.banks[code] = decision
            self.settle()

    @rule(
        change=st.one_of(
            st.tuples(st.just("donor"), st.sampled_from(["ineligible", "incomplete", "eligible"])),
            st.tuples(st.sampled_from(BANKS), st.sampled_from(["not_qualified", "qualified"])),
        )
    )
    def lineage_decision(self, change: tuple[str, str]) -> None:
        """The donor's determination changed, or a bank's qualification withdrawn or restored."""
        subject, decision = change
        if subject == "donor":
            self.determine(decision)
        else:
            self.qualify(subject, decision)

    # ---- QA decisions ----------------------------------------------------------------------

    def qa(self, action: str, number: str) -> bool:
        o = self.oracle
        target = {
            "release": o.release_target,
            "hold": o.hold_target,
            "unhold": o.unhold_target,
            "recall": o.recall_target,
        }[action](number)
        sign_in = SignIn("qa", PASSWORDS["qa"], MEANING[action], "dossier reviewed")

        def write(s):
            qa, lot = user(s, "qa"), lots.get_lot(s, number)
            if action in ("release", "unhold"):
                verb = Action.RELEASE if action == "release" else Action.UNHOLD
                release.decide(s, qa, lot, verb, sign_in, LOCKOUT)
            else:
                containment.contain(s, qa, kind=action, sign_in=sign_in, lockout=LOCKOUT, lot=lot)

        ok, got = self.run(action, write)
        self.expect(
            f"{action} of {number} ({o.lots[number].state}, blockers {sorted(o.blockers(number))})",
            ok,
            got,
            allowed=target is not None,
        )
        if ok:
            assert target is not None
            o.move(number, target)
            self.settle()
        return ok

    @rule(data=st.data())
    def qa_decision(self, data: st.DataObject) -> None:
        o = self.oracle
        action = data.draw(st.sampled_from(["release", "hold", "unhold", "recall"]))
        plan = {
            "release": o.release_target,
            "hold": o.hold_target,
            "unhold": o.unhold_target,
            "recall": o.recall_target,
        }[action]
        likely = [n for n in LOTS if plan(n) is not None]
        self.qa(action, self.pick(data, likely, list(LOTS), f"lot to {action}"))

    @rule(number=st.sampled_from([L1, L2, L3]))
    def repair(self, number: str) -> None:
        """QA and the laboratory clear what blocks a lot, then QA lifts its hold or releases it:
        the donor eligible, its banks qualified, deviations closed, OOS investigations concluded
        with an assignable cause, missing results entered and verified."""
        o = self.oracle
        lot = o.lots[number]
        if o.donor != "eligible":
            self.determine("eligible")
        for code in (m.MCB, lot.wcb):
            if o.banks[code] != "qualified":
                self.qualify(code, "qualified")
        for dev in [d for d in o.devs.values() if d.open]:
            if dev.lot == number or dev.run == lot.run:
                self.close_deviation(dev.number)
        for inv in [i for i in o.invs.values() if i.open]:
            if inv.lot == number or o.siblings(inv.lot, number):
                self.conclude(inv.number, "invalidated")
        self.qc_complete(number)
        if lot.state == m.ON_HOLD:
            self.qa("unhold", number)
        elif lot.state == m.QUARANTINE and o.releasable(number):
            self.qa("release", number)
