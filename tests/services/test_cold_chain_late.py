"""A logger file is a fact that may come after the units were used: an excursion found then holds
what is left, and reaches each patient already infused (recorded on the infusion, told to the
people who must assess them), and everyone concerned is told of the hold."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from lotrack.db import utcnow
from lotrack.domain.permissions import Role
from lotrack.models import AuditEvent, Infusion, MailOutbox, Unit, User
from lotrack.services import cold_chain, shipment
from lotrack.services.raw_data import RawFile
from tests import clinical_setup as cs
from tests.conftest import user
from tests.services.test_cold_chain import logger_csv, scan, send, settings, status


def receive_without_logger(app: Flask, number: str) -> None:
    with cs.db(app) as s:
        nurse = user(s, "nurse")
        sent = shipment.get_shipment(s, nurse, number)
        shipment.receive(
            s, nurse, sent, received_dins=[i.unit.din for i in sent.items],
            condition="intact", temperature_record="logger file to follow",
        )  # fmt: skip
        s.commit()


def attach_excursion(app: Flask, number: str) -> None:
    with cs.db(app) as s:
        nurse = user(s, "nurse")
        sent = shipment.get_shipment(s, nurse, number)
        warm = sent.shipped_at + (sent.received_at - sent.shipped_at) / 2
        data = logger_csv(sent.shipped_at, utcnow(), warm_at=warm)
        log = cold_chain.attach(
            s, nurse, sent, file=RawFile("late.csv", data), mapping="generic",
            settings=settings(app),
        )  # fmt: skip
        assert log.excursion
        s.commit()


def notices(app: Flask, event: str) -> dict[str, str]:
    """{recipient's role: body} of each notice of `event` (one per person)."""
    with cs.db(app) as s:
        rows = s.execute(
            select(User.role, MailOutbox.body)
            .join(User, User.id == MailOutbox.recipient_id)
            .where(MailOutbox.event == event)
        ).all()
    return {str(role): body for role, body in rows}


def test_a_logger_file_after_an_infusion_reaches_the_patient_and_holds_the_rest(demo_app):
    wristband = cs.enrol(demo_app, "SUBJ-052")
    mine, _ = cs.free_din(demo_app, index=0)
    spare, _ = cs.free_din(demo_app, index=1)
    cs.allocate(demo_app, wristband, mine)
    number = send(demo_app, [mine, spare])
    receive_without_logger(demo_app, number)
    cs.infuse(demo_app, wristband, mine)  # GO: no logger file yet
    attach_excursion(demo_app, number)

    assert status(demo_app, spare) == "ON HOLD"
    with cs.db(demo_app) as s:
        infusion = s.scalars(select(Infusion).join(Unit).where(Unit.din == mine)).one()
        acts = s.execute(
            select(AuditEvent.action, AuditEvent.entity_type, AuditEvent.entity_id).where(
                AuditEvent.action.in_(["infusion_cold_chain_excursion", "unit_cold_chain_hold"])
            )
        ).all()
        spare_id = s.scalar(select(Unit.id).where(Unit.din == spare))
    assert sorted(acts) == [
        ("infusion_cold_chain_excursion", "infusion", str(infusion.id)),
        ("unit_cold_chain_hold", "unit", str(spare_id)),
    ]
    after = notices(demo_app, "excursion_after_infusion")
    assert {Role.MEDICAL_DIRECTOR, Role.INVESTIGATOR, Role.QA} <= set(after)
    for body in after.values():
        assert f"{mine} → {wristband}" in body and spare not in body
        assert "已输注" in body and "assess the patients" in body
    held = notices(demo_app, "cold_chain_excursion")
    assert {Role.QA, Role.MEDICAL_DIRECTOR, Role.CLINICAL} <= set(held)
    for body in held.values():
        assert spare in body and mine not in body and number in body


def test_an_excursion_before_any_infusion_tells_of_the_hold_only(demo_app):
    wristband = cs.enrol(demo_app, "SUBJ-053")
    mine, _ = cs.free_din(demo_app, index=0)
    cs.allocate(demo_app, wristband, mine)
    number = send(demo_app, [mine])
    receive_without_logger(demo_app, number)
    attach_excursion(demo_app, number)
    assert notices(demo_app, "excursion_after_infusion") == {}
    held = notices(demo_app, "cold_chain_excursion")
    assert Role.QA in held and all(mine in body for body in held.values())
    cs.thaw(demo_app, mine)
    assert scan(demo_app, wristband, mine).codes == ("cold_chain_excursion",)
