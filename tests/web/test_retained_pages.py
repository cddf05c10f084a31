"""Retained samples in the browser: laid down from the lot's page, listed with their place and
what is left, shown on the lot's and the bank's pages, withdrawn from the sample's page; a
withdrawal of more than is left shown on the form naming the quantity, nothing written."""

from __future__ import annotations

import datetime as dt
import html

from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import row_counts
from tests.conftest import csrf_token, login

DAY = str(dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))
LOT = "CFM-2025-0003"


def text(resp) -> str:
    return html.unescape(resp.get_data(as_text=True))


def lay(client: FlaskClient, **over: str):
    form = {
        "csrf_token": csrf_token(client, "/retained-samples/new"),
        "lot": LOT,
        "sample_type": "cells",
        "container": "cryovial",
        "quantity": "2",
        "unit": "vial",
        "freezer": "LN2-RET",
        "rack": "R3",
        "box": "B7",
        "position": "D2",
        "laid_down_on": DAY,
        **over,
    }
    return client.post("/retained-samples/new", data=form)


def test_samples_are_laid_down_listed_and_shown_on_the_lot_and_bank(client: FlaskClient) -> None:
    login(client, "tech")
    lot_page = text(client.get(f"/lots/{LOT}"))
    assert "Retained samples" in lot_page and f"/retained-samples/new?lot={LOT}" in lot_page
    made = lay(client)
    assert made.status_code == 302, text(made)
    sample = text(client.get(made.headers["Location"]))
    number = made.headers["Location"].rsplit("/", 1)[1]
    assert "LN2-RET / rack R3 / box B7 / position D2" in sample and "2 vial" in sample
    assert number in text(client.get(f"/lots/{LOT}"))
    assert lay(client, lot="", bank="MCB-001", unit="mL", quantity="1.5").status_code == 302
    bank_page = text(client.get("/banks/MCB-001"))
    assert "1.5 mL" in bank_page and "as long as the bank" in bank_page
    listed = text(client.get("/retained-samples"))
    assert number in listed and LOT in listed and "MCB-001" in listed


def test_more_than_is_left_is_shown_on_the_form_and_nothing_is_written(
    demo_app: Flask, client: FlaskClient
) -> None:
    login(client, "tech")
    path = lay(client).headers["Location"]
    before = row_counts(demo_app)
    refused = client.post(
        f"{path}/withdrawals",
        data={
            "csrf_token": csrf_token(client, path),
            "quantity": "3",
            "reason": "other",
            "note": "training",
        },
    )
    assert refused.status_code == 422
    assert "more than the 2 vial left" in text(refused)
    assert row_counts(demo_app) == before
    done = client.post(
        f"{path}/withdrawals",
        data={"csrf_token": csrf_token(client, path), "quantity": "1", "reason": "other",
              "note": "training"},
    )  # fmt: skip
    assert done.status_code == 302
    page = text(client.get(path))
    assert "training" in page and "1 vial" in page


def test_the_pages_speak_chinese_and_refuse_other_roles(client: FlaskClient) -> None:
    login(client, "tech")
    path = lay(client).headers["Location"]
    zh = client.get(path, headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200 and '<html lang="zh-CN">' in text(zh)
    login(client, "nurse")
    assert client.get("/retained-samples").status_code == 403
