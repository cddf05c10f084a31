"""The audit trail's page count: the whole trail is counted by its head, a filtered one by its rows;
either way the number a reader sees is the number of events there are."""

from __future__ import annotations

from sqlalchemy import func, select

from lotrack.models import AuditEvent
from lotrack.services import audit
from tests.conftest import user


def test_the_whole_trail_counts_every_event_and_a_filter_counts_its_own(session):
    s = session
    qa = user(s, "qa")
    audit.event(s, qa, "note", ("lot", "CFM-2025-0001"), {"n": 1})
    audit.event(s, qa, "note", ("lot", "CFM-2025-0001"), {"n": 2})
    s.commit()
    every = s.scalar(select(func.count()).select_from(AuditEvent))
    page = audit.search(s, per_page=7)
    assert page.total == every and page.pages == -(-every // 7)
    assert [e.seq for e in page.items] == list(range(every, every - 7, -1))
    mine = audit.search(s, actor="qa", entity_type="lot", entity_id="CFM-2025-0001")
    assert mine.total == s.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.actor == "qa",
            AuditEvent.entity_type == "lot",
            AuditEvent.entity_id == "CFM-2025-0001",
        )
    )
