"""The administrator's view of lockouts: account and signing locks and per-address login delays
in force now, each lifted with a reason (services/lockout.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from lotrack.domain.errors import NotFound
from lotrack.domain.lockout import KINDS
from lotrack.domain.text import N_, said
from lotrack.models import User
from lotrack.request_scope import actor, db_session, lockout
from lotrack.schemas import ReasonIn
from lotrack.services import lockout as locks
from lotrack.web.forms import NO_FORM, FormState, submit
from lotrack.web.guard import permission

bp = Blueprint("lockout", __name__, url_prefix="/admin/lockouts")


def _page(form: FormState = NO_FORM) -> str:
    rows = locks.current(db_session(), lockout().rules)
    return render_template("lockout/list.html", rows=rows, form=form)


@bp.get("")
@permission("users.manage")
def list_lockouts() -> ResponseReturnValue:
    return _page(), 200


@bp.post("/users/<int:user_id>/<kind>/lift")
@permission("users.manage")
def lift_account(user_id: int, kind: str) -> ResponseReturnValue:
    """Lift an account's login lock or its signing lock, with a reason."""
    if kind not in KINDS:
        raise NotFound(N_("No such kind of lock."), {"kind": N_("login or signing")})
    user = db_session().get(User, user_id)
    if user is None:
        raise NotFound(said("No user with id %(id)s.", id=user_id), {"user_id": N_("not found")})

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        locks.lift_account(db_session(), actor(), user, kind, data["reason"])
        flash(_("Lock lifted for %(username)s.", username=user.username))
        return redirect(url_for("lockout.list_lockouts"))

    return submit(f"{kind}-{user_id}", ReasonIn(), act, _page)


@bp.post("/addresses/<int:throttle_id>/lift")
@permission("users.manage")
def lift_address(throttle_id: int) -> ResponseReturnValue:
    """End one address's login delay for one username, with a reason."""

    def act(data: dict[str, Any]) -> ResponseReturnValue:
        row = locks.lift_address(db_session(), actor(), throttle_id, data["reason"])
        flash(
            _(
                "Wait lifted for %(username)s from %(address)s.",
                username=row.username,
                address=row.address,
            )
        )
        return redirect(url_for("lockout.list_lockouts"))

    return submit(f"address-{throttle_id}", ReasonIn(), act, _page)
