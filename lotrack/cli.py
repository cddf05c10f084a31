"""`flask --app wsgi lotrack ...`: thin wrappers, one service call and one commit each."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from lotrack import backup as backups
from lotrack import db_roles
from lotrack.cli_mail import mail_cli
from lotrack.domain import ctcae
from lotrack.domain.errors import DomainError
from lotrack.i18n import dictionary_file
from lotrack.request_scope import audit_anchor, database
from lotrack.services import (
    accounts,
    api_tokens,
    audit,
    ctcae_load,
    enrolment,
    role_grants,
    seed,
    specs,
)
from lotrack.services import audit_anchor as audit_anchors

lotrack_cli = AppGroup("lotrack", help="lotrack operations.")
user_cli = AppGroup("user", help="User accounts.")
token_cli = AppGroup("token", help="API bearer tokens.")
audit_cli = AppGroup("audit", help="The audit trail.")
specs_cli = AppGroup("specs", help="Release specifications under specs/.")
ctcae_cli = AppGroup("ctcae", help="The CTCAE v4.03 dictionary.")
lotrack_cli.add_command(user_cli)
lotrack_cli.add_command(token_cli)
lotrack_cli.add_command(audit_cli)
lotrack_cli.add_command(specs_cli)
lotrack_cli.add_command(ctcae_cli)
lotrack_cli.add_command(mail_cli)


def _session() -> Session:
    return database().sessionmaker()


def _fail(err: DomainError) -> None:
    click.echo(f"error: {err.message}", err=True)
    for field, reason in err.fields.items():
        click.echo(f"  {field}: {reason}", err=True)
    sys.exit(2)


@lotrack_cli.command("init")
def init_command() -> None:
    """Create or migrate the database to the current schema (as the owner), set the runtime
    role's grants on PostgreSQL, then load the specifications."""
    try:
        said = db_roles.init_schema(
            database().engine,
            current_app.config["LOTRACK_OWNER_DATABASE_URL"],
            current_app.config["LOTRACK_DATABASE_URL"],
        )
    except db_roles.RoleError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    for line in said:
        click.echo(line, err=line.startswith("warning:"))
    _load_specs()


def _load_specs() -> None:
    with _session() as session:
        try:
            outcomes = specs.load_specs(session, None)
            session.commit()
        except DomainError as err:
            _fail(err)
        for o in outcomes:
            state = "created, awaiting QA approval" if o.created else "unchanged"
            click.echo(f"{o.file}: {o.label} {state}")


@specs_cli.command("load")
def specs_load_command() -> None:
    """Store a new version of each spec file whose content changed (QA approves it in the app)."""
    _load_specs()


@specs_cli.command("list")
def specs_list_command() -> None:
    """Every specification version and whether it is in effect."""
    with _session() as session:
        for v in specs.list_versions(session):
            click.echo(
                f"{v.id:>4}  {v.label:<28} {specs.status(session, v):<16} {v.content_hash[:16]}"
            )


@lotrack_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds users already.")
def seed_demo_command(if_empty: bool) -> None:
    """Load the demo history, the three trial sites and one user per role."""
    with _session() as session:
        if if_empty and seed.has_users(session):
            click.echo("database holds data already; demo not loaded again.")
            _print_logins(seed.demo_logins())
            return
        try:
            logins = seed.seed_demo(session, facility_id=current_app.config["LOTRACK_FACILITY_ID"])
            session.commit()
        except DomainError as err:
            _fail(err)
    click.echo("demo data loaded.")
    _print_logins(logins)


def _print_logins(logins: list[tuple[str, str, str]]) -> None:
    click.echo("Demo logins (demo only; never use them anywhere else):")
    for username, role, password in logins:
        click.echo(f"  {role:<16} {username:<10} {password}")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@user_cli.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    help="technician, clinical, or admin (the first two); others in the app",
)
@click.option("--site", "site_code", default=None, help="Site code (clinical users only).")
@click.option("--full-name", default="", help="The person's name as shown on signatures.")
@click.option(
    "--enrol",
    is_flag=True,
    help="Print a one-time enrolment code instead of reading a password: the person chooses it.",
)
def user_create_command(
    username: str, role: str, site_code: str | None, full_name: str, enrol: bool
) -> None:
    """Create a user; the password is read from standard input when it is not a terminal, and
    must be changed at first login (whoever ran this chose it). With --enrol, the enrolment code
    is printed as the last line instead."""
    password = None if enrol else _read_password()
    with _session() as session:
        try:
            # No second person at the console: signing roles are granted in the application.
            role_grants.check_console_role(session, role)
            user = accounts.create_user(
                session,
                None,
                username=username,
                full_name=full_name,
                role=role,
                password=password,
                site_code=site_code,
                min_password_length=current_app.config["LOTRACK_MIN_PASSWORD_LENGTH"],
                must_change_password=True,
            )
            code = enrolment.issue(session, None, user)[0] if enrol else None
            session.commit()
        except DomainError as err:
            _fail(err)
        click.echo(f"user {user.username} created with role {user.role}")
        if code is not None:
            hours = enrolment.ENROLMENT_HOURS
            click.echo(f"enrolment code, single use, valid {hours} hours (open /enrol):")
            click.echo(code)
        else:
            click.echo("the password must be changed at first login")


@token_cli.command("create")
@click.argument("username")
@click.option("--label", default="", help="What the token is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(api_tokens.SCOPES),
    default=("read",),
    show_default=True,
    help="What it may do: read (GET), write (other methods), sign (e-signatures); repeat.",
)
@click.option("--days", default=api_tokens.TOKEN_DAYS, show_default=True, help="Valid for.")
def token_create_command(username: str, label: str, scopes: tuple[str, ...], days: int) -> None:
    """Issue an API token for USERNAME; it is printed once, as the last line."""
    with _session() as session:
        try:
            user = accounts.find_user(session, username)
            token = api_tokens.create_token(session, None, user, label, scopes=scopes, days=days)
            session.commit()
        except DomainError as err:
            _fail(err)
    click.echo(
        f"token for {username}, {', '.join(scopes)} for {days} days "
        "(shown once; only its hash is kept):"
    )
    click.echo(token)


@token_cli.command("revoke")
@click.argument("username")
@click.option("--reason", required=True, help="Why the tokens are revoked (kept in the audit).")
def token_revoke_command(username: str, reason: str) -> None:
    """Revoke every live API token of USERNAME."""
    with _session() as session:
        try:
            n = api_tokens.revoke_tokens(
                session, None, accounts.find_user(session, username), reason
            )
            session.commit()
        except DomainError as err:
            _fail(err)
    click.echo(f"{n} token(s) of {username} revoked")


@audit_cli.command("verify")
def audit_verify_command() -> None:
    """Verify the hash chain and its signed checkpoints; exit 1 naming the first broken event."""
    with _session() as session:
        report = audit.verify(session, audit_anchor())
    click.echo(report.message)
    if not report.ok:
        sys.exit(1)


def _checkpoint(wait_seconds: int = 30) -> audit_anchors.Checkpoint:
    """Sign the chain's head now: into the database, then (once committed) into the file.
    `wait_seconds`: how long to wait for SQLite's one writer (set before the transaction
    begins, which takes the write lock, and set back after)."""
    anchor, db = audit_anchor(), database()
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.connection.driver_connection.execute(
                f"PRAGMA busy_timeout = {wait_seconds * 1000}"
            )
        try:
            with db.sessionmaker(bind=conn) as session:
                made = audit_anchors.make_checkpoint(session, anchor)
                session.commit()
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA busy_timeout = 30000")
    audit_anchors.file_checkpoint(anchor, made)
    return made


@audit_cli.command("checkpoint")
def audit_checkpoint_command() -> None:
    """Sign the audit chain's head with the checkpoint key (run it at a set interval, e.g. hourly
    from a timer; every backup makes one too)."""
    made = _checkpoint()
    click.echo(
        f"checkpoint of event {made.seq} (hash {made.head_hash[:16]}...) signed with key "
        f"{made.key_id}; appended to {audit_anchor().file}"
    )


@lotrack_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Copy the database to PATH while the app serves; a manifest is written beside it."""
    started = time.monotonic()
    # The backup carries a signed head of its own audit trail. A backup runs while the app
    # writes: a writer holding the database (SQLite has one writer) delays the checkpoint, not
    # the backup, which is then said plainly.
    try:
        made = _checkpoint(wait_seconds=2)
    except OperationalError as err:
        click.echo(f"no checkpoint before this backup: the database is busy ({err.orig})")
    else:
        click.echo(f"checkpoint of event {made.seq} signed")
    try:
        manifest = backups.backup(
            current_app.config["LOTRACK_DATABASE_URL"], path, audit_anchor().key
        )
    except backups.BackupError as err:
        click.echo(f"error: {err.message}", err=True)
        sys.exit(2)
    click.echo(
        f"backup of the {manifest.dialect} database written to {path} "
        f"({manifest.size} bytes, sha256 {manifest.sha256[:16]}...)"
    )
    click.echo(
        f"manifest: {backups.manifest_path(path)}, signed with the audit key {manifest.key_id}"
    )
    click.echo(
        f"{len(manifest.tables)} tables, {manifest.rows} rows; audit head at event "
        f"{manifest.audit_seq}; schema {manifest.schema_revision}; "
        f"{time.monotonic() - started:.1f} s"
    )


@lotrack_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data already.")
def restore_command(path: Path, force: bool) -> None:
    """Restore the backup at PATH into this app's database (as its owner, when one is set),
    then count and verify it, and give the runtime role its grants again; refuses a manifest the
    audit key did not sign."""
    runtime_url = current_app.config["LOTRACK_DATABASE_URL"]
    owner_url = current_app.config["LOTRACK_OWNER_DATABASE_URL"]
    try:
        report = backups.restore(
            owner_url or runtime_url, path, audit_anchor().public_key, force=force
        )
        if owner_url:
            click.echo(db_roles.grant_runtime_role(owner_url, runtime_url))
    except (backups.BackupError, db_roles.RoleError) as err:
        click.echo(f"error: {err.message}", err=True)
        sys.exit(2)
    m = report.manifest
    click.echo(
        f"restored {path} (made {m.created_at}, schema {m.schema_revision}; "
        f"manifest signed with the audit key {m.key_id}, verified)"
    )
    for table, rows in report.tables.items():
        expected = m.tables.get(table)
        flag = "" if expected == rows else f"   manifest says {expected}"
        click.echo(f"  {table:<32} {rows:>8}{flag}")
    click.echo(f"{sum(report.tables.values())} rows in {len(report.tables)} tables")
    click.echo(report.audit_message)
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(f"{report.seconds:.1f} s")
    if not report.ok:
        click.echo("error: the restored database does not match its backup", err=True)
        sys.exit(1)


@ctcae_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", required=True, help="Where the file comes from (URL, version, date).")
def ctcae_load_command(file: Path, source: str) -> None:
    """Check and convert NCI's CTCAE v4.03 file (.xlsx, .csv or FHIR JSON) into the dictionary
    the app reads (LOTRACK_CTCAE_FILE, or instance/ctcae_v403.json); restart the app after."""
    try:
        data = ctcae_load.convert(file, source)
    except (ctcae.DictionaryError, OSError, ValueError) as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    target = dictionary_file(current_app)
    ctcae_load.write(data, target)
    socs = len({t["soc"] for t in data["terms"]})
    click.echo(f"{len(data['terms'])} terms in {socs} system organ classes written to {target}")


def init_app(app: Flask) -> None:
    app.cli.add_command(lotrack_cli)
