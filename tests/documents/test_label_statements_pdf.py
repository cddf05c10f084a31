"""A label's statements come from the lot's facts at the moment of printing: once QA records the
donor's eligibility as incomplete, the next label of that donor's lot carries the reference's
two warnings in both languages, above the investigational statement, and says NOT FOR USE."""

from __future__ import annotations

from flask import Flask

from lotrack.domain.states import Determination
from lotrack.request_scope import db_session, printing
from lotrack.services import donor as donors
from lotrack.services import lot as lots
from lotrack.services import unit_labels
from tests.conftest import user
from tests.documents.conftest import RELEASED_LOT
from tests.documents.pdfs import page_texts

WARNINGS = (
    "未经传染性物质评价",
    "NOT EVALUATED FOR INFECTIOUS SUBSTANCES",
    "警告：须告知患者传染病风险",
    "WARNING: Advise patient of communicable disease risks",
)


def _label_text(session, lot_number: str, reason: str) -> str:
    unit = lots.get_lot(session, lot_number).units[0]
    sheet = unit_labels.print_labels(session, user(session, "tech"), [unit], printing(), reason)
    return " ".join(page_texts(sheet.pdf)[0].split())


def test_a_donor_found_not_eligible_puts_the_warnings_on_the_next_label(demo_app: Flask) -> None:
    with demo_app.app_context():
        session = db_session()
        before = _label_text(session, RELEASED_LOT, "")
        assert not any(w in before for w in WARNINGS)
        assert "For clinical trial use only" in before
        donors.determine_eligibility(
            session,
            user(session, "qa"),
            donors.get_donor(session, "FD-0001"),
            determination=Determination.INCOMPLETE,
            responsible_person="Demo Medical Director",
            reason="test: a screening result withdrawn by the laboratory",
        )
        session.flush()
        after = _label_text(session, RELEASED_LOT, "test: relabel after the donor's change")
    for warning in WARNINGS:
        assert warning in after, warning
    assert after.index(WARNINGS[0]) < after.index("仅用于临床试验")
    assert after.index(WARNINGS[1]) < after.index("For clinical trial use only")
    assert "NOT FOR USE" in after  # the lookback put the lot on hold
