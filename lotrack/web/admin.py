"""User administration: the list of accounts, creating a user (an enrolment: the administrator
never sets a password), a new enrolment code, role changes and their second-person approval,
unlocking a locked account."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lotrack.db import utcnow
from lotrack.domain.errors import Conflict, NotFound
from lotrack.domain.permissions import NEEDS_SECOND_PERSON
from lotrack.domain.text import N_, said
from lotrack.i18n import word
from lotrack.models import RoleGrant, Site, User
from lotrack.models.user import ROLES
from lotrack.request_scope import actor, db_session
from lotrack.schemas import ReasonIn
from lotrack.schemas.admin import EmailIn, GrantDecisionIn, RoleIn, UserIn
from lotrack.services import accounts, enrolment, mail_log, role_grants
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
    pending = role_grants.pending(db_session())
    return render_template(
        "admin/users.html",
        users=list(rows),
        is_locked=is_locked,
        grants=pending,
        awaiting={g.user_id for g in pending},
    )


def _enrolment_page(user: User, code: str, expires_at: Any, grant: Any = None) -> Response:
    """The code, shown this once: only its hash is kept, so nobody can show it again."""
    page = render_template(
        "admin/enrolment.html",
        user=user,
        code=code,
        link=url_for("auth.enrol_link", code=code, _external=True),
        expires_at=expires_at,
        grant=grant,
    )
    return Response(page, headers={"Cache-Control": "no-store"})


@bp.route("/users/new", methods=["GET", "POST"])
@permission("users.manage")
def new_user() -> ResponseReturnValue:
    def act(data: dict[str, Any]) -> ResponseReturnValue:
        made = enrolment.invite(
            db_session(),
            actor(),
            username=data["username"],
            full_name=data["full_name"],
            role=data["role"],
            site_code=data["site"],
            reason=data["reason"],
        )
        return _enrolment_page(made.user, made.code, made.expires_at, made.grant)

    sites = db_session().scalars(select(Site).order_by(Site.code)).all()
    return handle_form(
        UserIn(),
        act,
        "admin/new_user.html",
        roles=ROLES,
        sites=sites,
        second_person=sorted(NEEDS_SECOND_PERSON),
        hours=enrolment.ENROLMENT_HOURS,
    )


@bp.route("/users/<int:user_id>/enrolment", methods=["GET", "POST"])
@permission("users.manage")
def reset(user_id: int) -> ResponseReturnValue:
    """A new enrolment code: the password (if any) stops working; the person chooses anew."""
    user = _user(user_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        code, expires_at = enrolment.reset(db_session(), actor(), user, data["reason"])
        held = role_grants.pending_of(db_session(), user)
        return _enrolment_page(user, code, expires_at, held)

    return handle_form(ReasonIn(), act, "admin/reset.html", user=user)


@bp.route("/users/<int:user_id>/role", methods=["GET", "POST"])
@permission("users.manage")
def change_role(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        grant = role_grants.change_role(db_session(), actor(), user, data["role"], data["reason"])
        if grant is None:
            flash(
                _(
                    "%(username)s now has the role %(role)s.",
                    username=user.username,
                    role=word(user.role),
                )
            )
        else:
            flash(
                _(
                    "The role %(role)s for %(username)s awaits a second administrator's approval;"
                    " until then the role is unchanged.",
                    role=word(grant.role),
                    username=user.username,
                )
            )
        return redirect(url_for("admin.users"))

    return handle_form(
        RoleIn(), act, "admin/role.html", user=user, roles=ROLES,
        second_person=sorted(NEEDS_SECOND_PERSON),
    )  # fmt: skip


@bp.route("/users/<int:user_id>/email", methods=["GET", "POST"])
@permission("users.manage")
def change_email(user_id: int) -> ResponseReturnValue:
    """Where this person's notices are e-mailed (none: shown in the app only)."""
    user = _user(user_id)

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        mail_log.set_email(db_session(), actor(), user, data["email"], data["reason"])
        flash(_("Notices to %(username)s go to %(email)s.", username=user.username,
                email=user.email or _("the app only")))  # fmt: skip
        return redirect(url_for("admin.users"))

    return handle_form(EmailIn(), act, "admin/email.html", user=user)


@bp.route("/grants/<int:grant_id>", methods=["GET", "POST"])
@permission("users.manage")
def grant(grant_id: int) -> ResponseReturnValue:
    """A pending role grant, approved or refused by an administrator other than its requester."""
    row = db_session().get(RoleGrant, grant_id)
    if row is None:
        raise NotFound(said("No role grant %(id)s.", id=grant_id))

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        approve = data["decision"] == "approve"
        role_grants.decide(db_session(), actor(), grant_id, approve, data["reason"])
        message = (
            _(
                "Role %(role)s granted to %(username)s.",
                role=word(row.role),
                username=row.user.username,
            )
            if approve
            else _(
                "Role %(role)s refused to %(username)s.",
                role=word(row.role),
                username=row.user.username,
            )
        )
        flash(message)
        return redirect(url_for("admin.users"))

    return handle_form(GrantDecisionIn(), act, "admin/grant.html", grant=row)


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
