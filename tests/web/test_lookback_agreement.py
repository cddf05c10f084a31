"""One release rule, three answers that never disagree: for every kind of blocker, a lot with
exactly that blocker (built through the services) is judged the same by the evaluation API, the
lot page and the release review (page and API): the same blockers, in the same order, and all say
"not releasable". Hole 5 of issue 13 was the evaluation and the lot page saying "releasable"
while a deviation was open, the review saying not."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lotrack.models import Investigation, Lot, Passage, ProductionRun
from lotrack.services import (
    deviation,
    donor,
    investigation,
    qualification,
    result,
    seed_quality,
)
from lotrack.services import lot as lots
from lotrack.services.api_tokens import create_token
from tests.conftest import FACILITY, login, user
from tests.record_signing import signs
from tests.web.test_quality_pages import db

HARVEST = dt.date(2025, 8, 18)
BLOCKER = re.compile(r'<li data-kind="([^"]+)">(.*?)</li>', re.DOTALL)
FIRST_LIST = re.compile(r'<ul class="blockers">(.*?)</ul>', re.DOTALL)


def build(
    s: Session,
    *,
    run_code: str = "RUN-2025-01",
    harvested_on: dt.date = HARVEST,
    left_out: tuple[str, ...] = (),
    unverified: tuple[str, ...] = (),
) -> Lot:
    """A quarantined lot of two bags with every release result passing, entered by tech and
    verified by tech2, except the tests `left_out` (not entered) and `unverified`."""
    tech, tech2 = user(s, "tech"), user(s, "tech2")
    lot = lots.register_lot(
        s,
        tech,
        run_code=run_code,
        harvested_on=harvested_on,
        expires_on=harvested_on + dt.timedelta(days=3 * 365),
    )
    s.flush()
    lots.fill_units(
        s, tech, lot, container="bag", count=2, cells_per_unit=72_000_000,
        volume_ml=Decimal("18.00"), facility_id=FACILITY, freezer="LN2-2", rack="C", box="7",
    )  # fmt: skip
    for analyte, value, unit in seed_quality.RELEASE_VALUES:
        if analyte not in left_out:
            r = result.record_result(
                s, tech, lot, test=analyte, value=value, unit=unit, performed_on=harvested_on
            )
            s.flush()
            if analyte not in unverified:
                result.verify_result(s, tech2, r)
    s.flush()
    return lot


def failing_viability(s: Session, lot: Lot) -> Investigation:
    """Viability 70.0 % (≥ 80.0 % required), verified: it opens an OOS investigation."""
    r = result.record_result(
        s, user(s, "tech"), lot, test="VIAB", value="70.0", unit="%", performed_on=HARVEST
    )
    s.flush()
    result.verify_result(s, user(s, "tech2"), r)
    return s.scalars(select(Investigation).where(Investigation.result_id == r.id)).one()


def confirm(s: Session, inv: Investigation) -> None:
    investigation.conclude(
        s, user(s, "qa"), inv, conclusion="confirmed_oos", findings="no laboratory error",
        **signs("qa", "concluded"),
    )  # fmt: skip


def _missing(s: Session) -> Lot:
    return build(s, left_out=("KARYOTYPE",))


def _pending(s: Session) -> Lot:
    lot = build(s, left_out=("STERILITY",))
    result.record_result(
        s, user(s, "tech"), lot, test="STERILITY", value="pending",
        performed_on=dt.date.today() - dt.timedelta(days=3),
    )  # fmt: skip
    return lot


def _unverified(s: Session) -> Lot:
    return build(s, unverified=("CELLS",))  # entered, not yet checked by a second person


def _failing(s: Session) -> Lot:
    lot = build(s, left_out=("VIAB",))
    confirm(s, failing_viability(s, lot))  # concluded: the failure stands, nothing is open
    return lot


def _investigation(s: Session) -> Lot:
    lot = build(s, left_out=("VIAB",))
    failing_viability(s, lot)  # a failing result always comes with its open OOS
    return lot


def _sibling(s: Session) -> Lot:
    lot = build(s)
    failing_viability(s, build(s, left_out=("VIAB",)))  # same run, same working bank
    return lot


def _passage(s: Session) -> Lot:
    # RUN-2025-03 went past its passage limit; its sibling CFM-2025-0003's OOS is concluded so
    # that the passage is the one blocker.
    for inv in s.scalars(select(Investigation).where(Investigation.status == "open")):
        confirm(s, inv)
    return build(s, run_code="RUN-2025-03", harvested_on=dt.date(2025, 11, 20))


def _in_process(s: Session) -> Lot:
    lot = build(s)
    passage = s.scalars(
        select(Passage)
        .join(ProductionRun, Passage.run_id == ProductionRun.id)
        .where(ProductionRun.code == "RUN-2025-01")
        .order_by(Passage.number)
    ).first()
    assert passage is not None
    result.record_result(
        s, user(s, "tech"), passage, test="VIAB", value="70.0", unit="%",
        performed_on=passage.harvested_on,
    )  # fmt: skip
    return lot


def _bank(s: Session) -> Lot:
    lot = build(s)
    qualification.qualify_bank(
        s, user(s, "qa"), lot.run.bank, decision="not_qualified", reason="mycoplasma found",
        **signs("qa", "not qualified"),
    )  # fmt: skip
    return lot


def _donor(s: Session) -> Lot:
    lot = build(s)
    donor.determine_eligibility(
        s, user(s, "qa"), donor.get_donor(s, "FD-0001"), determination="ineligible",
        responsible_person="Demo Medical Director", reason="look-back: HBV reactive",
    )  # fmt: skip
    return lot


def _deviation(s: Session) -> Lot:
    lot = build(s)
    deviation.open_deviation(s, user(s, "tech"), lot=lot, description="label misprint")
    return lot


def _spec(s: Session) -> Lot:
    lot = build(s)
    # A lot with no specification pinned (as if registered before its product had an approved
    # one): nothing judges its results, so nothing may release it.
    s.execute(update(Lot).where(Lot.id == lot.id).values(spec_version_id=None))
    s.expire(lot)
    return lot


# case -> (how the lot is made, the kinds of blocker it has: that one alone where it can be)
CASES: dict[str, tuple[Callable[[Session], Lot], set[str]]] = {
    "missing": (_missing, {"missing"}),
    "pending": (_pending, {"pending"}),
    "failing": (_failing, {"failing"}),
    "unverified": (_unverified, {"unverified"}),
    "investigation on the lot": (_investigation, {"failing", "investigation"}),
    "investigation on a sibling": (_sibling, {"investigation"}),
    "passage": (_passage, {"passage"}),
    "in-process": (_in_process, {"in-process"}),
    "bank": (_bank, {"bank"}),
    "donor": (_donor, {"donor"}),
    "deviation": (_deviation, {"deviation"}),
    "spec": (_spec, {"spec"}),
}


def _from_page(page: str) -> list[tuple[str, str]]:
    """The blockers a page lists first (its evaluation), as (kind, message)."""
    found = FIRST_LIST.search(page)
    assert found, "the page lists blockers"
    return [(k, html.unescape(m).strip()) for k, m in BLOCKER.findall(found.group(1))]


def _from_api(client: FlaskClient, path: str, token: str) -> dict:
    resp = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


@pytest.mark.parametrize("case", list(CASES))
def test_the_evaluation_the_lot_page_and_the_review_name_the_same_blockers(
    demo_app: Flask, client: FlaskClient, case: str
) -> None:
    make, kinds = CASES[case]
    with db(demo_app) as s:
        number = make(s).lot_number
        token = create_token(s, None, user(s, "tech"))
        s.commit()

    api = _from_api(client, f"/api/v1/lots/{number}/evaluation", token)
    review_api = _from_api(client, f"/api/v1/lots/{number}/release", token)
    login(client, "tech")
    lot_page = client.get(f"/lots/{number}").get_data(as_text=True)
    review_page = client.get(f"/lots/{number}/release").get_data(as_text=True)

    answer = [(b["kind"], b["message"]) for b in api["blockers"]]
    assert {kind for kind, _ in answer} == kinds, answer  # the case built what it says
    assert [(b["kind"], b["message"]) for b in review_api["blockers"]] == answer
    assert _from_page(lot_page) == answer
    assert _from_page(review_page) == answer
    assert api["releasable"] is False and review_api["releasable"] is False
    assert "Not releasable" in lot_page and "Releasable: no blocker" not in review_page
    assert f"Not releasable: {len(answer)} blocker" in review_page
