"""Specification versions: loaded as drafts when the content changes, approved by QA only, never
changed once approved, and pinned by each lot so a later edit never changes its verdicts."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, Forbidden, ValidationFailed
from lotrack.domain.specs import Verdict
from lotrack.models import AuditEvent, Result, SpecVersion, User
from lotrack.services import accounts, audit, evaluation, lot, result, specs
from tests.conftest import execute_as_owner, user
from tests.record_signing import signs


def spec_copy(tmp_path: Path, edits: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    """A copy of specs/ with textual edits per file (each must apply)."""
    target = tmp_path / "specs"
    shutil.copytree(specs.SPECS_DIR, target)
    for name, changes in (edits or {}).items():
        path = target / name
        body = path.read_text(encoding="utf-8")
        for old, new in changes:
            assert old in body, (name, old)
            body = body.replace(old, new, 1)
        path.write_text(body, encoding="utf-8")
    return target


# Viability >= 85.0 instead of 80.0; potency >= 50.0 instead of 20.0.
STRICTER = {
    "cfmsc-release.toml": [
        ('lower = "80.0"\nalert_lower = "85.0"', 'lower = "85.0"\nalert_lower = "85.0"'),
        ('lower = "20.0"', 'lower = "50.0"'),
    ]
}


def release(session: Session, version: int) -> SpecVersion:
    return session.scalars(
        select(SpecVersion).where(SpecVersion.stage == "release", SpecVersion.version == version)
    ).one()


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


PW = "x" * 12


@pytest.fixture
def people(empty_session: Session) -> dict[str, User]:
    return {
        name: accounts.create_user(
            empty_session,
            None,
            username=name,
            full_name=name,
            role=role,
            password=PW,
            must_change_password=False,
        )
        for name, role in (("tech", "technician"), ("qa", "qa"), ("qa2", "qa"))
    }


def test_loading_creates_one_v1_draft_per_file_and_nothing_when_unchanged(empty_session):
    s = empty_session
    first = specs.load_specs(s, None)
    assert sorted((o.file, o.version, o.created) for o in first) == [
        ("cfmsc-in-process.toml", 1, True),
        ("cfmsc-mcb.toml", 1, True),
        ("cfmsc-release.toml", 1, True),
        ("cfmsc-wcb.toml", 1, True),
    ]
    versions = specs.list_versions(s)
    assert all(v.approved_at is None and specs.status(s, v) == "draft" for v in versions)
    assert specs.effective(s, "cfMSC", "release") is None
    with pytest.raises(Conflict) as err:
        specs.require_effective(s, "cfMSC", "release")
    assert "spec" in err.value.fields
    s.commit()
    again = specs.load_specs(s, None)
    assert [o.created for o in again] == [False] * 4
    assert [o.label for o in again] == [o.label for o in first]
    s.commit()
    assert count(s, SpecVersion) == 4
    created = select(func.count()).where(
        AuditEvent.entity_type == "spec_version", AuditEvent.action == "create"
    )
    assert s.scalar(created) == 4 and audit.verify(s).ok


def test_an_edited_file_becomes_a_v2_draft_of_that_file_only(empty_session, tmp_path):
    s = empty_session
    specs.load_specs(s, None)
    outcomes = specs.load_specs(s, None, spec_copy(tmp_path, STRICTER))
    assert [(o.file, o.version) for o in outcomes if o.created] == [("cfmsc-release.toml", 2)]
    v1, v2 = release(s, 1), release(s, 2)
    assert v1.content_hash != v2.content_hash and v2.source_file == "cfmsc-release.toml"
    assert specs.content_of(v2).test("VIAB").limits.lower.value == 85
    assert specs.content_of(v1).test("VIAB").limits.lower.value == 80
    assert specs.status(s, v1) == "withdrawn draft" and specs.status(s, v2) == "draft"


def test_a_bad_file_refuses_the_whole_load_naming_file_and_field(empty_session, tmp_path):
    edits = {"cfmsc-wcb.toml": [('lower = "80.0"', "lower = 80.0")]}
    with pytest.raises(ValidationFailed) as err:
        specs.load_specs(empty_session, None, spec_copy(tmp_path, edits))
    assert "cfmsc-wcb.toml: tests[0] VIAB.lower" in err.value.fields
    assert count(empty_session, SpecVersion) == 0


def test_two_files_for_one_stage_or_no_file_at_all_are_refused(empty_session, tmp_path):
    folder = spec_copy(tmp_path)
    shutil.copy(folder / "cfmsc-wcb.toml", folder / "cfmsc-wcb-copy.toml")
    with pytest.raises(ValidationFailed) as err:
        specs.load_specs(empty_session, None, folder)
    assert err.value.fields == {"cfmsc-wcb.toml": "cfMSC WCB is also in cfmsc-wcb-copy.toml"}
    with pytest.raises(ValidationFailed) as err:
        specs.load_specs(empty_session, None, tmp_path)
    assert err.value.fields == {"specs": "none"}
    assert count(empty_session, SpecVersion) == 0


def test_only_qa_approves_and_then_the_version_is_in_effect(empty_session, people):
    s = empty_session
    specs.load_specs(s, None)
    v1 = release(s, 1)
    with pytest.raises(Forbidden):
        specs.approve(s, people["tech"], v1, **signs("tech", "approved", password=PW))
    assert v1.approved_at is None and specs.effective(s, "cfMSC", "release") is None
    specs.approve(s, people["qa"], v1, **signs("qa", "approved", password=PW))
    assert v1.approved_by_id == people["qa"].id and v1.approved_at is not None
    assert specs.effective(s, "cfMSC", "release") is v1
    assert specs.status(s, v1) == "in effect"
    s.commit()
    events = audit.history(s, "spec_version", str(v1.id))
    assert [(e.action, e.actor) for e in events] == [("create", "system"), ("update", "qa")]
    assert v1.content_hash[:12] in events[-1].reason
    assert audit.verify(s).ok


def test_an_approved_version_is_not_approved_again(empty_session, people):
    s = empty_session
    specs.load_specs(s, None)
    v1 = release(s, 1)
    specs.approve(s, people["qa"], v1, **signs("qa", "approved", password=PW))
    with pytest.raises(Conflict) as err:
        specs.approve(s, people["qa2"], v1, **signs("qa2", "approved", password=PW))
    assert err.value.fields == {"spec": "approved already"}
    assert v1.approved_by_id == people["qa"].id


def test_a_version_older_than_the_newest_is_not_approved(empty_session, people, tmp_path):
    s = empty_session
    specs.load_specs(s, None)
    specs.load_specs(s, None, spec_copy(tmp_path, STRICTER))
    with pytest.raises(Conflict) as err:
        specs.approve(s, people["qa"], release(s, 1), **signs("qa", "approved", password=PW))
    assert err.value.fields == {"spec": "version 2 is newer"}
    assert specs.effective(s, "cfMSC", "release") is None


def test_effective_is_the_newest_approved_version(empty_session, people, tmp_path):
    s = empty_session
    specs.load_specs(s, None)
    v1 = release(s, 1)
    specs.approve(s, people["qa"], v1, **signs("qa", "approved", password=PW))
    specs.load_specs(s, None, spec_copy(tmp_path, STRICTER))
    v2 = release(s, 2)
    assert specs.effective(s, "cfMSC", "release") is v1  # a draft does not take effect
    assert specs.newer_approved(s, v1) is None
    specs.approve(s, people["qa"], v2, **signs("qa", "approved", password=PW))
    assert specs.effective(s, "cfMSC", "release") is v2
    assert specs.newer_approved(s, v1) is v2 and specs.newer_approved(s, v2) is None
    assert (specs.status(s, v1), specs.status(s, v2)) == ("superseded", "in effect")
    assert specs.effective(s, "cfMSC", "MCB") is None  # each stage has its own versions


def _record(s: Session, subject, test: str, value: str, unit: str = "%"):
    return result.record_result(
        s, user(s, "tech"), subject, test=test, value=value, unit=unit, performed_on=utcnow().date()
    )


def test_a_spec_edit_after_a_lot_was_created_does_not_change_its_verdicts(session, tmp_path):
    s = session
    tech, qa = user(s, "tech"), user(s, "qa")
    old = lot.register_lot(
        s, tech, run_code="RUN-2025-02", harvested_on=dt.date(2025, 9, 22),
        expires_on=dt.date(2026, 9, 22),
    )  # fmt: skip
    viab = _record(s, old, "VIAB", "82.0")
    assert viab.verdict == Verdict.ALERT  # v1: >= 80.0, alert below 85.0
    before = evaluation.evaluate_lot(s, old)
    specs.load_specs(s, None, spec_copy(tmp_path, STRICTER))
    v1, v2 = release(s, 1), release(s, 2)
    specs.approve(s, qa, v2, **signs("qa", "approved"))
    s.commit()
    # A result recorded after the edit is still judged by the version the lot pinned.
    potency = _record(s, old, "POTENCY", "46.0")
    assert (potency.verdict, potency.spec_version_id) == (Verdict.PASS, v1.id)
    after = evaluation.evaluate_lot(s, old)
    verdicts = {o.test.code: o.verdict for o in after.evaluation.outcomes}
    assert verdicts["VIAB"] == Verdict.ALERT and verdicts["POTENCY"] == Verdict.PASS
    assert after.version is v1 and after.newer is v2
    assert any("cfMSC release v2" in w for w in after.evaluation.warnings)
    assert not any("v2" in w for w in before.evaluation.warnings)
    assert s.get(Result, viab.id).verdict == Verdict.ALERT
    new = lot.register_lot(
        s, tech, run_code="RUN-2025-02", harvested_on=dt.date(2025, 9, 23),
        expires_on=dt.date(2026, 9, 23),
    )  # fmt: skip
    assert new.spec_version is v2
    assert _record(s, new, "VIAB", "82.0").verdict == Verdict.FAIL
    assert _record(s, new, "POTENCY", "46.0").verdict == Verdict.FAIL
    assert evaluation.evaluate_lot(s, new).newer is None
    demo = evaluation.evaluate_lot(s, lot.get_lot(s, "CFM-2025-0001"))
    assert all(o.verdict in (Verdict.PASS, Verdict.ALERT) for o in demo.evaluation.outcomes)
    # Judged by v1 still; only the OOS that v2 opened on its sibling (same WCB) holds it back.
    assert {b.kind for b in demo.evaluation.blockers} == {"investigation"}
    s.commit()
    assert audit.verify(s).ok


def _first_result(s: Session, where: str) -> int:
    return s.scalar(text(f"SELECT min(id) FROM result WHERE {where}"))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE spec_version SET content = '{{}}' WHERE id = {spec}",
        "UPDATE spec_version SET content_hash = 'x' WHERE id = {spec}",
        "UPDATE spec_version SET approved_at = NULL WHERE id = {spec}",
        "UPDATE spec_version SET approved_by_id = {tech} WHERE id = {spec}",
        "DELETE FROM spec_version WHERE id = {spec}",
        "DELETE FROM result WHERE id = {verified}",
        "UPDATE result SET value = '99.9' WHERE id = {verified}",
        "UPDATE result SET verdict = 'pass' WHERE id = {failing}",
        "UPDATE result SET verified_by_id = {qa} WHERE id = {verified}",
        "UPDATE result SET invalidation_reason = 'other' WHERE id = {invalidated}",
    ],
)
def test_the_database_refuses_to_overwrite_or_delete_records(demo_app, session, statement):
    """The triggers refuse even the owner (the application's role has no such privilege)."""
    s = session
    ids = {
        "spec": release(s, 1).id,
        "tech": user(s, "tech").id,
        "qa": user(s, "qa").id,
        "verified": _first_result(s, "verified_by_id IS NOT NULL AND invalidated_at IS NULL"),
        "failing": _first_result(s, "verdict = 'fail'"),
        "invalidated": _first_result(s, "invalidated_at IS NOT NULL"),
    }
    assert all(ids.values())
    before = s.execute(text("SELECT * FROM result ORDER BY id")).all()
    s.rollback()
    with pytest.raises(DBAPIError) as err:
        execute_as_owner(demo_app, statement.format(**ids))
    assert "never overwritten or deleted" in str(err.value)
    s.rollback()
    assert s.execute(text("SELECT * FROM result ORDER BY id")).all() == before
    assert release(s, 1).approved_at is not None
