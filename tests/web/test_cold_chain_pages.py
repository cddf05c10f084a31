"""The cold chain in the browser, on both databases: the logger file attached with the receipt
form, the shipment's page showing the judgement and the trace's chart (server-side SVG with the
limit line, no script), the excursion's hold and QA's signed decision on the page; an unreadable
file refuses the receipt on the form, naming the line, with nothing written."""

from __future__ import annotations

import html
import io

from flask import Flask
from flask.testing import FlaskClient

from lotrack.db import utcnow
from lotrack.services import shipment
from tests import clinical_setup as cs
from tests.api.conftest import row_counts
from tests.conftest import PASSWORDS, csrf_token, login
from tests.services.test_cold_chain import logger_csv, send


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def receive(client: FlaskClient, app: Flask, data_of, mapping: str = "generic"):
    din, _ = cs.free_din(app)
    number = send(app, [din])
    page = f"/shipments/{number}"
    with cs.db(app) as s:
        start = shipment.get_shipment(s, cs.user(s, "qa"), number).shipped_at
    posted = client.post(
        page + "/receive",
        data={
            "csrf_token": csrf_token(client, page),
            "received": din,
            "condition": "intact",
            "temperature_record": "see the logger file",
            "mapping": mapping,
            "logger_file": (io.BytesIO(data_of(start)), "ds07.csv"),
        },
        content_type="multipart/form-data",
    )
    return number, posted


def test_a_receipt_with_an_excursion_shows_the_hold_the_chart_and_qa_releases(
    demo_app: Flask, client: FlaskClient
) -> None:
    login(client, "nurse")
    number, posted = receive(
        client, demo_app, lambda t: logger_csv(t, utcnow(), warm_at=t + (utcnow() - t) / 2)
    )
    assert posted.status_code == 302, text(posted)
    page = text(client.get(f"/shipments/{number}"))
    assert "EXCURSION" in page and "ON HOLD" in page and "-134.99" not in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'class="limit"' in page
    assert "<script" not in page.split("<svg")[1].split("</svg>")[0]
    svg = client.get(f"/shipments/{number}/logger.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert client.get(f"/shipments/{number}/logger.csv").data.startswith(b"timestamp,")
    assert "Decide on the excursion" not in page  # a nurse does not decide
    client.post("/logout", data={"csrf_token": csrf_token(client, "/shipments")})
    login(client, "qa")
    form = f"/shipments/{number}"
    assert "Decide on the excursion" in text(client.get(form))
    signed = client.post(
        form + "/excursion",
        data={
            "csrf_token": csrf_token(client, form),
            "outcome": "released",
            "username": "qa",
            "password": PASSWORDS["qa"],
            "meaning": "released for use",
            "reason": "stability data cover the excursion",
        },
    )
    assert signed.status_code == 302, text(signed)
    shown = text(client.get(form))
    assert "QA released the units for use" in shown and "stability data cover" in shown


def test_a_clean_receipt_holds_nothing(demo_app: Flask, client: FlaskClient) -> None:
    login(client, "nurse")
    number, posted = receive(client, demo_app, lambda t: logger_csv(t, utcnow()))
    assert posted.status_code == 302, text(posted)
    page = text(client.get(f"/shipments/{number}"))
    assert "Within range from dispatch to receipt" in page and "EXCURSION" not in page


def test_an_unreadable_file_refuses_the_receipt_on_the_form_with_nothing_written(
    demo_app: Flask, client: FlaskClient
) -> None:
    login(client, "nurse")
    din, _ = cs.free_din(demo_app)
    number = send(demo_app, [din])
    page = f"/shipments/{number}"
    token = csrf_token(client, page)
    before = row_counts(demo_app)
    posted = client.post(
        page + "/receive",
        data={
            "csrf_token": token,
            "received": din,
            "condition": "intact",
            "temperature_record": "see the logger file",
            "mapping": "generic",
            "logger_file": (
                io.BytesIO(b"timestamp,temperature\n2026-12-01T00:00Z,warm\n"),
                "x.csv",
            ),
        },
        content_type="multipart/form-data",
    )
    assert posted.status_code == 422
    assert "line 2: the temperature warm is not a number" in text(posted)
    assert row_counts(demo_app) == before
    assert "in transit" in text(client.get(page)).lower()
