"""User administration: the list of accounts, creating a user, unlocking a locked one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound
from lotrack.domain.text import N_, said
from lotrack.i18n import word
from lotrack.models import Site, User
from lotrack.models.user import ROLES
from lotrack.request_scope import actor, db_session, setting
from lotrack.schemas import ReasonIn
from lotrack.schemas.admin import UserIn
from lotrack.services import accounts
from lotrack.web.forms import handle_form
from lotrack.web.guard import permission

bp = Blueprint("admin", __name__, url_prefix="/admin")


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _user(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        raise NotFound(said("No user with id %(id)s.", id=user_id))
    return user


@bp.get("/users")
@permission("users.manage")
def users() -> ResponseReturnValue:
    rows = db_session().scalars(
        select(User).options(selectinload(User.site)).order_by(User.username)
    )
    return render_template("admin/users.html", users=list(rows), is_locked=is_locked)


@bp.route("/users/new", methods=["GET", "POST"])
@permission("users.manage")
def new_user() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        user = accounts.create_user(
            db_session(),
            actor(),
            username=data["username"],
            full_name=data["full_name"],
            role=data["role"],
            password=request.form.get("password", ""),
            site_code=data["site"],
            min_password_length=setting("MIN_PASSWORD_LENGTH"),
        )
        flash(
            _(
                "User %(username)s created with role %(role)s.",
                username=user.username,
                role=word(user.role),
            )
        )
        return redirect(url_for("admin.users"))

    sites = db_session().scalars(select(Site).order_by(Site.code)).all()
    return handle_form(
        UserIn(),
        act,
        "admin/new_user.html",
        roles=ROLES,
        sites=sites,
        min_length=setting("MIN_PASSWORD_LENGTH"),
    )


@bp.route("/users/<int:user_id>/unlock", methods=["GET", "POST"])
@permission("users.manage")
def unlock(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        if not is_locked(user) and not user.failed_logins:
            raise Conflict(
                said("User %(username)s is not locked.", username=user.username),
                {"user": N_("not locked")},
            )
        accounts.unlock(db_session(), actor(), user, data["reason"])
        flash(_("User %(username)s unlocked.", username=user.username))
        return redirect(url_for("admin.users"))

    return handle_form(ReasonIn(), act, "admin/unlock.html", user=user, locked=is_locked(user))
