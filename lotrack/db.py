"""Declarative base, UTC datetime and state column types, and the engine/session factory per
application."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in Python; stored as UTC on every backend. Naive input is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: lotrack stores timezone-aware UTC only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


def state_column_type(enum: type[StrEnum], *, name: str, length: int) -> Enum:
    """A state or kind column: the enum's member in Python, its value in a VARCHAR(length) with a
    CHECK constraint generated from the enum, named ck_<table>_<name> by the naming convention
    (`name` is the column's name). An unknown value is refused before it is sent as well."""
    too_long = [v for v in _values(enum) if len(v) > length]
    if too_long:
        raise ValueError(f"{enum.__name__} values longer than {length}: {too_long}")
    return Enum(
        enum,
        name=name,
        length=length,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=_values,
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_engine(url: str) -> Engine:
    """Engine with SQLite made safe for several threads and enforcing foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # SQLAlchemy, not pysqlite, issues BEGIN: transactions then behave as on PostgreSQL.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock at the start: no upgrade deadlocks between writers.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(
    engine: Engine, facility_zone: str | None = None, extra: dict[str, Any] | None = None
) -> sessionmaker[Session]:
    """Sessions that carry the facility's zone (services/clock.py reads it from session.info)
    and any `extra` settings services read there (the mail settings, services/notify.py)."""
    info: dict[str, Any] = {"facility_zone": facility_zone} if facility_zone else {}
    info.update(extra or {})
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True, info=info)
