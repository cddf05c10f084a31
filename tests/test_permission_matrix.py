"""The permission matrix: every rule of the URL map, every method, called as each identity of
tests/permission_table.py, must answer as the table says. A route missing from the table fails,
so a new page or API operation cannot ship without someone deciding who may call it.

The same calls prove the request's unit of work (request_scope.settle): every request commits
at most once, and a refused one (4xx, 5xx) keeps nothing but what a refusal must keep.

One database per identity, cloned from a template prepared once per module (a deviation, a hold,
an exceptional-release request, an issued certificate, printed labels, a site-B nurse and patient),
so that the writes of one identity never change what another is answered."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from lotrack import create_app
from lotrack.documents.tokens import make_token
from lotrack.models import Investigation, Prescription, Shipment, SpecVersion, User
from lotrack.request_scope import db_session, printing
from lotrack.services import (
    adverse,
    clinical,
    coa,
    cold_chain,
    containment,
    deviation,
    enrolment,
    exceptional,
    raw_data,
    result,
    retained,
    unit_labels,
)
from lotrack.services import lot as lots
from lotrack.services.api_tokens import create_token
from lotrack.services.release import SignIn
from tests import clinical_setup as cs
from tests.commit_probe import KEPT_BY_A_REFUSAL, CommitProbe, install
from tests.conftest import FACILITY, PASSWORDS, Backend, csrf_token, login, user
from tests.permission_table import (
    BODIES,
    EXPECTED,
    IDENTITIES,
    PARAMS,
    QUERIES,
    SITE_B,
    SITE_B_PATIENT,
    SITE_B_USER,
)
from tests.services.test_cold_chain import logger_csv

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# Each identity logs in as (None: nobody).
USERNAME = {
    "anonymous": None,
    "technician": "tech",
    "qa": "qa",
    "admin": "admin",
    "site_a": "nurse",
    "investigator_a": "doctor",
    "site_b": SITE_B_USER,
}
PASSWORD = PASSWORDS | {SITE_B_USER: f"demo-{SITE_B_USER}-password"}
# login_required sends to /login?next=<the page>; logging out lands on a plain /login.
LOGIN_REDIRECT = re.compile(r"^(https?://[^/]+)?/login\?next=")


@dataclass(frozen=True)
class Matrix:
    """The prepared template database and what the calls need from it."""

    template: str
    instance: Path
    values: dict[str, str]  # placeholder -> identifier, for PARAMS
    tokens: dict[str, str]  # username -> API token


def _make_app(url: str, instance: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "LOTRACK_DATABASE_URL": url,
            "LOTRACK_FACILITY_ID": FACILITY,
        }
    )


def _prepare(app: Flask) -> tuple[dict[str, str], dict[str, str]]:
    """Records every kind of URL parameter can name; returns (values, API tokens)."""
    cs.site_user(app, SITE_B_USER, SITE_B)
    site_b_wristband = cs.enrol(app, SITE_B_PATIENT, nurse=SITE_B_USER)
    with app.app_context():
        s = db_session()
        tech, qa = user(s, "tech"), user(s, "qa")
        fourth = lots.get_lot(s, "CFM-2025-0004")
        # Entered by tech2, with its instrument file: tech and qa may verify it, all may read it.
        entered = result.record_result(
            s,
            user(s, "tech2"),
            fourth,
            test="CD73",
            value="99.1",
            unit="%",
            performed_on=fourth.harvested_on,
            raw_file=raw_data.RawFile("cd73.csv", b"CD73,99.1\n"),
        )
        dev = deviation.open_deviation(s, tech, description="matrix: freezer alarm", lot=fourth)
        kept = retained.lay_down(
            s, tech, lot=fourth, sample_type="cells", container="cryovial", quantity=Decimal(3),
            unit="vial", freezer="LN2-RET", rack="R1", box="B1", position="A1",
            laid_down_on=fourth.harvested_on,
        )  # fmt: skip
        held = containment.contain(
            s,
            qa,
            kind="hold",
            sign_in=SignIn("qa", PASSWORDS["qa"], "placed on hold", "matrix: hold"),
            lockout=cs.LOCKOUT,
            lot=fourth,
        )
        er = exceptional.request_release(
            s,
            qa,
            lots.get_lot(s, "CFM-2025-0002"),
            physician="Dr. Demo",
            patient=cs.READY,  # a site-A patient: its physician (site_a) may accept it
            request="no alternative treatment",
            requested_on=cs.now().date(),
            risk_assessment="sterility pending; benefit outweighs the risk",
        )
        released = lots.get_lot(s, cs.DEMO_LOT)
        # Issued and printed once here, so that a call without a reason is refused quickly
        # (a re-issue and a reprint need one) instead of rendering a PDF per identity.
        # A QA account awaiting a second administrator, and its enrolment code (unused).
        invited = enrolment.invite(
            s, user(s, "admin"), username="qa-invited", full_name="", role="qa", site_code=None
        )
        coa.issue_certificate(s, qa, released, printing())
        unit_labels.print_labels(s, tech, list(released.units), printing())
        event = adverse.record_adverse_event(
            s,
            user(s, "doctor"),
            clinical.get_patient(s, qa, cs.READY),
            term="Fever",
            grade=1,
            onset_on=cs.today(),
            attribution="possible",
            seriousness=[],
            outcome="recovering",
        )
        s.flush()
        _attach_logger(app, s)
        values = {
            "event": str(event.id),
            "lot": cs.DEMO_LOT,
            "lot_id": str(released.id),
            "today": cs.today().isoformat(),
            "yesterday": (cs.today() - dt.timedelta(days=1)).isoformat(),
            "din": released.units[0].din,
            "bank": "MCB-001",
            "donor": "FD-0001",
            "clone": "CL-0001",
            "run": "RUN-2025-01",
            "wristband": cs.READY,
            "site_b_wristband": site_b_wristband,
            "shipment": s.scalars(select(Shipment.number).order_by(Shipment.id)).first() or "",
            "rx": str(_first_id(s, Prescription.id, Prescription.patient.has(wristband=cs.READY))),
            "result": str(entered.id),
            "spec": str(_first_id(s, SpecVersion.id)),
            "user": str(_first_id(s, User.id, User.username == "nurse")),
            "investigation": s.scalars(select(Investigation.number)).first() or "",
            "deviation": dev.number,
            "containment": held.number,
            "exceptional": er.number,
            "grant": str(invited.grant.id if invited.grant else ""),
            "enrol_code": invited.code,
            "retained": kept.number,
        }
        s.commit()
    with cs.db(app) as s:
        tokens = {name: create_token(s, None, user(s, name)) for name in USERNAME.values() if name}
        s.commit()
    return values, tokens


def _attach_logger(app: Flask, s: Any) -> None:
    """A clean logger file on the first shipment, whose cold-chain pages the table reads."""
    first = s.scalars(select(Shipment).order_by(Shipment.id)).first()
    assert first is not None and first.received_at is not None, "the demo received a shipment"
    cold_chain.attach(
        s,
        user(s, "nurse"),
        first,
        file=raw_data.RawFile("logger.csv", logger_csv(first.shipped_at, first.received_at)),
        mapping="generic",
        settings=app.config["LOTRACK_COLD_CHAIN"],
    )


def _first_id(session: Any, column: Any, *where: Any) -> int:
    found = session.scalars(select(column).where(*where).order_by(column)).first()
    assert found is not None, f"the demo has a {column}"
    return int(found)


@pytest.fixture(scope="module")
def matrix(
    backend: Backend, demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Matrix]:
    instance = tmp_path_factory.mktemp("matrix") / "instance"
    url = backend.clone(demo_template)
    app = _make_app(url, instance)
    values, tokens = _prepare(app)
    app.extensions["lotrack_db"].engine.dispose()  # PostgreSQL copies only an unused template
    yield Matrix(backend.database_of(url), instance, values, tokens)
    backend.drop(url)


def _fill(body: object, values: dict[str, str]) -> Any:
    """A body of the table with its placeholders filled in."""
    if isinstance(body, str):
        return body.format(**values)
    if isinstance(body, list):
        return [_fill(v, values) for v in body]
    if isinstance(body, dict):
        return {k: _fill(v, values) for k, v in body.items()}
    return body


def _rules(app: Flask) -> list[tuple[Rule, str]]:
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS)
    ]


def _value(rule: Rule, name: str, values: dict[str, str]) -> str:
    """A parameter's demo value: by the collection it follows ("banks", "code"), else its name."""
    key = _collection_of(rule, name)
    template = PARAMS.get((key, name), PARAMS.get(("*", name)))
    assert template is not None, (
        f"no demo value for <{name}> of {rule.rule}: add ({key!r}, {name!r})"
    )
    return template.format(**values)


def _collection_of(rule: Rule, name: str) -> str:
    """The static path segment just before the parameter: "banks" for /banks/<code>."""
    match = re.search(r"([^/<>]+)/<(?:[^>:]+(?:\([^)]*\))?:)?" + re.escape(name) + ">", rule.rule)
    return match.group(1) if match else ""


class Caller:
    """Calls routes as one identity: pages with the session cookie, the API with a token."""

    def __init__(self, app: Flask, who: str, matrix: Matrix) -> None:
        self.app, self.who, self.matrix = app, who, matrix
        self.client: FlaskClient = app.test_client()
        self.username = USERNAME[who]
        self.headers: dict[str, str] = {}
        self.csrf: str | None = None
        if self.username:
            assert login(self.client, self.username, PASSWORD[self.username]).status_code == 302
            self.headers = {"Authorization": f"Bearer {matrix.tokens[self.username]}"}
        key = app.extensions["lotrack_signing_key"]
        self.values = matrix.values | {
            "label_token": make_token(key, "U", matrix.values["din"]),
            # A signature's own username and password (the physician's acceptance).
            "me": self.username or "",
            "my_password": PASSWORD.get(self.username or "", ""),
        }

    def prepare(self) -> None:
        """The CSRF token pages' forms need (a request of its own, not the one being judged)."""
        if self.csrf is None:
            self.csrf = csrf_token(self.client, "/login")

    def url(self, rule: Rule, method: str) -> str:
        args = {name: _value(rule, name, self.values) for name in rule.arguments}
        adapter = self.app.url_map.bind("localhost")
        wanted = QUERIES.get(rule.endpoint, {}) if method == "GET" else {}
        query = {k: v.format(**self.values) for k, v in wanted.items()}
        return adapter.build(rule.endpoint, args | query, method=method)

    def call(self, rule: Rule, method: str) -> TestResponse:
        url = self.url(rule, method)
        body = _fill(BODIES.get(rule.endpoint, {}), self.values)
        if rule.rule.startswith("/api/"):
            if method == "GET":
                return self.client.get(url, headers=self.headers)
            return self.client.post(url, headers=self.headers, json=body or None)
        if method == "GET":
            return self.client.get(url)
        self.prepare()
        form = dict(body)
        if rule.endpoint == "auth.login":  # back in after logging out (anonymous: as tech)
            name = self.username or "tech"
            form = {"username": name, "password": PASSWORD[name]}
        resp = self.client.post(url, data=form | {"csrf_token": self.csrf})
        if rule.endpoint == "auth.logout":
            self.csrf = None  # the session was cleared
        return resp


def verdict(rule: Rule, method: str, resp: TestResponse) -> str:
    """Allow, deny or error (5xx, or a refusal that is neither: a GET answered 400 or 422)."""
    status = resp.status_code
    location = resp.headers.get("Location", "")
    if status >= 500:
        return "error"
    if rule.rule.startswith("/api/"):
        if status in (401, 403, 404):
            return "deny"
    elif status in (403, 404) or (status in (301, 302, 303) and LOGIN_REDIRECT.match(location)):
        return "deny"
    if status < 400 or (method == "POST" and status not in (401, 403)):
        return "allow"
    return "error"


def _order(call: tuple[Rule, str]) -> tuple[int, str, str]:
    """Reads first, then writes; logging out and back in last (they change the session)."""
    rule, method = call
    rank = {"auth.logout": 2, "auth.login": 3}.get(rule.endpoint, 1) if method == "POST" else 0
    return rank, rule.endpoint, method


def test_every_route_and_method_is_in_the_table(demo_app: Flask) -> None:
    routes = {(rule.endpoint, method) for rule, method in _rules(demo_app)}
    missing = sorted(routes - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - routes)
    assert not missing, f"routes with no row in tests/permission_table.py: {missing}"
    assert not stale, f"rows in tests/permission_table.py for routes that are gone: {stale}"


@pytest.mark.parametrize("who", IDENTITIES)
def test_every_route_answers_as_the_table_says(who: str, matrix: Matrix, backend: Backend) -> None:
    url = backend.clone(matrix.template)
    app = _make_app(url, matrix.instance)
    try:
        probe = install(app)
        caller = Caller(app, who, matrix)
        wrong: list[str] = []
        for rule, method in sorted(_rules(app), key=_order):
            expected = EXPECTED.get((rule.endpoint, method))
            if expected is None:
                continue  # test_every_route_and_method_is_in_the_table names it
            want = "allow" if who in expected else "deny"
            caller.prepare()
            probe.reset()
            resp = caller.call(rule, method)
            resp.close()  # a file sent from disk (static) is open until then
            got = verdict(rule, method, resp)
            where = f"{method} {caller.url(rule, method)} ({rule.endpoint})"
            if got != want:
                wrong.append(
                    f"{where}: expected {want},"
                    f" got {resp.status_code} {resp.headers.get('Location', '')}".rstrip()
                )
            wrong += unit_of_work_broken(where, resp.status_code, probe)
        assert not wrong, f"{who}:\n" + "\n".join(wrong)
    finally:
        app.extensions["lotrack_db"].engine.dispose()
        backend.drop(url)


def unit_of_work_broken(where: str, status: int, probe: CommitProbe) -> list[str]:
    """What a request's commits show against the unit of work: one commit at most, and nothing
    kept by a refusal but a failure count and its audit event."""
    broken = []
    if probe.commits > 1:
        broken.append(f"{where}: {probe.commits} commits in one request")
    if status >= 400 and (kept := probe.written - KEPT_BY_A_REFUSAL):
        broken.append(f"{where}: answered {status} but committed writes to {sorted(kept)}")
    return broken
