"""The trial's records as SDTM rows (domain/sdtm.py describes every column): plain facts in, one
list of rows per dataset out, every value text as the CSV holds it ("" for none)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from lotrack.domain import sdtm

OUTCOMES = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "recovered_with_sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}
SEXES = {"female": "F", "male": "M"}
# Seriousness criteria (domain/clinical.py SERIOUSNESS) -> their SDTM flag.
SERIOUS_FLAGS = {
    "congenital_anomaly": "AESCONG",
    "disability": "AESDISAB",
    "death": "AESDTH",
    "hospitalization": "AESHOSP",
    "life_threatening": "AESLIFE",
    "medically_important": "AESMIE",
}
Rows = dict[str, list[dict[str, str]]]


@dataclass(frozen=True)
class Subject:
    site: str
    subject: str
    consent_on: dt.date | None
    sex: str | None
    age_band: str | None
    indication: str
    arm_code: str  # the patient's dose cohort
    arm: str  # its dose level in words


@dataclass(frozen=True)
class Dose:
    """One infusion; times are the site's local wall-clock time."""

    site: str
    subject: str
    started: dt.datetime
    stopped: dt.datetime | None
    din: str
    lot: str
    per_kg: int | None
    cells: int | None
    volume_ml: Decimal | None
    discarded_ml: Decimal | None
    arm_code: str  # the prescription's dose cohort
    arm: str


@dataclass(frozen=True)
class Event:
    """An adverse event as its history leaves it (services/adverse_lifecycle.py)."""

    site: str
    subject: str
    number: int
    term: str
    specify: str
    meddra: str
    soc: str
    onset_on: dt.date
    worst_grade: int
    grade: int  # the latest
    attribution: str
    seriousness: tuple[str, ...]
    outcome: str
    resolved_on: dt.date | None
    expected: bool | None


@dataclass(frozen=True)
class Visit:
    site: str
    subject: str
    visit_on: dt.date
    response: str


def usubjid(site: str, subject: str) -> str:
    return f"{sdtm.STUDYID}-{site}-{subject}"


def dtc(moment: dt.datetime | dt.date | None) -> str:
    """ISO 8601 as SDTM writes it: a date, or a local date and time to the second."""
    if moment is None:
        return ""
    if isinstance(moment, dt.datetime):
        return moment.replace(tzinfo=None).isoformat(timespec="seconds")
    return moment.isoformat()


def study_day(on: dt.date, start: dt.date | None) -> str:
    """SDTM study day: the reference start is day 1, the day before it day -1 (no day 0)."""
    if start is None:
        return ""
    days = (on - start).days
    return str(days + 1 if days >= 0 else days)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _keys(domain: str, site: str, subject: str) -> dict[str, str]:
    return {"STUDYID": sdtm.STUDYID, "DOMAIN": domain, "USUBJID": usubjid(site, subject)}


def _qualifier(parent: str, usub: str, idvar: str, idval: str, qnam: str, qval: str) -> dict:
    _dataset, label, _zh, origin, _held = sdtm.QUALIFIERS[qnam]
    return {
        "STUDYID": sdtm.STUDYID,
        "RDOMAIN": parent,
        "USUBJID": usub,
        "IDVAR": idvar,
        "IDVARVAL": idval,
        "QNAM": qnam,
        "QLABEL": label,
        "QVAL": qval,
        "QORIG": origin,
        "QEVAL": "INVESTIGATOR" if parent in ("AE", "DS") else "",
    }


def build(
    subjects: list[Subject], doses: list[Dose], events: list[Event], visits: list[Visit]
) -> Rows:
    """Every dataset's rows, sorted by subject and time; each row holds every column."""
    doses_of: dict[tuple[str, str], list[Dose]] = defaultdict(list)
    visits_of: dict[tuple[str, str], list[Visit]] = defaultdict(list)
    for v in visits:
        visits_of[(v.site, v.subject)].append(v)
    for d in sorted(doses, key=lambda d: d.started):
        doses_of[(d.site, d.subject)].append(d)
    out: Rows = {d.name: [] for d in sdtm.DATASETS}
    deaths: dict[tuple[str, str], Event] = {}
    for e in sorted(events, key=lambda e: (e.onset_on, e.number)):
        if e.outcome == "fatal":
            deaths.setdefault((e.site, e.subject), e)
    starts: dict[tuple[str, str], dt.date] = {}
    for s in sorted(subjects, key=lambda s: usubjid(s.site, s.subject)):
        key, usub = (s.site, s.subject), usubjid(s.site, s.subject)
        given = doses_of.get(key, [])
        first, last = (given[0], given[-1]) if given else (None, None)
        if first is not None:
            starts[key] = first.started.date()
        end = dtc(last.stopped or last.started) if last else ""
        died = deaths.get(key)
        out["DM"].append(
            {
                **_keys("DM", *key),
                "SUBJID": s.subject,
                "RFSTDTC": dtc(first.started) if first else "",
                "RFENDTC": end,
                "RFXSTDTC": dtc(first.started) if first else "",
                "RFXENDTC": end,
                "RFICDTC": dtc(s.consent_on),
                "DTHDTC": dtc(died.resolved_on) if died else "",
                "DTHFL": "Y" if died else "",
                "SITEID": s.site,
                "AGE": "",
                "AGEU": "",
                "SEX": SEXES.get(s.sex or "", "U"),
                "ARMCD": s.arm_code,
                "ARM": s.arm,
                "ACTARMCD": first.arm_code if first else "NOTTRT",
                "ACTARM": first.arm if first else "Not Treated",
                "COUNTRY": sdtm.COUNTRY,
            }
        )
        for qnam, value in (("AGEBAND", s.age_band), ("INDIC", s.indication)):
            if value:
                out["SUPPDM"].append(_qualifier("DM", usub, "", "", qnam, value))
        _exposure(out, usub, key, given)
        _disposition(out, usub, s, given, visits_of[key], died)
    _adverse(out, events, starts)
    return out


def _exposure(out: Rows, usub: str, key: tuple[str, str], given: list[Dose]) -> None:
    start = given[0].started.date() if given else None
    for seq, d in enumerate(given, 1):
        out["EX"].append(
            {
                **_keys("EX", *key),
                "EXSEQ": str(seq),
                "EXREFID": d.din,
                "EXTRT": sdtm.TREATMENT,
                "EXDOSE": _text(d.per_kg),
                "EXDOSU": "cells/kg",
                "EXDOSFRM": "SUSPENSION",
                "EXROUTE": "INTRAVENOUS",
                "EXLOT": d.lot,
                "EPOCH": "TREATMENT",
                "EXSTDTC": dtc(d.started),
                "EXENDTC": dtc(d.stopped),
                "EXSTDY": study_day(d.started.date(), start),
            }
        )
        for qnam, value in (
            ("EXVOL", d.volume_ml),
            ("EXCELLS", d.cells),
            ("EXDISCRD", d.discarded_ml),
        ):
            if value is not None:
                out["SUPPEX"].append(_qualifier("EX", usub, "EXSEQ", str(seq), qnam, str(value)))


def _disposition(
    out: Rows, usub: str, s: Subject, given: list[Dose], visits: list[Visit], died: Event | None
) -> None:
    start = given[0].started.date() if given else None
    found: list[tuple[str, str, str, str, str, dt.date | dt.datetime | None]] = []
    if s.consent_on is not None:
        consent = "INFORMED CONSENT OBTAINED"
        found.append((consent, consent, "PROTOCOL MILESTONE", "SCREENING", "", s.consent_on))
    if given:
        term = f"FIRST INFUSION OF {sdtm.TREATMENT.upper()}"
        found.append(
            (term, "FIRST INFUSION", "PROTOCOL MILESTONE", "TREATMENT", "", given[0].started)
        )
    for v in visits:
        found.append(
            (
                "COMPLETED ONE-MONTH VISIT",
                "COMPLETED",
                "DISPOSITION EVENT",
                "FOLLOW-UP",
                v.response.upper(),
                v.visit_on,
            )
        )
    if died is not None:
        term = f"DEATH ({died.term})"
        found.append((term, "DEATH", "DISPOSITION EVENT", "FOLLOW-UP", "", died.resolved_on))
    for seq, (term, decod, cat, epoch, response, on) in enumerate(found, 1):
        day = on.date() if isinstance(on, dt.datetime) else on
        out["DS"].append(
            {
                **_keys("DS", s.site, s.subject),
                "DSSEQ": str(seq),
                "DSTERM": term,
                "DSDECOD": decod,
                "DSCAT": cat,
                "EPOCH": epoch,
                "DSSTDTC": dtc(on),
                "DSSTDY": study_day(day, start) if day else "",
            }
        )
        if response:
            out["SUPPDS"].append(_qualifier("DS", usub, "DSSEQ", str(seq), "RESPONSE", response))


def _adverse(out: Rows, events: list[Event], starts: dict[tuple[str, str], dt.date]) -> None:
    seqs: dict[tuple[str, str], int] = defaultdict(int)
    ordered = sorted(events, key=lambda e: (usubjid(e.site, e.subject), e.onset_on, e.number))
    for e in ordered:
        key = (e.site, e.subject)
        seqs[key] += 1
        seq = str(seqs[key])
        row = {
            **_keys("AE", *key),
            "AESEQ": seq,
            "AESPID": str(e.number),
            "AETERM": e.specify or e.term,
            "AELLTCD": e.meddra,
            "AEDECOD": e.term,
            "AEBODSYS": e.soc,
            "AESER": "Y" if e.seriousness else "N",
            "AEREL": e.attribution.upper(),
            "AEOUT": OUTCOMES[e.outcome],
            **{flag: "Y" if c in e.seriousness else "N" for c, flag in SERIOUS_FLAGS.items()},
            "AETOXGR": str(e.worst_grade),
            "AESTDTC": dtc(e.onset_on),
            "AEENDTC": dtc(e.resolved_on),
            "AESTDY": study_day(e.onset_on, starts.get(key)),
        }
        out["AE"].append(row)
        usub = row["USUBJID"]
        out["SUPPAE"].append(_qualifier("AE", usub, "AESEQ", seq, "AETOXGRL", str(e.grade)))
        if e.expected is not None:
            expect = "Y" if e.expected else "N"
            out["SUPPAE"].append(_qualifier("AE", usub, "AESEQ", seq, "AEEXPECT", expect))


def to_csv(dataset: sdtm.Dataset, rows: list[dict[str, str]]) -> bytes:
    """A dataset as CSV (RFC 4180, CRLF), UTF-8 with a byte-order mark (sdtm.ENCODING). Values
    are written exactly as recorded: the files are data for the sponsor's clinical database."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=dataset.columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)  # a key outside the dataset's columns raises: never a silent column
    return out.getvalue().encode(sdtm.ENCODING)


METADATA_COLUMNS = (
    "dataset",
    "dataset_label",
    "order",
    "variable",
    "label",
    "label_zh",
    "type",
    "length",
    "origin",
    "controlled_terms",
    "source",
)


def metadata_csv() -> bytes:
    """The define-like description of every column of every dataset, and each qualifier."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(METADATA_COLUMNS)
    for d in sdtm.DATASETS:
        for order, v in enumerate(d.variables, 1):
            writer.writerow(
                (
                    d.name,
                    d.label,
                    order,
                    v.name,
                    v.label,
                    v.label_zh,
                    v.type,
                    v.length,
                    v.origin,
                    v.terms,
                    v.source,
                )
            )
    for qnam, (dataset, label, zh, origin, held) in sdtm.QUALIFIERS.items():
        # A qualifier is a value of its dataset's QNAM column, described like a variable.
        writer.writerow((dataset, "QNAM value", "", qnam, label, zh, "Char", 200, origin, "", held))
    return out.getvalue().encode(sdtm.ENCODING)
