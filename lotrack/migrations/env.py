"""Alembic environment: the engine comes from lotrack.migrate; batch mode for SQLite ALTERs.

On SQLite, batch mode copies a table, drops the old one and renames the copy; with foreign keys
enforced, dropping a table that other rows reference fails. So, as SQLite's own procedure for
schema changes says, foreign keys are off during the migration (PRAGMA foreign_keys is ignored
inside a transaction: it is set before the transaction begins), every foreign key is checked
(PRAGMA foreign_key_check) before the commit, and enforcement is back on afterwards.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import lotrack.models  # noqa: F401  (registers every table)
from lotrack.db import Base

config = context.config
engine = config.attributes["engine"]


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # On the driver's connection, outside any transaction (SQLAlchemy would begin one first).
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration leaves rows whose foreign key is broken: {broken[:5]}")


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            compare_type=True,
            compare_server_default=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_foreign_keys(connection)
        connection.commit()
    finally:
        if sqlite:
            connection.rollback()
            _sqlite_foreign_keys(connection, on=True)
