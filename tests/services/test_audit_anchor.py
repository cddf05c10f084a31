"""The audit chain's anchor: signed checkpoints of its head, kept in the database and in a file,
made with a key the database does not hold.

The insider of issue 16 connects as the tables' owner, drops the append-only triggers, rewrites
one event, recomputes every later hash and the head: the bare chain then verifies. A checkpoint
signed before the rewrite does not agree with the recomputed chain, and the insider cannot sign
a new one; deleting checkpoints from the database shows against the file."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from sqlalchemy import func, select, text

from lotrack.migrations.guards import (
    CHECKPOINT_MESSAGE,
    audit_guard_statements,
    audit_unguard_statements,
    checkpoint_unguard_statements,
)
from lotrack.models import AuditCheckpoint, AuditEvent
from lotrack.services import audit, audit_verify
from lotrack.services.audit import GENESIS
from lotrack.services.audit_anchor import Anchor
from tests.conftest import owner_engine


def _sql(app: Flask, *statements: str, **params: object) -> None:
    """As the tables' owner, the insider of issue 16 (the application's role cannot)."""
    with owner_engine(app) as engine, engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def _dialect(app: Flask) -> str:
    return app.extensions["lotrack_db"].engine.dialect.name


def _anchor(app: Flask) -> Anchor:
    anchor: Anchor = app.extensions["lotrack_audit_anchor"]
    return anchor


def _verify(app: Flask, anchored: bool = True) -> audit_verify.VerifyReport:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return audit.verify(s, _anchor(app) if anchored else None)


def _cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["lotrack", "audit", *args])


def _events(app: Flask) -> int:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _note(app: Flask, n: int) -> None:
    """`n` more events, written as the application writes them."""
    with app.extensions["lotrack_db"].sessionmaker() as s:
        for i in range(n):
            audit.event(s, None, "note", ("site", f"x{i}"), {"i": i}, "more work")
        s.commit()


def _rewrite_and_rechain(app: Flask, seq: int) -> None:
    """What the insider did: change event `seq`, recompute every later hash and the head, with
    the triggers off, then put the triggers back."""
    dialect = _dialect(app)
    _sql(app, *audit_unguard_statements(dialect))
    _sql(app, "UPDATE audit_event SET reason = 'nothing happened' WHERE seq = :seq", seq=seq)
    with app.extensions["lotrack_db"].sessionmaker() as s:
        rows = list(audit_verify._stored_rows(s))
    prev = rows[seq - 2][10] if seq > 1 else GENESIS
    rechained = []
    for row in rows[seq - 1 :]:
        digest = audit_verify.canonical_stored((*row[:9], prev))
        new = hashlib.sha256((prev + digest).encode()).hexdigest()
        rechained.append((row[0], prev, new))
        prev = new
    with owner_engine(app) as engine, engine.begin() as conn:
        for number, before, after in rechained:
            conn.execute(
                text("UPDATE audit_event SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": before, "h": after, "s": number},
            )
        conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})
    _sql(app, *audit_guard_statements(dialect))


def test_a_checkpoint_is_signed_into_the_database_and_the_file(demo_app: Flask) -> None:
    made = _cli(demo_app, "checkpoint")
    assert made.exit_code == 0, made.output
    events = _events(demo_app)
    assert f"checkpoint of event {events} " in made.output
    lines = _anchor(demo_app).file.read_text("utf-8").splitlines()
    filed = json.loads(lines[-1])
    assert filed["seq"] == events and filed["key_id"] == _anchor(demo_app).key_id
    report = _verify(demo_app)
    assert report.ok and "1 signed checkpoints agree" in report.message
    verified = _cli(demo_app, "verify")
    assert verified.exit_code == 0 and "intact" in verified.output


def test_a_rewritten_and_rechained_event_is_caught_by_the_signed_head(demo_app: Flask) -> None:
    assert _cli(demo_app, "checkpoint").exit_code == 0
    first = _events(demo_app)
    _note(demo_app, 3)
    assert _cli(demo_app, "checkpoint").exit_code == 0
    _note(demo_app, 2)  # work after the last checkpoint is covered by the chain alone
    rewritten = first + 2  # between the two checkpoints
    _rewrite_and_rechain(demo_app, rewritten)
    assert _verify(demo_app, anchored=False).ok  # the bare chain is fooled, as in the issue
    report = _verify(demo_app)
    assert not report.ok
    # The first checkpoint still agrees; the second, at first + 3, does not.
    assert report.broken_seq == first + 1
    assert f"signed at event {first + 3} " in report.message
    assert f"an event from {first + 1} to {first + 3} was rewritten" in report.message
    verified = _cli(demo_app, "verify")
    assert verified.exit_code == 1 and "departs from its head" in verified.output


def test_a_checkpoint_signed_by_another_key_is_refused(demo_app: Flask) -> None:
    assert _cli(demo_app, "checkpoint").exit_code == 0
    forger = Anchor(Ed25519PrivateKey.generate(), _anchor(demo_app).file.with_name("forged.jsonl"))
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        from lotrack.services.audit_anchor import make_checkpoint

        make_checkpoint(s, forger)
        s.commit()
    report = _verify(demo_app)
    assert not report.ok and "not signed by this facility's checkpoint key" in report.message


def test_checkpoints_deleted_from_the_database_show_against_the_file(demo_app: Flask) -> None:
    assert _cli(demo_app, "checkpoint").exit_code == 0
    _sql(demo_app, *checkpoint_unguard_statements(_dialect(demo_app)))
    _sql(demo_app, "DELETE FROM audit_checkpoint")
    report = _verify(demo_app)
    assert not report.ok and "is missing from the database: checkpoints were deleted" in (
        report.message
    )


def test_a_line_of_the_file_that_is_not_a_checkpoint_is_named(demo_app: Flask) -> None:
    assert _cli(demo_app, "checkpoint").exit_code == 0
    with _anchor(demo_app).file.open("a", encoding="utf-8") as out:
        out.write("{not json\n")
    report = _verify(demo_app)
    assert not report.ok and "audit_checkpoints.jsonl line 2 is not a checkpoint" in report.message


def test_events_cut_from_the_end_show_against_a_checkpoint(demo_app: Flask) -> None:
    """The insider deletes the last events and winds the head back: the chain alone would be
    whole; the checkpoint vouches for more events than are left."""
    _note(demo_app, 2)
    assert _cli(demo_app, "checkpoint").exit_code == 0
    events = _events(demo_app)
    dialect = _dialect(demo_app)
    _sql(demo_app, *audit_unguard_statements(dialect))
    _sql(demo_app, "DELETE FROM audit_event WHERE seq > :keep", keep=events - 2)
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        last = s.scalar(select(AuditEvent.hash).where(AuditEvent.seq == events - 2))
    _sql(demo_app, "UPDATE audit_head SET seq = :s, hash = :h", s=events - 2, h=last)
    assert _verify(demo_app, anchored=False).ok
    report = _verify(demo_app)
    assert not report.ok and report.broken_seq == events - 1
    assert f"a signed checkpoint vouches for {events} events, {events - 2} found" in report.message


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_checkpoint SET seq = 0", "DELETE FROM audit_checkpoint"]
)
def test_the_database_refuses_to_change_or_delete_a_checkpoint(
    demo_app: Flask, statement: str
) -> None:
    assert _cli(demo_app, "checkpoint").exit_code == 0
    with pytest.raises(Exception, match="append-only") as refused:
        _sql(demo_app, statement)
    assert CHECKPOINT_MESSAGE.split(":")[0] in str(refused.value)
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1


def test_every_backup_signs_a_checkpoint_first(demo_app: Flask, tmp_path) -> None:
    result = demo_app.test_cli_runner().invoke(
        args=["lotrack", "backup", str(tmp_path / "lotrack.backup")]
    )
    assert result.exit_code == 0, result.output
    assert f"checkpoint of event {_events(demo_app)} signed" in result.output
    assert len(_anchor(demo_app).file.read_text("utf-8").splitlines()) == 1


def test_the_verify_page_says_the_checkpoints_agree_then_that_the_chain_departs(
    demo_app: Flask,
) -> None:
    from tests.conftest import login

    assert _cli(demo_app, "checkpoint").exit_code == 0
    client = demo_app.test_client()
    assert login(client, "qa").status_code == 302
    page = client.get("/audit/verify", headers={"Accept-Language": "zh-CN"}).get_data(True)
    assert 'data-chain="intact"' in page and "1 个已签名检查点一致" in page
    _rewrite_and_rechain(demo_app, 3)
    page = client.get("/audit/verify", headers={"Accept-Language": "en"}).get_data(True)
    assert 'data-chain="broken"' in page and "departs from its head signed at event" in page


def test_the_app_signs_the_head_itself_when_the_interval_has_passed(demo_app: Flask) -> None:
    """After a successful request, once LOTRACK_AUDIT_CHECKPOINT_MINUTES have passed and the head
    has moved: one checkpoint, in the database and the file; none again until the next time."""
    from tests.conftest import login

    schedule = demo_app.extensions["lotrack_checkpoint_schedule"]
    assert schedule.seconds == 60 * 60  # the default: hourly
    client = demo_app.test_client()
    assert login(client, "qa").status_code == 302  # a login writes: the head moves
    assert not _anchor(demo_app).file.exists()  # not due yet
    schedule.next_at = 0  # the hour has passed
    assert client.get("/lots").status_code == 200
    lines = _anchor(demo_app).file.read_text("utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["seq"] == _events(demo_app)
    assert client.get("/lots").status_code == 200  # the next hour has not
    schedule.next_at = 0
    assert client.get("/lots").status_code == 200  # due, but the head has not moved since
    assert len(_anchor(demo_app).file.read_text("utf-8").splitlines()) == 1
    assert _verify(demo_app).ok
