"""View decorators: require a login, or a permission from domain/permissions.py."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, redirect, request, session, url_for

from lotrack.domain.permissions import require


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("actor") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def permission(action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Log in first, then the role must allow `action` (403 page naming what is needed)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require(g.actor.role, action)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def consume_expired_flag() -> bool:
    return bool(session.pop("expired", False))
