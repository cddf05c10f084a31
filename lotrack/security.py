"""Who is asking: browser sessions (Flask-Login, idle and absolute limits, revocation) and bearer
tokens for the API. Sets g.actor for the edges."""

from __future__ import annotations

import time

from flask import Flask, g, request, session
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select

from lotrack.context import db_session, setting
from lotrack.domain.errors import NotFound, ValidationFailed
from lotrack.models import User
from lotrack.services import accounts

login_manager = LoginManager()
csrf = CSRFProtect()


@login_manager.user_loader
def _load_user(ident: str) -> User | None:
    """The session carries "id:version"; a bumped version (logout, password change) revokes it."""
    try:
        user_id, version = (int(part) for part in ident.split(":", 1))
    except ValueError:
        return None
    user = db_session().scalar(select(User).where(User.id == user_id))
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _session_expired() -> bool:
    now = time.time()
    last = session.get("last_seen", now)
    started = session.get("started", now)
    idle = setting("IDLE_TIMEOUT_MINUTES") * 60
    absolute = setting("ABSOLUTE_TIMEOUT_HOURS") * 3600
    return now - last > idle or now - started > absolute


def _identify() -> None:
    g.actor = None
    if request.path.startswith("/api/"):
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            g.actor = accounts.user_for_token(db_session(), header[7:].strip())
            if g.actor is not None:
                db_session().commit()  # last-use stamp; nothing else is pending yet
        return
    if current_user.is_authenticated:
        if _session_expired():
            logout_user()
            session.clear()
            session["expired"] = True
            return
        session["last_seen"] = time.time()
        g.actor = current_user._get_current_object()


def _refuse_nul() -> None:
    """NUL is never meaningful input, and PostgreSQL refuses it in text: a 4xx, not a 500."""
    if "\x00" in request.path:
        raise NotFound("No such page or resource.", {"path": "contains a NUL character"})
    bad = {
        k: "contains a NUL character" for k, v in request.args.items(multi=True) if "\x00" in k + v
    }
    if bad:
        raise ValidationFailed("Query parameters may not contain NUL characters.", bad)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    app.before_request(_refuse_nul)
    app.before_request(_identify)
