"""PostgreSQL's two roles: the owner migrates, the application serves as a runtime role.

The owner of a table can switch its triggers off, and a superuser can also set
`session_replication_role = replica`: the append-only audit trail then holds only against honest
users. So the application connects as a role that owns nothing, is no superuser, and holds only
what each table needs. The privileges follow from the same lists the triggers are made from
(migrations/guards.py): append-only tables are SELECT and INSERT; a GMP record's columns that
never change get no UPDATE; nothing is ever DELETEd or TRUNCATEd, since the application deletes
nothing. `lotrack init` (run as the owner) creates the runtime role when it is missing, refuses
one with powers beyond that, and sets exactly these grants after every migration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, make_url, text

from lotrack.db import Base, make_engine
from lotrack.migrate import upgrade
from lotrack.migrations.guards import APPEND_ONLY_TABLES, CURRENT_GUARDS

# Written by migrations only; the application and backups read them.
READ_ONLY_TABLES = ("alembic_version",)
# Working state of the login throttle, not records: the application deletes rows quiet for a day
# and an account's oldest known addresses (services/lockout.py); every failure and lift is in the
# audit trail. No other table is ever deleted from.
DELETED_BY_THE_APP = ("login_throttle", "login_address")


class RoleError(Exception):
    """The runtime role cannot be made safe; the message says why and what to do."""


@dataclass(frozen=True)
class TableGrant:
    """What the runtime role may do to one table: table-wide privileges, and UPDATE on only
    `update_columns` (a GMP record's columns that may still change)."""

    table: str
    privileges: tuple[str, ...]
    update_columns: tuple[str, ...] = ()

    def statements(self, role: str) -> list[str]:
        out = [f'GRANT {", ".join(self.privileges)} ON TABLE "{self.table}" TO {role}']
        if self.update_columns:
            columns = ", ".join(f'"{c}"' for c in self.update_columns)
            out.append(f'GRANT UPDATE ({columns}) ON TABLE "{self.table}" TO {role}')
        return out


def runtime_grants() -> list[TableGrant]:
    """The runtime role's privileges on every table of the schema, derived from the guards."""
    grants = [TableGrant(t, ("SELECT",)) for t in READ_ONLY_TABLES]
    for name, table in sorted(Base.metadata.tables.items()):
        if name in DELETED_BY_THE_APP:
            grants.append(TableGrant(name, ("SELECT", "INSERT", "UPDATE", "DELETE")))
        elif name in APPEND_ONLY_TABLES:
            grants.append(TableGrant(name, ("SELECT", "INSERT")))
        elif name in CURRENT_GUARDS:
            fixed, _once = CURRENT_GUARDS[name]
            # Set-once review columns and any column the guard leaves free may be updated; the
            # trigger still refuses a second setting. The key and the fixed columns never.
            free = tuple(c.name for c in table.columns if c.name not in fixed and not c.primary_key)
            grants.append(TableGrant(name, ("SELECT", "INSERT"), free))
        else:
            grants.append(TableGrant(name, ("SELECT", "INSERT", "UPDATE")))
    return grants


@dataclass
class RoleReport:
    role: str
    created: bool
    grants: list[TableGrant] = field(default_factory=list)

    def summary(self) -> str:
        update = sum(1 for g in self.grants if "UPDATE" in g.privileges)
        columns = sum(1 for g in self.grants if g.update_columns)
        kept = len(self.grants) - update - columns
        deleted = [g.table for g in self.grants if "DELETE" in g.privileges]
        made = "created" if self.created else "checked"
        return (
            f"runtime role {self.role} {made}: owns nothing; UPDATE on {update} tables, on "
            f"chosen columns of {columns} GMP records, none on {kept} append-only or read-only "
            f"tables; DELETE only on {', '.join(deleted) or 'none'}; TRUNCATE on none"
        )


def runtime_user(url: str) -> str:
    user = make_url(url).username
    if not user:
        raise RoleError("LOTRACK_DATABASE_URL names no user: the runtime role must be named.")
    return user


def init_schema(runtime: Engine, owner_url: str, runtime_url: str) -> list[str]:
    """Migrate as the owner (the runtime engine's role when no owner is set) and, on PostgreSQL,
    set the runtime role's grants. Returns what to tell the operator."""
    if not owner_url:
        upgrade(runtime)
        said = ["database is at the current schema"]
        if runtime.dialect.name == "postgresql":
            said.append(
                "warning: the application connects as the tables' owner, who can switch the audit"
                " trail's triggers off; set LOTRACK_OWNER_DATABASE_URL (README)"
            )
        return said
    owner = make_engine(owner_url)
    try:
        upgrade(owner)
        said = ["database is at the current schema"]
        if owner.dialect.name == "postgresql":
            said.append(ensure_runtime_role(owner, runtime_url).summary())
        return said
    finally:
        owner.dispose()


def grant_runtime_role(owner_url: str, runtime_url: str) -> str:
    """ensure_runtime_role on PostgreSQL from the owner's URL; what to tell the operator."""
    owner = make_engine(owner_url)
    try:
        if owner.dialect.name != "postgresql":
            return "one database file: no roles to grant"
        return ensure_runtime_role(owner, runtime_url).summary()
    finally:
        owner.dispose()


def ensure_runtime_role(owner: Engine, runtime_url: str) -> RoleReport:
    """Create the runtime role if missing, refuse it if it could bypass the guards, and set its
    grants to exactly runtime_grants(), in one transaction of the owner's."""
    role_name = runtime_user(runtime_url)
    with owner.begin() as conn:
        owner_name = conn.scalar(text("SELECT current_user"))
        if role_name == owner_name:
            raise RoleError(
                f"LOTRACK_DATABASE_URL connects as {role_name}, the owner of the tables, who can "
                "switch the audit trail's triggers off. Serve as another role (README, "
                "'PostgreSQL: two roles')."
            )
        role = conn.dialect.identifier_preparer.quote(role_name)
        created = _create_if_missing(conn, role_name, role, make_url(runtime_url).password)
        _refuse_powers(conn, role_name, str(owner_name))
        grants = runtime_grants()
        database = conn.dialect.identifier_preparer.quote(
            str(conn.scalar(text("SELECT current_database()")))
        )
        for statement in [
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}, PUBLIC",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}, PUBLIC",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            f"GRANT CONNECT ON DATABASE {database} TO {role}",
            f"GRANT USAGE ON SCHEMA public TO {role}",
            *[s for g in grants for s in g.statements(role)],
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        ]:
            conn.execute(text(statement))
    return RoleReport(role_name, created, grants)


def _create_if_missing(conn: Connection, name: str, role: str, password: str | None) -> bool:
    if conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": name}):
        return False
    options = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    if password:
        # DDL takes no bind parameters; a doubled quote is the literal's only escape.
        options += " PASSWORD '" + password.replace("'", "''") + "'"
    conn.execute(text(f"CREATE ROLE {role} {options}"))
    return True


def _refuse_powers(conn: Connection, role: str, owner: str) -> None:
    """The runtime role exists already: refuse it if any power of its reaches past the grants."""
    row = conn.execute(
        text(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls"
            " FROM pg_roles WHERE rolname = :r"
        ),
        {"r": role},
    ).one()
    powers = [
        name
        for name, held in zip(
            ("SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS"), row, strict=True
        )
        if held
    ]
    if powers:
        raise RoleError(
            f"the runtime role {role} holds {', '.join(powers)}: with it the application could "
            f"undo its own guards. Run: ALTER ROLE {role} NO{' NO'.join(powers)};"
        )
    if conn.scalar(text("SELECT pg_has_role(:r, :o, 'MEMBER')"), {"r": role, "o": owner}):
        raise RoleError(
            f"the runtime role {role} is a member of {owner}, the tables' owner, and so acts as "
            f"the owner. Run: REVOKE {owner} FROM {role};"
        )
    owned = conn.scalars(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = :r ORDER BY 1"
        ),
        {"r": role},
    ).all()
    if owned:
        raise RoleError(
            f"the runtime role {role} owns {', '.join(owned)}; an owner can switch triggers off."
            f" Give them to {owner}: ALTER TABLE ... OWNER TO {owner};"
        )
    # Before PostgreSQL 15 only a superuser may set it, which is refused above.
    if int(conn.scalar(text("SHOW server_version_num")) or 0) >= 150000 and conn.scalar(
        text("SELECT has_parameter_privilege(:r, 'session_replication_role', 'SET')"),
        {"r": role},
    ):
        raise RoleError(
            f"the runtime role {role} may SET session_replication_role, which silences every "
            f"trigger. Run: REVOKE SET ON PARAMETER session_replication_role FROM {role};"
        )
