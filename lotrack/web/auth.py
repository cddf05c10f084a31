"""Login, logout, enrolment (choosing one's own password with a one-time code) and password
change."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from lotrack.db import utcnow
from lotrack.domain.errors import DomainError, ValidationFailed
from lotrack.domain.language import Language
from lotrack.domain.lockout import address_key
from lotrack.errors import status_of
from lotrack.i18n import spoken, translate
from lotrack.request_scope import actor, db_session, keep_writes, refused, setting
from lotrack.schemas import ReasonIn
from lotrack.services import accounts, api_tokens, enrolment, lockout, passwords
from lotrack.web.forms import NO_FORM, FormState, submit
from lotrack.web.guard import consume_expired_flag, login_required

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a fresh login to another host."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    expired = consume_expired_flag()
    message = _("Your session ended after a period of inactivity.") if expired else ""
    if request.method == "POST":
        # The client's address (behind a proxy, as LOTRACK_TRUSTED_PROXIES lets ProxyFix see it).
        address = address_key(request.remote_addr)
        limit = setting("LOGIN_FAILURES_PER_ADDRESS")
        window = dt.timedelta(minutes=setting("LOCKOUT_MINUTES"))
        until = lockout.spray_wait(db_session(), address) if limit > 0 else None
        if until is not None:
            # Refused before any password is checked: nothing learnt, no hash computed, no write.
            wait = (until - utcnow()).total_seconds()
            log.warning("login throttled for address %s (%.0f s left)", address, wait)
            minutes = math.ceil(wait / 60)
            error = _(
                "Too many failed logins from this address. Try again in %(num)s minutes.",
                num=minutes,
            )
            page = render_template("auth/login.html", error=error, username="")
            return page, 429, {"Retry-After": str(math.ceil(wait))}
        outcome = accounts.authenticate(
            db_session(),
            request.form.get("username", ""),
            request.form.get("password", ""),
            max_failures=setting("MAX_FAILED_LOGINS"),
            lockout_minutes=setting("LOCKOUT_MINUTES"),
            address=address,
            free_failures=setting("NEW_ADDRESS_FREE_FAILURES"),
        )
        if outcome.user is None:
            page = render_template(
                "auth/login.html",
                error=translate(outcome.message),
                username=request.form.get("username", ""),
            )
            if outcome.retry_at is not None:
                # Refused unheard while this address waits: nothing was written, nothing counted.
                seconds = max(1, math.ceil((outcome.retry_at - utcnow()).total_seconds()))
                return page, 429, {"Retry-After": str(seconds)}
            keep_writes()  # the failure count and the audit event are kept although refused
            if limit > 0:
                lockout.spray_failed_login(db_session(), address, limit, window)
            return page, 401
        chosen = session.get("language")
        session.clear()  # a fresh session: no fixation
        _keep_language(chosen)
        login_user(outcome.user)
        session["started"] = session["last_seen"] = time.time()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=message, username="")


@bp.get("/enrol/<code>")
def enrol_link(code: str) -> ResponseReturnValue:
    """The link an administrator passed on: the enrolment form with its code filled in."""
    return _enrol(code)


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> ResponseReturnValue:
    """The new (or reset) user sets their own password with the code an administrator gave."""
    return _enrol("")


def _enrol(code: str) -> ResponseReturnValue:
    errors: dict[str, str] = {}
    message, username, status = "", "", 200
    try:
        if request.method == "POST":
            code = request.form.get("code", code)
            user = enrolment.enrol(
                db_session(),
                code,
                request.form.get("new", ""),
                request.form.get("confirm", ""),
                min_length=setting("MIN_PASSWORD_LENGTH"),
            )
            flash(
                _("Your password is set. Log in with it.")
                if user.active
                else _(
                    "Your password is set. Your role awaits a second administrator's approval;"
                    " you can log in once it is approved."
                )
            )
            return redirect(url_for("auth.login"))
        if code:
            username = enrolment.find(db_session(), code).user.username
    except DomainError as err:
        refused(err)
        message, reasons = spoken(err.message, err.fields)
        # The service names the password it judged; the form calls that field "new".
        errors = {("new" if k == "password" else k): v for k, v in reasons.items()}
        status = status_of(err)
    page = render_template(
        "auth/enrol.html",
        code=code,
        username=username,
        errors=errors,
        message=message,
        min_length=setting("MIN_PASSWORD_LENGTH"),
        max_length=passwords.MAX_PASSWORD_LENGTH,
    )
    # The code is in the address: no cache keeps the page, no link sends it on.
    return page, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _keep_language(chosen: str | None) -> None:
    """The language this browser chose before a new session began: the reader who switched to
    Chinese on the login page is not answered in English once logged in (their account's own
    choice, when they made one, still comes first)."""
    if chosen:
        session["language"] = chosen


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    accounts.revoke_sessions(db_session(), actor(), "logout")
    logout_user()
    chosen = session.get("language")
    session.clear()
    _keep_language(chosen)
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.form.get("new", "") != request.form.get("confirm", ""):
            errors["confirm"] = _("the two new passwords differ")
        else:
            try:
                accounts.change_password(
                    db_session(),
                    actor(),
                    request.form.get("current", ""),
                    request.form.get("new", ""),
                    min_length=setting("MIN_PASSWORD_LENGTH"),
                )
            except ValidationFailed as err:
                refused(err)
                # The service names the password it judged; the form calls that field "new".
                _message, reasons = spoken(err.message, err.fields)
                errors = {("new" if k == "password" else k): v for k, v in reasons.items()}
            else:
                logout_user()
                chosen = session.get("language")
                session.clear()
                _keep_language(chosen)
                flash(_("Password changed. Every session was ended; log in with the new password."))
                return redirect(url_for("auth.login"))
    return _account_page(errors), (422 if errors else 200)


def _account_page(errors: dict[str, str] | None = None, form: FormState = NO_FORM) -> str:
    """The account page: password, language, and the person's API tokens."""
    return render_template(
        "auth/password.html",
        errors=errors or {},
        form=form,
        tokens=api_tokens.tokens_of(db_session(), actor()),
        now=utcnow(),
        min_length=setting("MIN_PASSWORD_LENGTH"),
        max_length=passwords.MAX_PASSWORD_LENGTH,
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one of one's own API tokens (a lost laptop, an integration retired)."""

    def act(data: dict[str, str]) -> ResponseReturnValue:
        api_tokens.revoke_token(db_session(), actor(), token_id, data["reason"])
        flash(_("Token %(id)s revoked: it no longer opens the API.", id=token_id))
        return redirect(url_for("auth.change_password") + "#tokens")

    return submit(f"revoke-{token_id}", ReasonIn(), act, lambda form: _account_page(form=form))


@bp.post("/language")
def set_language() -> ResponseReturnValue:
    """The header's language switch: kept on the account when logged in (every device then
    speaks it), else in this browser's session until login."""
    chosen = request.form.get("language", "")
    user = g.get("actor")
    if user is not None:
        accounts.set_language(db_session(), user, chosen)
    elif chosen in Language._value2member_map_:
        session["language"] = chosen
    else:
        raise ValidationFailed(
            "Choose a language lotrack speaks.", {"language": f"one of {', '.join(Language)}"}
        )
    return redirect(_safe_next(request.form.get("next")))
