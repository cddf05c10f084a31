"""Alembic environment: the engine comes from lotrack.migrate; batch mode for SQLite ALTERs."""

from __future__ import annotations

from alembic import context

import lotrack.models  # noqa: F401  (registers every table)
from lotrack.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
