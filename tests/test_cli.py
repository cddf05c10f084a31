"""`flask --app wsgi lotrack ...`: the operators' commands of the public contract."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import func, inspect, select, text

from lotrack import PROJECT_ROOT, create_app
from lotrack.migrations.guards import audit_unguard_statements
from lotrack.models import ApiToken, AuditHead, User
from lotrack.services import accounts, api_tokens, enrolment, seed, specs
from tests.conftest import api_get_route, owner_engine
from tests.record_signing import signs
from tests.test_migrations import make_blank


def _state(app) -> tuple[int, int]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return s.get(AuditHead, 1).seq, s.scalar(select(func.count()).select_from(User))


def _user(app, username: str) -> User | None:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return s.scalar(select(User).where(User.username == username))


def _run(app, *args: str, stdin: str | None = None):
    return app.test_cli_runner().invoke(args=["lotrack", *args], input=stdin)


def _flask(app, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """The real command line, as an operator types it, on the test's database."""
    env = {
        **os.environ,
        "LOTRACK_DATABASE_URL": app.config["LOTRACK_DATABASE_URL"],
        # The owner too (PostgreSQL), as the operator sets it for init and restore.
        "LOTRACK_OWNER_DATABASE_URL": app.config["LOTRACK_OWNER_DATABASE_URL"],
        "LOTRACK_INSTANCE_PATH": app.instance_path,
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "lotrack", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=120,
        check=False,
    )


# --- user create -----------------------------------------------------------------------------


def test_user_create_reads_the_password_from_standard_input(demo_app):
    done = _flask(
        demo_app,
        *("user", "create", "operator1", "--role", "technician"),
        stdin="an operator passphrase\n",
    )
    assert done.returncode == 0, done.stderr
    assert "operator1" in done.stdout and "changed at first login" in done.stdout
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        outcome = accounts.authenticate(
            s, "operator1", "an operator passphrase", max_failures=5, lockout_minutes=15
        )
        # The operator chose it: the account must change it before it does anything else.
        assert outcome.user is not None and outcome.user.role == "technician"
        assert outcome.user.must_change_password


def test_user_create_with_enrol_prints_a_code_and_asks_no_password(demo_app):
    result = _run(demo_app, "user", "create", "newbie", "--role", "technician", "--enrol")
    assert result.exit_code == 0, result.output
    code = result.output.strip().splitlines()[-1]
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        assert s.scalar(select(User).where(User.username == "newbie")).enrolled_at is None
        user = enrolment.enrol(s, code, "my own passphrase", "my own passphrase", min_length=12)
        assert user.username == "newbie" and not user.must_change_password


@pytest.mark.parametrize("role", ["qa", "medical_director"])
def test_user_create_gives_no_signing_role(demo_app, role):
    before = _state(demo_app)
    result = _run(demo_app, "user", "create", "newbie", "--role", role, stdin="a passphrase x\n")
    assert result.exit_code != 0 and "second administrator" in result.output
    assert _state(demo_app) == before


def test_user_create_gives_admin_only_to_the_first_two(demo_app):
    args = ("--role", "admin", "--enrol")
    assert _run(demo_app, "user", "create", "admin2", *args).exit_code == 0  # the demo has one
    before = _state(demo_app)
    result = _run(demo_app, "user", "create", "admin3", *args)
    assert result.exit_code != 0 and "2 administrators already" in result.output
    assert _state(demo_app) == before


def test_user_create_binds_a_clinical_user_to_a_site(demo_app):
    result = _run(
        demo_app,
        *("user", "create", "nurse9", "--role", "clinical", "--site", "BJ-ACH"),
        *("--full-name", "Second Nurse"),
        stdin="a nurse passphrase\n",
    )
    assert result.exit_code == 0, result.output
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        nurse9 = s.scalar(select(User).where(User.username == "nurse9"))
        assert (nurse9.site.code, nurse9.full_name) == ("BJ-ACH", "Second Nurse")


@pytest.mark.parametrize(
    "args, password, says",
    [
        (("newbie", "--role", "superuser"), "a long passphrase", "role"),
        (("newbie", "--role", "technician"), "short", "at least 12 characters"),
        (("newbie", "--role", "technician"), "", "at least 12 characters"),
        (("tech", "--role", "technician"), "a long passphrase", "exists already"),
        (("newbie", "--role", "clinical"), "a long passphrase", "site"),
        (("newbie", "--role", "clinical", "--site", "XX"), "a long passphrase", "no site"),
    ],
)
def test_user_create_refuses_bad_input_clearly_and_creates_nothing(demo_app, args, password, says):
    before = _state(demo_app)
    result = _run(demo_app, "user", "create", *args, stdin=password + "\n")
    assert result.exit_code != 0
    assert says in result.output
    assert "Traceback" not in result.output
    assert _state(demo_app) == before


# --- token create ----------------------------------------------------------------------------


def test_token_create_prints_a_token_that_authenticates_the_api(demo_app):
    done = _flask(demo_app, "token", "create", "tech")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    assert token.startswith("lt_") and " " not in token
    with demo_app.extensions["lotrack_db"].sessionmaker() as s:
        rows = s.scalars(select(ApiToken)).all()
        assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
        found = api_tokens.user_for_token(s, token)
        assert found is not None and found.username == "tech"
    client = demo_app.test_client()
    assert client.get("/api/v1/openapi.json").status_code == 200
    route = api_get_route(demo_app)
    assert route is not None, "the API has an argument-free GET route"
    assert client.get(route, headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_token_create_for_an_unknown_user_fails_clearly(demo_app):
    before = _state(demo_app)
    result = _run(demo_app, "token", "create", "nobody")
    assert result.exit_code != 0 and "No user named nobody" in result.output
    assert _state(demo_app) == before


# --- audit verify ----------------------------------------------------------------------------


def test_audit_verify_exits_zero_on_the_demo(demo_app):
    result = _run(demo_app, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_audit_verify_exits_non_zero_naming_the_tampered_event(demo_app):
    with owner_engine(demo_app) as engine, engine.begin() as conn:
        for statement in audit_unguard_statements(engine.dialect.name):
            conn.execute(text(statement))
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 12"))
    done = _flask(demo_app, "audit", "verify")
    assert done.returncode == 1
    assert "event 12 was altered" in done.stdout


# --- init and seed-demo ----------------------------------------------------------------------


@pytest.fixture
def blank_app(backend, tmp_path) -> Iterator:
    url = make_blank(backend)
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "i"),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_OWNER_DATABASE_URL": backend.owner_url(url),
        }
    )
    yield app
    app.extensions["lotrack_db"].engine.dispose()
    backend.drop(url)


def test_init_migrates_a_blank_database_and_is_idempotent(blank_app):
    engine = blank_app.extensions["lotrack_db"].engine
    first = _run(blank_app, "init")
    assert first.exit_code == 0, first.output
    tables = set(inspect(engine).get_table_names())
    assert {"audit_event", "user_account", "alembic_version"} <= tables
    second = _run(blank_app, "init")
    assert second.exit_code == 0, second.output
    assert set(inspect(engine).get_table_names()) == tables
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM audit_head")).scalar() == 1


def test_seed_demo_if_empty_does_nothing_the_second_time(app):
    first = _run(app, "seed-demo", "--if-empty")
    assert first.exit_code == 0, first.output
    assert "tech" in first.output and "admin" in first.output
    after_first = _state(app)
    assert after_first[1] == len(seed.DEMO_USERS) + 1  # and seed_worklist's invited QA reviewer
    second = _run(app, "seed-demo", "--if-empty")
    assert second.exit_code == 0, second.output
    assert "not loaded" in second.output
    assert _state(app) == after_first
    verified = _run(app, "audit", "verify")
    assert verified.exit_code == 0, verified.output


# --- specs load, specs list, and init loading the specifications ----------------------------


def _versions(app) -> list[tuple[str, int, bool]]:
    with app.extensions["lotrack_db"].sessionmaker() as s:
        return [(v.label, v.version, v.approved_at is not None) for v in specs.list_versions(s)]


def test_init_loads_the_default_specifications_as_drafts_once(blank_app):
    first = _run(blank_app, "init")
    assert first.exit_code == 0, first.output
    for label in ("cfMSC release v1", "cfMSC MCB v1", "cfMSC WCB v1", "cfMSC in-process v1"):
        assert f"{label} created, awaiting QA approval" in first.output
    second = _run(blank_app, "init")
    assert second.exit_code == 0, second.output
    assert second.output.count("unchanged") == 4 and "created" not in second.output
    assert sorted(_versions(blank_app)) == [
        ("cfMSC MCB v1", 1, False),
        ("cfMSC WCB v1", 1, False),
        ("cfMSC in-process v1", 1, False),
        ("cfMSC release v1", 1, False),
    ]


def test_specs_load_on_the_command_line_creates_versions_only_for_changes(app):
    done = _flask(app, "specs", "load")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("created, awaiting QA approval") == 4
    again = _run(app, "specs", "load")
    assert again.exit_code == 0 and again.output.count("unchanged") == 4
    assert len(_versions(app)) == 4
    assert _run(app, "audit", "verify").exit_code == 0


def test_specs_load_of_a_bad_file_names_it_and_loads_nothing(app, tmp_path, monkeypatch):
    bad = tmp_path / "specs"
    shutil.copytree(specs.SPECS_DIR, bad)
    release = bad / "cfmsc-release.toml"
    release.write_text(release.read_text().replace('lower = "95.0"', "lower = 95.0", 1))
    monkeypatch.setattr(specs, "load_specs", functools.partial(specs.load_specs, specs_dir=bad))
    before = _state(app)
    result = _run(app, "specs", "load")
    assert result.exit_code == 2
    assert "cfmsc-release.toml: tests[3] CD105.lower" in result.output
    assert "Traceback" not in result.output
    assert _versions(app) == [] and _state(app) == before


def test_specs_list_shows_each_version_and_whether_it_is_in_effect(app):
    _run(app, "specs", "load")
    with app.extensions["lotrack_db"].sessionmaker() as s:
        qa = accounts.create_user(
            s,
            None,
            username="qa1",
            full_name="QA",
            role="qa",
            password="a long passphrase",
            must_change_password=False,
        )
        release = next(v for v in specs.list_versions(s) if v.stage == "release")
        specs.approve(s, qa, release, **signs("qa1", "approved", password="a long passphrase"))
        digest = release.content_hash
        s.commit()
    listed = _run(app, "specs", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.output.strip().splitlines()
    assert len(lines) == 4

    def line(label: str) -> str:
        return next(x for x in lines if f" {label} " in x)

    assert "in effect" in line("cfMSC release v1") and digest[:16] in line("cfMSC release v1")
    for label in ("cfMSC MCB v1", "cfMSC WCB v1", "cfMSC in-process v1"):
        assert "draft" in line(label) and "in effect" not in line(label)
