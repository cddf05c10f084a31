"""Security headers on every kind of response (pages, API, errors, static files, PDFs), and no
inline script, inline style or event-handler attribute in any page a demo user can reach, so that
the strict Content-Security-Policy never has to be loosened."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from lotrack import PROJECT_ROOT
from lotrack.security import CSP, PDF_CSP
from tests.conftest import PASSWORDS, login
from tests.crawl import crawl

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _policy(header: str) -> dict[str, str]:
    parts = (p.strip().split(None, 1) for p in header.split(";") if p.strip())
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts}


def _assert_hardened(resp, what: str) -> None:
    for name, value in ALWAYS.items():
        assert resp.headers.get(name) == value, f"{what}: {name}"
    assert "camera=(self)" in resp.headers["Permissions-Policy"], what
    assert "microphone=()" in resp.headers["Permissions-Policy"], what
    assert "Strict-Transport-Security" not in resp.headers, f"{what}: HSTS over plain http"


def test_the_page_policy_is_strict():
    policy = _policy(CSP)
    assert policy == DIRECTIVES
    assert "unsafe" not in CSP


def test_pages_api_answers_errors_and_static_files_carry_the_headers(client):
    anonymous = {
        "login page": client.get("/login"),
        "page behind the login (redirect)": client.get("/lots"),
        "missing page": client.get("/no/such/page"),
        "label verification page": client.get("/v/forged-token"),
        "label verification JSON": client.get(
            "/v/forged-token", headers={"Accept": "application/json"}
        ),
        "OpenAPI document": client.get("/api/v1/openapi.json"),
        "API without a token": client.get("/api/v1/lots"),
        "API missing resource": client.get("/api/v1/no-such-thing"),
        "stylesheet": client.get("/static/css/lotrack.css"),
        "missing static file": client.get("/static/nothing.css"),
    }
    login(client, "tech")
    signed_in = {
        "home page": client.get("/"),
        "forbidden page": client.get("/admin/users"),
        "API answer in a session": client.get("/api/v1/lots"),
    }
    assert anonymous["missing page"].status_code == 404
    assert signed_in["forbidden page"].status_code == 403
    for what, resp in {**anonymous, **signed_in}.items():
        _assert_hardened(resp, what)
        assert _policy(resp.headers["Content-Security-Policy"]) == DIRECTIVES, what
        if what in ("stylesheet", "missing static file"):
            assert resp.headers.get("Cache-Control") != "no-store", what
        else:
            assert resp.headers.get("Cache-Control") == "no-store", what
        resp.close()  # a static file's response holds the file open


def test_a_pdf_refuses_framing_without_the_page_policy_that_would_break_the_viewer(client):
    login(client, "qa")
    lot = _first_lot_number(client)
    resp = client.get(f"/lots/{lot}/timeline.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    _assert_hardened(resp, "PDF")
    assert resp.headers["Content-Security-Policy"] == PDF_CSP
    assert resp.headers["Cache-Control"] == "no-store"


def test_hsts_only_over_tls(demo_app):
    plain = demo_app.test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    tls = demo_app.test_client().get("/login", base_url="https://localhost")
    assert tls.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    demo_app.config["LOTRACK_SECURE_COOKIES"] = True  # TLS ends at a proxy in front of the app
    behind_proxy = demo_app.test_client().get("/login")
    assert behind_proxy.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# --- no inline script, style or handler anywhere ----------------------------------------------


class _Inline(HTMLParser):
    """Collects what the page policy would block: inline script and style, on* handlers,
    style attributes and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.links: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and not named.get("src"):
            self._script = True
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name == "style":
                self.found.append(f"<{tag} style=...>")
            if name in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")
        if tag == "a" and named.get("href"):
            self.links.append(named["href"] or "")

    def handle_data(self, data: str) -> None:
        if self._script and data.strip():
            self.found.append("inline script text")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False


def _scan(html: str) -> _Inline:
    parser = _Inline()
    parser.feed(html)
    parser.close()
    return parser


def test_the_scanner_sees_what_the_policy_would_block():
    bad = (
        '<script>alert(1)</script><style>p{}</style><p style="color:red">x</p>'
        '<button onclick="go()">x</button><a href="javascript:go()">x</a>'
    )
    assert _scan(bad).found == [
        "<script> without src",
        "inline script text",
        "<style> element",
        "<p style=...>",
        "<button onclick=...>",
        "<a href=javascript:...>",
    ]
    assert (
        _scan('<script src="/static/js/bedside.js" defer></script><p class="x">ok</p>').found == []
    )


def _first_lot_number(client) -> str:
    page = _scan(client.get("/lots").get_data(as_text=True))
    lots = [h for h in page.links if h.startswith("/lots/") and h.count("/") == 2]
    assert lots, "the demo has lots"
    return lots[0].split("/")[2]


REACHED = {
    "nurse": {"bedside.scan_page", "clinical.show_patient", "shipment.show_shipment"},
    "tech": {"lot.show_lot", "lot.new_lot", "result.show_result", "production.new_passage"},
    "qa": {
        "release.review",
        "trend.show_trend",
        "audit.audit_log",
        "investigation.list_investigations",
    },
    "md": {"report.reports", "lot.show_unit"},
    "admin": {"admin.users", "admin.new_user"},
    "doctor": {"clinical.show_patient", "report.reports"},  # SZ-GIMI's investigator
    "doctor-cip": {"report.reports"},  # the other sites' investigators: no demo patient yet
    "doctor-ach": {"report.reports"},
}


@pytest.mark.parametrize("username", sorted(PASSWORDS))
def test_no_page_a_demo_user_reaches_has_inline_script_style_or_handlers(demo_app, username):
    client = demo_app.test_client()
    login(client, username)
    problems: dict[str, list[str]] = {}

    def blocked(path: str, html: str) -> None:
        if found := _scan(html).found:
            problems[path] = found

    rendered = crawl(demo_app, client, blocked)
    assert problems == {}
    # The crawl really walked the application: each role's main pages were among those rendered.
    assert "auth.change_password" in rendered
    assert REACHED[username.rstrip("2")] <= rendered


def test_anonymous_pages_have_no_inline_script_style_or_handlers(client):
    pages = ["/login", "/v/forged-token", "/no/such/page", "/lots"]
    found = {
        p: _scan(client.get(p, follow_redirects=True).get_data(as_text=True)).found for p in pages
    }
    assert found == {p: [] for p in pages}


def test_no_template_served_as_a_page_holds_inline_script_style_or_handlers():
    """Also the templates no crawl reached. templates/documents/ are WeasyPrint sources for PDFs,
    never sent to a browser, and may keep their <style>."""
    root = PROJECT_ROOT / "templates"
    found = {}
    for path in sorted(root.rglob("*.html")):
        if path.relative_to(root).parts[0] == "documents":
            continue
        hits = _scan(path.read_text()).found
        if hits:
            found[str(path.relative_to(root))] = hits
    assert found == {}


def test_the_scripts_need_no_eval():
    """The policy has no 'unsafe-eval': code built from strings would be refused at run time."""
    scripts = sorted((PROJECT_ROOT / "static" / "js").glob("*.js"))
    assert [s.name for s in scripts] == ["bedside.js", "busy.js", "select_all.js", "tables.js"]
    for path in scripts:
        for banned in ("eval(", "new Function", 'setTimeout("', 'setInterval("', "innerHTML"):
            assert banned not in path.read_text(), path.name
