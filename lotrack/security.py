"""Who is asking: browser sessions (Flask-Login, idle and absolute limits, revocation) and bearer
tokens for the API. Sets g.actor for the edges. Also the browser's side: cookie flags, security
headers on every response (ASVS 4.0.3 V3.4 and V14.4)."""

from __future__ import annotations

import logging
import time

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select

from lotrack.domain.errors import Forbidden, NotFound, ValidationFailed
from lotrack.domain.text import N_, Said, said
from lotrack.models import User
from lotrack.request_scope import db_session, setting
from lotrack.services import api_tokens

log = logging.getLogger(__name__)
login_manager = LoginManager()
csrf = CSRFProtect()

# No inline script or style anywhere (templates and static/js/bedside.js keep to that; the tests
# render every page to prove it). img-src data: is for the empty favicon; the bedside camera needs
# no source, getUserMedia streams are not fetched.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
# Chromium shows a PDF inside a page of its own making, with inline style and an <embed>, which
# the page policy has blocked in some versions (crbug.com/271452; Chromium 156 shows it). A PDF
# needs none of the page directives, so it only refuses to be framed.
PDF_CSP = "frame-ancestors 'none'"
# The bedside page reads labels with the camera (BarcodeDetector); nothing else is wanted.
PERMISSIONS = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"


def served_over_tls() -> bool:
    """This request came over TLS, or the operator says TLS ends at a proxy in front of us."""
    if current_app.config.get("LOTRACK_SECURE_COOKIES"):
        return True
    return has_request_context() and request.is_secure


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, with the Secure flag whenever the site is served over TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or served_over_tls()


def _security_headers(response: Response) -> Response:
    headers = response.headers
    pdf = response.mimetype == "application/pdf"
    headers.setdefault("Content-Security-Policy", PDF_CSP if pdf else CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin, not no-referrer: Flask-WTF checks the Referer of every form posted over https.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", PERMISSIONS)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages and API answers carry patient, lot and status data that must not outlive the
        # session in a shared browser's cache, nor show a recalled lot as still released.
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    if served_over_tls():
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


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
    last, started = session.get("last_seen"), session.get("started")
    if last is None or started is None:
        return True  # not made by our login: no limits to check, so no trust
    idle = setting("IDLE_TIMEOUT_MINUTES") * 60
    absolute = setting("ABSOLUTE_TIMEOUT_HOURS") * 3600
    return now - last > idle or now - started > absolute


# All an account whose password someone else chose may reach before changing it.
WHILE_MUST_CHANGE = frozenset(
    {"auth.change_password", "auth.logout", "auth.set_language", "static"}
)
MUST_CHANGE_API = N_(
    "This account must change the password it was given before it uses the API: log in to"
    " lotrack in a browser and choose your own password."
)


def _identify() -> Response | None:
    g.actor = None
    if request.path.startswith("/api/"):
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            # The token's last-use stamp joins the request's unit of work (request_scope.settle).
            token = api_tokens.live_token(db_session(), header[7:].strip())
            if token is not None:
                if token.user.must_change_password:
                    raise Forbidden(MUST_CHANGE_API, {"token": N_("password change pending")})
                g.actor, g.token_scopes = token.user, token.scope_set
                _require_scope("read" if request.method in SAFE_METHODS else "write")
        return
    if current_user.is_authenticated:
        if _session_expired():
            logout_user()
            session.clear()
            session["expired"] = True
            return
        session["last_seen"] = time.time()
        g.actor = current_user._get_current_object()
        if g.actor.must_change_password and request.endpoint not in WHILE_MUST_CHANGE:
            return redirect(url_for("auth.change_password"))  # type: ignore[return-value]


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _require_scope(scope: str) -> None:
    """A token does only what it was issued for (services/api_tokens.SCOPES)."""
    scopes = g.get("token_scopes")
    if scopes is not None and scope not in scopes:
        raise Forbidden(
            said(
                "This token may not %(scope)s: it was issued for %(scopes)s.",
                scope=Said(scope),
                scopes=", ".join(sorted(scopes)),
            ),
            {"token": said("needs the %(scope)s scope", scope=scope)},
        )


def require_signing_scope() -> None:
    """An e-signature through the API needs a token issued for signing."""
    _require_scope("sign")


def _refuse_nul() -> None:
    """NUL is never meaningful input, and PostgreSQL refuses it in text: a 4xx, not a 500."""
    if "\x00" in request.path:
        raise NotFound(N_("No such page or resource."), {"path": N_("contains a NUL character")})
    bad = {
        k: N_("contains a NUL character")
        for k, v in request.args.items(multi=True)
        if "\x00" in k + v
    }
    if bad:
        raise ValidationFailed(N_("Query parameters may not contain NUL characters."), bad)


def init_app(app: Flask) -> None:
    """Sessions, CSRF, the actor of each request, security headers and login throttling."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    # Not bound to the client's address or browser fingerprint: a bedside phone roams between
    # Wi-Fi and mobile data and hosts behind a load balancer see different addresses. A session
    # is still revoked by logout and password change (its version), and ends after the idle and
    # absolute limits.
    login_manager.session_protection = None
    app.session_interface = _SessionInterface()
    csrf.init_app(app)
    app.before_request(_refuse_nul)
    app.before_request(_identify)
    app.after_request(_security_headers)
