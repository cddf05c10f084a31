"""The request's unit of work (request_scope.UnitOfWorkFlask): whatever a view does, a request
commits once on success and keeps nothing when it fails, whether the failure is a refusal, a bug,
or the database refusing the commit itself. The permission matrix proves the same of every route
of the URL map; these routes, added for the test, fail on purpose after writing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, flash
from sqlalchemy import func, select

from lotrack.domain.errors import ValidationFailed
from lotrack.models import Site
from lotrack.request_scope import db_session
from lotrack.services.signature import SignatureRefused
from tests.commit_probe import CommitProbe, install


def _write(code: str) -> None:
    db_session().add(Site(code=code, name=f"Site {code}", time_zone="Asia/Shanghai"))
    db_session().flush()


@pytest.fixture
def routed(app: Flask) -> Iterator[tuple[Flask, CommitProbe]]:
    """The empty application with routes that write a site, then answer or fail."""

    def written() -> str:
        _write("OK")
        return "written"

    def refused() -> str:
        _write("REFUSED")
        raise ValidationFailed("Refused after writing.", {"code": "refused"})

    def broken() -> str:
        _write("BROKEN")
        raise RuntimeError("a bug after writing")

    def refused_in_page() -> tuple[str, int]:
        _write("PAGE")
        return "a page that says no", 422

    def kept() -> str:
        _write("KEPT")  # what a refused signature keeps: its failure count
        raise SignatureRefused("Wrong password.", {"password": "wrong"})  # pragma: allowlist secret

    def conflict_at_commit() -> str:
        # Not flushed: the duplicate code reaches the database only when the request commits.
        db_session().add(Site(code="OK", name="again", time_zone="Asia/Shanghai"))
        flash("Site saved.")
        return "saved?"

    for view in (written, refused, broken, refused_in_page, kept, conflict_at_commit):
        app.add_url_rule(f"/test/{view.__name__}", view.__name__, view)
    yield app, install(app)


def _sites(app: Flask) -> set[str]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return set(s.scalars(select(Site.code)))


def test_a_success_is_committed_once(routed: tuple[Flask, CommitProbe]) -> None:
    app, probe = routed
    assert app.test_client().get("/test/written").status_code == 200
    assert probe.commits == 1
    assert "OK" in _sites(app)


@pytest.mark.parametrize(
    ("path", "status"),
    [("refused", 422), ("broken", 500), ("refused_in_page", 422)],
)
def test_a_failed_request_keeps_nothing(
    routed: tuple[Flask, CommitProbe], path: str, status: int
) -> None:
    app, probe = routed
    before = _sites(app)
    assert app.test_client().get(f"/test/{path}").status_code == status
    assert _sites(app) == before
    assert "site" not in probe.written


def test_a_refusal_that_keeps_its_writes_commits_them(routed: tuple[Flask, CommitProbe]) -> None:
    app, probe = routed
    assert app.test_client().get("/test/kept").status_code == 403
    assert "KEPT" in _sites(app)
    assert probe.commits == 1


def test_a_commit_the_database_refuses_is_an_error_not_a_success(
    routed: tuple[Flask, CommitProbe],
) -> None:
    app, _probe = routed
    client = app.test_client()
    assert client.get("/test/written").status_code == 200
    resp = client.get("/test/conflict_at_commit", headers={"Accept": "application/json"})
    assert resp.status_code == 409
    assert resp.get_json()["error"] == "conflict"
    with client.session_transaction() as browser:
        assert "_flashes" not in browser  # "Site saved." is not announced
    with app.extensions["lotrack_db"].sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(Site).where(Site.code == "OK")) == 1
