"""What a request holds, for the web and API edges: its database session and unit of work, its
actor, and the settings and printing configuration it reads.

One unit of work per request: the edges call services and return; `settle` (called once, by
`UnitOfWorkFlask` below) commits when the answer is a success and rolls back otherwise. A
refusal whose writes must survive (a refused signature's or login's failure count) says so with
`keep_writes`, and only then is a 4xx committed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g
from flask import session as browser_session
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from lotrack.documents.bilingual import parse_languages
from lotrack.domain.errors import Forbidden
from lotrack.domain.text import N_
from lotrack.models import User
from lotrack.services.audit_anchor import Anchor, Schedule, checkpoint_if_moved, file_checkpoint
from lotrack.services.documents import Printing

log = logging.getLogger(__name__)


@dataclass
class Database:
    engine: Engine
    sessionmaker: sessionmaker[Session]


def database() -> Database:
    db: Database = current_app.extensions["lotrack_db"]
    return db


def db_session() -> Session:
    """The request's one session; `settle` ends its unit of work, teardown closes it."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    session: Session = g.db_session
    return session


def keep_writes() -> None:
    """This request's refusal keeps what was written (a failure count toward lockout)."""
    g.keep_writes = True


def refused(err: BaseException) -> None:
    """A refusal caught at the edge: undo its writes now (so the page shown after it reads the
    database as it was), unless the error says its writes are kept (errors.py, keep_writes)."""
    if getattr(err, "keep_writes", False):
        keep_writes()
        return
    session: Session | None = g.get("db_session")
    if session is not None:
        session.rollback()


def settle(status: int) -> None:
    """End the request's unit of work: commit a success or a kept refusal; roll back the rest."""
    session: Session | None = g.get("db_session")
    if session is None:
        return
    if status < 400 or g.pop("keep_writes", False):
        session.commit()
        if status < 400:
            _checkpoint_when_due()
    else:
        session.rollback()


def _checkpoint_when_due() -> None:
    """Sign the audit chain's head every LOTRACK_AUDIT_CHECKPOINT_MINUTES, in a transaction of
    its own after the request's, so the request's answer never depends on it."""
    schedule: Schedule = current_app.extensions["lotrack_checkpoint_schedule"]
    if not schedule.claim():
        return
    anchor = audit_anchor()
    try:
        with database().sessionmaker() as session:
            made = checkpoint_if_moved(session, anchor)
            session.commit()
        if made is not None:
            file_checkpoint(anchor, made)
    except SQLAlchemyError:
        log.exception("audit checkpoint not written; tried again in a minute")
        schedule.failed()
    else:
        schedule.done()


class UnitOfWorkFlask(Flask):
    """Flask with the request's unit of work: the one place a request's transaction ends.

    The commit runs after the view has built its answer and before the answer is sent, so a
    commit the database refuses (a race caught by a unique index or a record guard) becomes the
    error response of errors.py, never a success that did not happen."""

    def dispatch_request(self) -> Response:  # type: ignore[override]
        response = self.make_response(super().dispatch_request())
        try:
            settle(response.status_code)
        except Exception:
            browser_session.pop("_flashes", None)  # a success that was not kept is not announced
            raise
        return response

    def handle_user_exception(self, e: Exception) -> ResponseReturnValue:
        refused(e)
        try:
            return super().handle_user_exception(e)
        finally:
            settle(400)  # commits only a refusal that keeps its writes


def close_session(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


def actor() -> User:
    """The authenticated user of this request (browser session or API token)."""
    user: User | None = g.get("actor")
    if user is None:
        raise Forbidden(N_("Log in first."))
    return user


def lockout():  # noqa: ANN201 (services.signature.Lockout; imported here, services never import us)
    """How many wrong passwords lock an account, and for how long, from configuration."""
    from lotrack.services.signature import Lockout

    return Lockout(setting("MAX_FAILED_LOGINS"), setting("LOCKOUT_MINUTES"))


def setting(name: str) -> Any:
    return current_app.config["LOTRACK_" + name]


def audit_anchor() -> Anchor:
    """The key and file of the audit trail's signed checkpoints."""
    anchor: Anchor = current_app.extensions["lotrack_audit_anchor"]
    return anchor


def printing() -> Printing:
    """Label and certificate settings from configuration, with the facility's signing key."""

    def statements(name: str) -> tuple[str, ...]:
        return tuple(s.strip() for s in setting(name).split("|") if s.strip())

    return Printing(
        key=current_app.extensions["lotrack_signing_key"],
        base_url=setting("PUBLIC_BASE_URL"),
        product_name=setting("PRODUCT_NAME"),
        stock=setting("LABEL_STOCK"),
        statements=statements("LABEL_STATEMENTS"),
        storage=setting("STORAGE_STATEMENT"),
        languages=parse_languages(setting("DOCUMENT_LANGUAGES")),
        statements_zh=statements("LABEL_STATEMENTS_ZH"),
        storage_zh=setting("STORAGE_STATEMENT_ZH"),
        max_labels=setting("MAX_LABELS_PER_PDF"),
        product_code=setting("PRODUCT_CODE"),
        product_pattern=setting("PRODUCT_CODE_PATTERN"),
        jurisdiction=setting("LABEL_JURISDICTION"),
        zpl_font=setting("ZPL_FONT"),
    )
