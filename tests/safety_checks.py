"""The safety state machine's invariant: after every step the application's answers agree with
the oracle (tests/safety_model.py), and no GO is given that the oracle does not give."""

from __future__ import annotations

from hypothesis.stateful import (
    invariant,
)
from sqlalchemy import select

from lotrack.documents.tokens import make_token
from lotrack.models import (
    Unit,
)
from lotrack.services import (
    bedside,
    evaluation,
    release,
    token_verification,
)
from lotrack.services import lot as lots
from tests import safety_model as m
from tests.clinical_setup import label
from tests.conftest import user
from tests.safety_harness import L4, LOTS, STATS, key_of, note


class OracleChecks:
    def _every_view(self) -> list[str]:
        """The lots whose review and API answer are read too (the evaluation's is read for every
        lot at every step): each lot whose state or blockers the step changed, every lot at the
        start, and one more lot in turn."""
        o = self.oracle
        now = {n: (o.lots[n].state, o.lots[n].held_from, o.blockers(n)) for n in LOTS}
        changed = [n for n in LOTS if self.last_seen.get(n) != now[n]]
        self.last_seen = now
        self.checks += 1
        STATS["checks after a step"] += 1
        turn = LOTS[self.checks % len(LOTS)]
        return [n for n in LOTS if n in changed or n == turn]

    def _api_keys(self, numbers: list[str]) -> dict[str, tuple[bool, frozenset[m.Key], str]]:
        out = {}
        for number in numbers:
            reply = self.client.get(
                f"/api/v1/lots/{number}/evaluation",
                headers={"Authorization": f"Bearer {self.token}"},
            )
            assert reply.status_code == 200, reply.get_data(as_text=True)
            body = reply.get_json()
            keys = frozenset(key_of(b["kind"], b["subject"]) for b in body["blockers"])
            out[number] = (body["releasable"], keys, body["state"])
        return out

    def _checked_patients(self, din: str) -> list[tuple[str, bool]]:
        """The patients a unit is scanned for, with and without the exceptional acknowledgement:
        its own, the one its lot's exceptional release names, and one other."""
        o = self.oracle
        unit = o.units[din]
        er = o.approved_er(unit.lot) or o.pending_er(unit.lot)
        named = er.patient if er else None
        chosen = [p for p in (unit.patient, named) if p is not None]
        chosen.append(next(p for p in self.patients if p not in chosen))
        out = [(p, True) for p in dict.fromkeys(chosen)]
        if named is not None:
            out.append((named, False))
        return out

    @invariant()
    def agree_with_the_oracle(self) -> None:
        o = self.oracle
        every_view = self._every_view()
        api = self._api_keys(every_view)  # first: the API's own transaction, then this session's
        with self.session() as s:
            for number in LOTS:
                lot = lots.get_lot(s, number)
                want = o.lots[number]
                assert (lot.state, lot.held_from) == (want.state, want.held_from), (
                    f"{number} is {lot.state} (held from {lot.held_from}); the oracle says"
                    f" {want.state} (held from {want.held_from}), blockers"
                    f" {sorted(o.blockers(number))}"
                )
                keys = o.blockers(number)
                seen = {}
                if number != L4 or number in every_view:  # L4 has no unit tracked: in turn
                    ev = evaluation.evaluate_lot(s, lot)
                    seen["evaluation"] = (ev.releasable, ev.evaluation.blockers)
                if number in every_view:
                    rv = release.review(s, lot)
                    seen["review"] = (rv.releasable, rv.blockers)
                    seen["API"] = api[number][:2]
                    assert api[number][2] == want.state
                for where, (releasable, blockers) in seen.items():
                    got = frozenset(
                        b if isinstance(b, tuple) else key_of(b.kind, b.subject) for b in blockers
                    )
                    assert got == keys, (
                        f"{number}: the {where} names blockers {sorted(got)}; the oracle"
                        f" {sorted(keys)}"
                    )
                    assert releasable == (not keys), f"{number}: the {where} says releasable"
            nurse = user(s, "nurse")
            for din in self.tracked:
                unit = o.units[din]
                state = s.scalar(select(Unit.state).where(Unit.din == din))
                assert state == unit.state, f"unit {din} is {state}; the oracle says {unit.state}"
                seen_v = token_verification.verify_token(
                    s, self.key, make_token(self.key, "U", din), "cfMSC"
                )
                assert seen_v.status == o.unit_status(din), (
                    f"/v/ reads {seen_v.status} for {din}; the oracle {o.unit_status(din)}"
                )
                for patient, acknowledged in self._checked_patients(din):
                    verdict = bedside.run_check(
                        s, nurse, key=self.key, patient_text=patient,
                        scan_text=label(self.app, din), acknowledge_exceptional=acknowledged,
                        now=o.now,
                    ).verdict  # fmt: skip
                    want_go = o.go(din, patient, o.now, acknowledged)
                    assert verdict.go == want_go, (
                        f"bedside {'GO' if verdict.go else 'NO-GO'} for {din} ({unit.lot}"
                        f" {o.lots[unit.lot].state}) and {patient}"
                        f" (acknowledged: {acknowledged}); the oracle says"
                        f" {'GO' if want_go else 'NO-GO'}. Reasons: {list(verdict.reasons)}"
                    )
                    # The acknowledgement box is offered to the named patient only, and only when
                    # ticking it is all that is missing.
                    offer = (
                        not acknowledged
                        and o.lots[unit.lot].state == m.EXCEPTIONAL
                        and o.go(din, patient, o.now, True)
                    )
                    assert verdict.needs_acknowledgement == offer, (
                        f"acknowledgement {'offered' if offer else 'not offered'} for {din} and"
                        f" {patient}: {list(verdict.reasons)}"
                    )
                    if verdict.go or offer:
                        note("invariant: a GO checked" if verdict.go else "invariant: box offered")
            s.rollback()  # the checks' scan records are not part of the story
