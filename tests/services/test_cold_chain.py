"""Issue 20 item 5, through the services, on both databases: a shipment's logger file attached at
receipt holds every unit of the shipment when it shows an excursion — the bedside says NO-GO with
the reason `cold_chain_excursion`, allocation is refused, /v/ reads ON HOLD — and a clean one
holds nothing. QA's signed decision releases the units (GO again) or rejects them (destroyed).
The record is append-only, judged once, and only at the receiving site."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from lotrack.db import utcnow
from lotrack.documents.tokens import make_token
from lotrack.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from lotrack.models import Attachment, ColdChainLog, Prescription, RecordSignature, Shipment
from lotrack.services import bedside, clinical, cold_chain, shipment, token_verification
from lotrack.services import lot as lots
from lotrack.services.raw_data import RawFile
from lotrack.services.signature import SignIn
from tests import clinical_setup as cs
from tests.conftest import PASSWORDS, execute_as_owner, user

EXCURSION, CLEAN = True, False


def logger_csv(
    start: dt.datetime, end: dt.datetime, *, warm_at: dt.datetime | None = None
) -> bytes:
    """A generic logger export every 5 minutes around the journey, at -180 °C (and -120 °C once
    at `warm_at`)."""
    rows, t = ["timestamp,temperature"], start - dt.timedelta(minutes=20)
    while t <= end + dt.timedelta(minutes=20):
        hot = warm_at is not None and abs((t - warm_at).total_seconds()) < 150
        rows.append(f"{t.isoformat()},{'-120.0' if hot else '-180.0'}")
        t += dt.timedelta(minutes=5)
    return ("\n".join(rows) + "\n").encode()


def settings(app: Flask) -> cold_chain.ColdChainSettings:
    return app.config["LOTRACK_COLD_CHAIN"]


def send(app: Flask, dins: list[str], hours_ago: int = 3) -> str:
    """Ship the units to SZ-GIMI, dispatched `hours_ago` (set back as a long journey would be)."""
    with cs.db(app) as s:
        sent = shipment.ship(s, user(s, "tech"), site_code="SZ-GIMI", dins=dins)
        s.flush()
        s.execute(
            update(Shipment)
            .where(Shipment.id == sent.id)
            .values(shipped_at=utcnow() - dt.timedelta(hours=hours_ago))
        )
        s.commit()
        return sent.number


def receive(app: Flask, number: str, excursion: bool, data: bytes | None = None) -> ColdChainLog:
    """nurse receives the shipment and attaches its logger, in one transaction."""
    with cs.db(app) as s:
        nurse = user(s, "nurse")
        sent = shipment.get_shipment(s, nurse, number)
        shipment.receive(
            s, nurse, sent, received_dins=[i.unit.din for i in sent.items],
            condition="intact", temperature_record="see the logger file",
        )  # fmt: skip
        now = utcnow()
        warm = sent.shipped_at + (now - sent.shipped_at) / 2 if excursion else None
        file = RawFile("ds07.csv", data or logger_csv(sent.shipped_at, now, warm_at=warm))
        log = cold_chain.attach(
            s, nurse, sent, file=file, mapping="generic", settings=settings(app)
        )
        s.commit()
        s.refresh(log)
        s.expunge(log)
        return log


def journey(app: Flask, excursion: bool, subject: str = "SUBJ-050") -> tuple[str, str, str, str]:
    """A patient with a unit allocated, shipped with a second (free) unit, received with a logger
    file, the allocated unit thawed: (wristband, allocated DIN, free DIN, shipment number)."""
    wristband = cs.enrol(app, subject)
    mine, _ = cs.free_din(app, index=0)
    spare, _ = cs.free_din(app, index=1)
    cs.allocate(app, wristband, mine)
    number = send(app, [mine, spare])
    receive(app, number, excursion)
    cs.thaw(app, mine)
    return wristband, mine, spare, number


def scan(app: Flask, wristband: str, din: str) -> bedside.BedsideVerdict:
    with cs.db(app) as s:
        verdict = bedside.run_check(
            s, user(s, "nurse"), key=app.extensions["lotrack_signing_key"],
            patient_text=wristband, scan_text=cs.label(app, din),
        ).verdict  # fmt: skip
        s.rollback()
        return verdict


def status(app: Flask, din: str) -> str:
    key = app.extensions["lotrack_signing_key"]
    with cs.db(app) as s:
        return token_verification.verify_token(s, key, make_token(key, "U", din), "cfMSC").status


def allocate_spare(app: Flask, spare: str) -> None:
    other = cs.enrol(app, "SUBJ-051")
    with cs.db(app) as s:
        p = clinical.get_patient(s, user(s, "qa"), other)
        rx = s.scalars(select(Prescription).where(Prescription.patient_id == p.id)).one()
        clinical.allocate(s, user(s, "tech"), rx, [spare])


def decide(app: Flask, number: str, outcome: str, *, by: str = "qa", **kw: str) -> None:
    meaning = {"released": "released for use", "rejected": "rejected"}[outcome]
    sign = SignIn(by, PASSWORDS[by], kw.get("meaning", meaning), kw.get("reason", "reviewed"))
    with cs.db(app) as s:
        actor = user(s, by)
        sent = shipment.get_shipment(s, actor, number)
        cold_chain.decide(s, actor, sent, outcome=outcome, sign_in=sign, lockout=cs.LOCKOUT)
        s.commit()


def test_an_excursion_holds_every_unit_of_the_shipment(demo_app):
    wristband, mine, spare, number = journey(demo_app, EXCURSION)
    verdict = scan(demo_app, wristband, mine)
    assert not verdict.go and verdict.codes == ("cold_chain_excursion",), verdict.reasons
    assert number in verdict.reasons[0] and "ON HOLD" in verdict.reasons[0]
    assert status(demo_app, mine) == status(demo_app, spare) == "ON HOLD"
    with pytest.raises(ValidationFailed) as refused:
        allocate_spare(demo_app, spare)
    assert "excursion" in refused.value.fields[spare]
    with cs.db(demo_app) as s:
        log = s.scalars(select(ColdChainLog)).one()
        assert log.excursion and log.judged >= 30 and log.ignored == 8
        assert [p["kind"] for p in cold_chain.problems_of(log)] == ["above"]
        assert log.max_c == "-135" and "STORAGE_STATEMENT" in log.range_source
        assert (
            log.attachment.sha256 == __import__("hashlib").sha256(log.attachment.data).hexdigest()
        )


def test_times_without_an_offset_are_the_facility_clock_so_a_late_excursion_is_caught(demo_app):
    """A logger exported on a PC in Shenzhen writes 08:00 for 00:00 UTC. Read as UTC, a warm
    reading three hours before receipt would land five hours after it, outside the journey, and
    a logger started the day before would leave no gap: the shipment would pass as clean."""
    from zoneinfo import ZoneInfo

    wristband = cs.enrol(demo_app, "SUBJ-051")
    mine, _ = cs.free_din(demo_app, index=0)
    cs.allocate(demo_app, wristband, mine)
    number = send(demo_app, [mine], hours_ago=24)
    local = ZoneInfo(demo_app.config["LOTRACK_SITE_TIME_ZONE"])
    with cs.db(demo_app) as s:
        shipped = shipment.get_shipment(s, user(s, "nurse"), number).shipped_at
    now = utcnow()
    utc_rows = logger_csv(
        shipped - dt.timedelta(hours=10), now, warm_at=now - dt.timedelta(hours=3)
    )
    naive = [utc_rows.decode().splitlines()[0]] + [
        f"{dt.datetime.fromisoformat(t).astimezone(local).replace(tzinfo=None).isoformat()},{c}"
        for t, c in (line.split(",") for line in utc_rows.decode().splitlines()[1:])
    ]
    log = receive(demo_app, number, False, data=("\n".join(naive) + "\n").encode())
    assert log.excursion, cold_chain.problems_of(log)
    assert [p["kind"] for p in cold_chain.problems_of(log)] == ["above"]
    assert '"zone": "Asia/Shanghai"' in log.mapping_spec  # read again the way it was judged
    cs.thaw(demo_app, mine)
    assert scan(demo_app, wristband, mine).codes == ("cold_chain_excursion",)


def test_a_clean_logger_holds_nothing(demo_app):
    wristband, mine, spare, _number = journey(demo_app, CLEAN)
    verdict = scan(demo_app, wristband, mine)
    assert verdict.go, verdict.reasons
    assert status(demo_app, spare) == "RELEASED"
    allocate_spare(demo_app, spare)  # not refused


def test_qa_releases_the_units_signed_and_they_go_on(demo_app):
    wristband, mine, _spare, number = journey(demo_app, EXCURSION)
    with pytest.raises(Forbidden):  # a nurse cannot release them
        decide(demo_app, number, "released", by="nurse")
    with pytest.raises(ValidationFailed):  # the meaning must be the decision's
        decide(demo_app, number, "released", meaning="rejected")
    with pytest.raises(ValidationFailed) as no_reason:
        decide(demo_app, number, "released", reason=" ")
    assert no_reason.value.fields == {"reason": "required"}
    assert not scan(demo_app, wristband, mine).go
    decide(demo_app, number, "released", reason="stability data cover 20 min at -120 °C")
    assert scan(demo_app, wristband, mine).go
    with pytest.raises(Conflict):  # decided once
        decide(demo_app, number, "rejected")
    with cs.db(demo_app) as s:
        (sig,) = s.scalars(select(RecordSignature)).all()[-1:]
        assert (sig.subject_kind, sig.meaning, sig.signer_username) == (
            "excursion_decision", "released for use", "qa"
        )  # fmt: skip
        log = s.scalars(select(ColdChainLog)).one()
        shown = cold_chain.record_signature.signatures_of(s, log.decision)
        assert [x.void for x in shown] == [False]


def test_qa_rejects_the_units_and_they_are_destroyed(demo_app):
    wristband, mine, spare, number = journey(demo_app, EXCURSION)
    decide(demo_app, number, "rejected", reason="out of range 5 min; no stability data")
    with cs.db(demo_app) as s:
        assert {lots.get_unit(s, d).state for d in (mine, spare)} == {"destroyed"}
    verdict = scan(demo_app, wristband, mine)
    assert not verdict.go and "cold_chain_excursion" in verdict.codes
    assert "destroyed" in verdict.codes


def test_an_unreadable_file_is_refused_before_anything_is_kept(demo_app):
    din, _ = cs.free_din(demo_app)
    number = send(demo_app, [din])
    bad = b"timestamp,temperature\n2026-12-01T00:00:00Z,-180\n2026-12-01T00:05:00Z,cold\n"
    with cs.db(demo_app) as s, pytest.raises(ValidationFailed) as err:
        nurse = user(s, "nurse")
        sent = shipment.get_shipment(s, nurse, number)
        shipment.receive(
            s, nurse, sent, received_dins=[din], condition="intact", temperature_record="x"
        )
        before = s.scalar(select(func.count()).select_from(Attachment))
        try:
            cold_chain.attach(
                s, nurse, sent, file=RawFile("x.csv", bad), mapping="generic",
                settings=settings(demo_app),
            )  # fmt: skip
        finally:
            assert s.scalar(select(func.count()).select_from(Attachment)) == before
    assert err.value.fields == {"logger_file": "line 3: the temperature cold is not a number"}


def test_the_file_is_judged_once_at_the_receiving_site_after_receipt(demo_app):
    din, _ = cs.free_din(demo_app)
    number = send(demo_app, [din])
    data = b"timestamp,temperature\n2026-12-01T00:00:00Z,-180\n"
    with cs.db(demo_app) as s:
        sent = shipment.get_shipment(s, user(s, "nurse"), number)
        with pytest.raises(Conflict):  # in transit: not received yet
            cold_chain.attach(
                s, user(s, "nurse"), sent, file=RawFile("a.csv", data), mapping="generic",
                settings=settings(demo_app),
            )  # fmt: skip
        with pytest.raises(Forbidden):  # QA does not receive
            cold_chain.attach(
                s, user(s, "qa"), sent, file=RawFile("a.csv", data), mapping="generic",
                settings=settings(demo_app),
            )  # fmt: skip
    log = receive(demo_app, number, CLEAN)
    assert not log.excursion
    with cs.db(demo_app) as s:
        sent = shipment.get_shipment(s, user(s, "nurse"), number)
        with pytest.raises(Conflict):
            cold_chain.attach(
                s, user(s, "nurse"), sent, file=RawFile("b.csv", data), mapping="generic",
                settings=settings(demo_app),
            )  # fmt: skip
        with pytest.raises(ValidationFailed) as unknown:
            cold_chain.attach(
                s, user(s, "nurse"), sent, file=RawFile("b.csv", data), mapping="nope",
                settings=settings(demo_app),
            )  # fmt: skip
        assert "mapping" in unknown.value.fields
    cs.site_user(demo_app)  # nurse-bj of BJ-CIP
    with cs.db(demo_app) as s, pytest.raises(NotFound):
        shipment.get_shipment(s, user(s, "nurse-bj"), number)


def test_the_logger_record_and_the_decision_are_append_only(demo_app):
    _w, _mine, _spare, number = journey(demo_app, EXCURSION)
    decide(demo_app, number, "released")
    for statement in (
        "UPDATE cold_chain_log SET excursion = false",
        "DELETE FROM cold_chain_log",
        "UPDATE excursion_decision SET outcome = 'rejected'",
        "DELETE FROM excursion_decision",
    ):
        with pytest.raises(Exception, match="append-only"):
            execute_as_owner(demo_app, statement)
