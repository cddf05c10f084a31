"""Per-request plumbing shared by the web and API edges: the database session and the actor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lotrack.domain.errors import Forbidden
from lotrack.models import User


@dataclass
class Database:
    engine: Engine
    sessionmaker: sessionmaker[Session]


def database() -> Database:
    db: Database = current_app.extensions["lotrack_db"]
    return db


def db_session() -> Session:
    """The request's one session; the edge commits it once, teardown closes it (rolling back)."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    session: Session = g.db_session
    return session


def commit() -> None:
    db_session().commit()


def close_session(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


def actor() -> User:
    """The authenticated user of this request (browser session or API token)."""
    user: User | None = g.get("actor")
    if user is None:
        raise Forbidden("Log in first.")
    return user


def setting(name: str) -> Any:
    return current_app.config["LOTRACK_" + name]


def printing():  # noqa: ANN201 (services.documents.Printing; imported lazily: WeasyPrint is heavy)
    """Label and certificate settings from configuration, with the facility's signing key."""
    from lotrack.services.documents import Printing

    return Printing(
        key=current_app.extensions["lotrack_signing_key"],
        base_url=setting("PUBLIC_BASE_URL"),
        product_name=setting("PRODUCT_NAME"),
        stock=setting("LABEL_STOCK"),
        statements=tuple(s.strip() for s in setting("LABEL_STATEMENTS").split("|") if s.strip()),
        storage=setting("STORAGE_STATEMENT"),
    )
