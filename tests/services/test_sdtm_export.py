"""The sponsor export (issue 17 item 6): the trial's records as SDTM-shaped CSV datasets in a zip,
read back with Python's csv module and compared, count by count and value by value, with the
records themselves; a site's investigator exports their site only; every export is audited."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from lotrack.domain import sdtm
from lotrack.domain.errors import Forbidden
from lotrack.models import AdverseEvent, AuditEvent, FollowUp, Infusion, Patient, Unit
from lotrack.services import adverse_lifecycle
from lotrack.services import sdtm as export_service
from tests.clinical_setup import investigator_of
from tests.conftest import counting, user
from tests.services import test_adverse_reports as reports
from tests.services.test_adverse_reports import TODAY, Trial

# The trial of the primary-outcome tests (five participants at two sites, nine events, three
# one-month visits), reused as it stands.
s, trial = reports.s, reports.trial

ZONE = ZoneInfo("Asia/Shanghai")  # every trial site's


def opened(content: bytes) -> dict[str, list[dict[str, str]]]:
    """Each CSV of the zip, as csv.DictReader reads it."""
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return {
            name.removesuffix(".csv"): list(
                csv.DictReader(io.StringIO(zf.read(name).decode("utf-8-sig")))
            )
            for name in zf.namelist()
            if name.endswith(".csv")
        }


def manifest_of(content: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return json.loads(zf.read("manifest.json"))


def usubjid(p: Patient) -> str:
    return f"NCT03123458-{p.site.code}-{p.subject_code}"


@pytest.fixture
def followed(s: Session, trial: Trial) -> Trial:
    """The trial, with follow-ups: P1's anaphylaxis worsens to grade 4 then resolves at grade 3;
    P4's fever becomes fatal (grade 5)."""
    doctor = user(s, "doctor")
    p1, p4 = trial.patients["P1"], trial.patients["P4"]
    ana = s.scalars(
        select(AdverseEvent).where(
            AdverseEvent.patient_id == p1.id, AdverseEvent.term == "Anaphylaxis"
        )
    ).one()
    adverse_lifecycle.add_follow_up(s, doctor, ana, aware_on=TODAY, grade=4, reason="worse")
    adverse_lifecycle.add_follow_up(
        s,
        doctor,
        ana,
        aware_on=TODAY,
        grade=3,
        outcome="recovered",
        resolved_on=TODAY,
        attribution="definite",
        reason="better; rechallenge confirmed",
    )
    fever = s.scalars(select(AdverseEvent).where(AdverseEvent.patient_id == p4.id)).one()
    adverse_lifecycle.add_follow_up(
        s,
        doctor,
        fever,
        aware_on=TODAY,
        grade=5,
        outcome="fatal",
        seriousness=["death"],
        reason="died",
    )
    s.commit()
    return trial


def test_the_export_opens_as_csv_and_matches_the_records(s, followed, demo_app: Flask):
    qa = user(s, "qa")
    with counting(demo_app) as seen:
        made = export_service.export(s, qa)
    assert len(seen) <= 10  # a fixed number of queries, whatever the number of records
    data = opened(made.content)
    assert set(data) == {d.name for d in sdtm.DATASETS} | {"metadata"}
    # DM: every consented patient of every site (the demo's SUBJ-002 has not consented)
    consented = s.scalars(select(Patient).where(Patient.consent_date.is_not(None))).all()
    dm = {r["USUBJID"]: r for r in data["DM"]}
    assert set(dm) == {usubjid(p) for p in consented}
    assert "NCT03123458-SZ-GIMI-SUBJ-002" not in dm
    for p in consented:
        row = dm[usubjid(p)]
        assert (row["STUDYID"], row["DOMAIN"], row["SUBJID"]) == (
            "NCT03123458",
            "DM",
            p.subject_code,
        )
        assert (row["SITEID"], row["COUNTRY"], row["RFICDTC"]) == (
            p.site.code,
            "CHN",
            p.consent_date.isoformat(),
        )
        assert row["AGE"] == "" and row["ARMCD"] == p.cohort  # no date of birth: no age
        assert row["SEX"] == {"female": "F", "male": "M", None: "U"}[p.sex]
    # EX: one row per infusion, its unit, lot and achieved dose
    infusions = s.scalars(select(Infusion)).all()
    assert len(data["EX"]) == len(infusions) == 5
    ex = {r["EXREFID"]: r for r in data["EX"]}
    for inf in infusions:
        unit = s.get(Unit, inf.unit_id)
        row = ex[unit.din]
        assert row["USUBJID"] == usubjid(inf.patient)
        assert row["EXLOT"] == unit.lot.lot_number and row["EXTRT"] == "cfMSC"
        assert row["EXDOSE"] == ("" if inf.achieved_per_kg is None else str(inf.achieved_per_kg))
        assert row["EXSTDTC"] == inf.started_at.astimezone(ZONE).isoformat(timespec="seconds")[:19]
        assert row["EXSTDY"] == "1" and row["EXDOSU"] == "cells/kg"
    assert ex[s.get(Unit, infusions[0].unit_id).din]["EXDOSE"] not in ("", "0")
    given = {(r["USUBJID"], r["IDVARVAL"]) for r in data["SUPPEX"] if r["QNAM"] == "EXVOL"}
    assert len(given) == 4  # P3's infusion was written before volumes were kept
    # DM's reference start is the first infusion; the demo's SUBJ-001 is not treated
    p1 = followed.patients["P1"]
    assert dm[usubjid(p1)]["RFXSTDTC"] == ex_row_of(data, p1)["EXSTDTC"]
    assert dm["NCT03123458-SZ-GIMI-SUBJ-001"]["ACTARMCD"] == "NOTTRT"
    # AE: one row per event, as its follow-ups leave it
    events = s.scalars(select(AdverseEvent)).all()
    assert len(data["AE"]) == len(events) == 9 + 1  # the trial's nine and the demo's fever
    ae = {int(r["AESPID"]): r for r in data["AE"]}
    for e in events:
        row = ae[e.id]
        assert (row["USUBJID"], row["AEDECOD"], row["AEBODSYS"], row["AELLTCD"]) == (
            usubjid(e.patient),
            e.term,
            e.soc,
            e.meddra,
        )
        assert row["AESTDTC"] == e.onset_on.isoformat()
    ana = next(
        r for r in data["AE"] if r["USUBJID"] == usubjid(p1) and r["AEDECOD"] == "Anaphylaxis"
    )
    assert (ana["AETOXGR"], ana["AEOUT"], ana["AEENDTC"], ana["AEREL"]) == (
        "4",  # the worst grade reached; the latest is in SUPPAE
        "RECOVERED/RESOLVED",
        TODAY.isoformat(),
        "DEFINITE",
    )
    assert (ana["AESER"], ana["AESLIFE"], ana["AESHOSP"]) == ("Y", "Y", "N")
    latest = [
        r["QVAL"]
        for r in data["SUPPAE"]
        if r["USUBJID"] == ana["USUBJID"]
        and r["IDVARVAL"] == ana["AESEQ"]
        and r["QNAM"] == "AETOXGRL"
    ]
    assert latest == ["3"]
    # DS: consent, first infusion, the one-month visits, the death
    ds = data["DS"]
    assert sum(r["DSDECOD"] == "INFORMED CONSENT OBTAINED" for r in ds) == len(consented)
    assert sum(r["DSDECOD"] == "FIRST INFUSION" for r in ds) == 5
    visits = s.scalars(select(FollowUp)).all()
    assert sum(r["DSDECOD"] == "COMPLETED" for r in ds) == len(visits) == 3
    responses = sorted(r["QVAL"] for r in data["SUPPDS"])
    assert responses == sorted(v.response.upper() for v in visits)
    p4 = usubjid(followed.patients["P4"])
    assert [r["DSDECOD"] for r in ds if r["USUBJID"] == p4] == [
        "INFORMED CONSENT OBTAINED",
        "FIRST INFUSION",
        "COMPLETED",
        "DEATH",
    ]
    assert dm[p4]["DTHFL"] == "Y"


def ex_row_of(data: dict, p: Patient) -> dict[str, str]:
    return next(r for r in data["EX"] if r["USUBJID"] == usubjid(p))


def test_the_metadata_lists_every_column_of_every_dataset_in_both_languages(s, trial):
    made = export_service.export(s, user(s, "qa"))
    data = opened(made.content)
    described = {(r["dataset"], r["variable"]) for r in data["metadata"]}
    for d in sdtm.DATASETS:
        for column in d.columns:
            assert (d.name, column) in described
    for row in data["metadata"]:
        assert row["label"] and row["label_zh"] and row["type"] in ("Char", "Num")
    with zipfile.ZipFile(io.BytesIO(made.content)) as zf:
        for d in sdtm.DATASETS:  # each CSV's header is its dataset's columns, in order
            header = next(csv.reader(io.StringIO(zf.read(f"{d.name}.csv").decode("utf-8-sig"))))
            assert tuple(header) == d.columns
    qnams = {r["QNAM"] for name in ("SUPPDM", "SUPPEX", "SUPPAE", "SUPPDS") for r in data[name]}
    assert qnams <= {r["variable"] for r in data["metadata"]}


def test_every_export_is_audited_with_the_zips_hash_and_the_manifest_hashes_each_file(s, trial):
    made = export_service.export(s, user(s, "md"))
    s.commit()
    assert made.sha256 == hashlib.sha256(made.content).hexdigest()
    logged = s.scalars(select(AuditEvent).where(AuditEvent.action == "sdtm_export")).one()
    assert (logged.entity_type, logged.entity_id) == ("sdtm_export", made.sha256)
    changes = json.loads(logged.changes) if isinstance(logged.changes, str) else logged.changes
    assert changes["sha256"][1] == made.sha256 and changes["scope"][1] == "all sites"
    assert logged.actor_id == user(s, "md").id
    manifest = manifest_of(made.content)
    assert manifest["spec_version"] == "1" and manifest["generated_by"]["username"] == "md"
    with zipfile.ZipFile(io.BytesIO(made.content)) as zf:
        for f in manifest["files"]:
            assert hashlib.sha256(zf.read(f["name"])).hexdigest() == f["sha256"]


def test_a_sites_investigator_exports_that_sites_subjects_only(s, trial):
    bj = investigator_of(s, trial.patients["P3"].site_id)
    made = export_service.export(s, bj)
    data = opened(made.content)
    assert {r["SITEID"] for r in data["DM"]} == {"BJ-CIP"}
    assert {r["USUBJID"] for r in data["DM"]} == {usubjid(trial.patients["P3"])}
    assert len(data["EX"]) == 1 and len(data["AE"]) == 3
    assert all(
        r["USUBJID"].startswith("NCT03123458-BJ-CIP-")
        for n in data
        for r in data[n]
        if "USUBJID" in r
    )
    assert manifest_of(made.content)["scope"] == "BJ-CIP" and "BJ-CIP" in made.filename


@pytest.mark.parametrize("who", ["tech", "nurse", "admin"])
def test_technicians_nurses_and_admins_may_not_export(s, who):
    with pytest.raises(Forbidden):
        export_service.export(s, user(s, who))
