"""Documents take about a second to render: a module shares one demo copy on which the released
lot's certificate and labels are issued once (tests that change state use their own demo_app)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from lotrack.request_scope import db_session, printing
from lotrack.services import coa, unit_labels
from lotrack.services import lot as lots
from lotrack.services.release import Lockout, SignIn
from tests.conftest import Backend, _app, user

RELEASED_LOT = "CFM-2025-0001"  # RELEASED by qa in the demo, 4 units
QUARANTINED_LOT = "CFM-2025-0002"
LOCKOUT = Lockout(max_failures=5, lockout_minutes=15)


def qa_sign_in(meaning: str, reason: str = "test: containment") -> SignIn:
    return SignIn("qa", "demo-qa-password", meaning, reason)


@dataclass(frozen=True)
class Issued:
    """What the module's demo copy issued: the CoA (version 1) and one sheet of the lot's labels."""

    app: Flask
    coa_pdf: bytes
    coa_sha256: str
    coa_snapshot: str
    coa_token: str
    labels_pdf: bytes
    dins: list[str]


@pytest.fixture(scope="module")
def module_app(
    backend: Backend, demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    yield from _app(backend, demo_template, tmp_path_factory.mktemp("documents"))


@pytest.fixture(scope="module")
def issued(module_app: Flask) -> Issued:
    with module_app.app_context():
        session = db_session()
        lot = lots.get_lot(session, RELEASED_LOT)
        cert = coa.issue_certificate(session, user(session, "qa"), lot, printing())
        sheet = unit_labels.print_labels(
            session, user(session, "tech"), list(lot.units), printing()
        )
        session.commit()
        return Issued(
            module_app,
            cert.pdf,
            cert.pdf_sha256,
            cert.snapshot,
            cert.token,
            sheet.pdf,
            sheet.units,
        )
