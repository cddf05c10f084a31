"""The sponsor export: the trial's records as SDTM-shaped CSV datasets (domain/sdtm.py), their
metadata and a manifest, in one zip; site staff export their own site's subjects only. Every
export is audited with the zip's SHA-256. A fixed number of queries, whatever the trial's size."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, contains_eager

from lotrack.db import utcnow
from lotrack.domain import sdtm
from lotrack.domain import sdtm_rows as rows
from lotrack.domain.dose import DoseBasis
from lotrack.domain.permissions import require
from lotrack.models import (
    AdverseEvent,
    DoseCohort,
    FollowUp,
    Infusion,
    Lot,
    Patient,
    Prescription,
    Site,
    Unit,
    User,
)
from lotrack.services import adverse_lifecycle as lifecycle
from lotrack.services import audit
from lotrack.services.clinical import site_scope

METADATA = "metadata.csv"
MANIFEST = "manifest.json"
ACTION = "sdtm_export"


@dataclass(frozen=True)
class Export:
    content: bytes  # the zip
    filename: str
    sha256: str
    manifest: dict[str, Any]


def arm(cohort: DoseCohort | None, code: str) -> str:
    """A dose cohort's dose level in words (the code as entered, before cohorts were records)."""
    if cohort is None:
        return code
    if cohort.dose_basis == DoseBasis.FIXED:
        return f"{cohort.amount} cells (fixed dose)"
    return f"{cohort.amount} cells/kg"


def _scoped(stmt: Any, actor: User) -> Any:
    scope = site_scope(actor)
    return stmt if scope is None else stmt.where(Patient.site_id == scope)


def _subjects(session: Session, actor: User) -> list[rows.Subject]:
    """Consented patients: a trial subject from informed consent on (as enrolment counts)."""
    stmt = (
        select(Patient, Site.code, DoseCohort)
        .join(Site, Patient.site_id == Site.id)
        .outerjoin(DoseCohort, Patient.cohort_id == DoseCohort.id)
        .where(Patient.consent_date.is_not(None))
        .order_by(Patient.id)
    )
    return [
        rows.Subject(
            site=code,
            subject=p.subject_code,
            consent_on=p.consent_date,
            sex=p.sex,
            age_band=p.age_band,
            indication=p.indication,
            arm_code=cohort.code if cohort else p.cohort,
            arm=arm(cohort, p.cohort),
        )
        for p, code, cohort in session.execute(_scoped(stmt, actor))
    ]


def _doses(session: Session, actor: User) -> list[rows.Dose]:
    cohort = aliased(DoseCohort)
    stmt = (
        select(Infusion, Patient, Site, Unit.din, Lot.lot_number, cohort)
        .join(Patient, Infusion.patient_id == Patient.id)
        .join(Site, Patient.site_id == Site.id)
        .join(Unit, Infusion.unit_id == Unit.id)
        .join(Lot, Unit.lot_id == Lot.id)
        .join(Prescription, Infusion.prescription_id == Prescription.id)
        .outerjoin(cohort, Prescription.cohort_id == cohort.id)
        .order_by(Infusion.started_at, Infusion.id)
    )
    out = []
    for inf, p, site, din, lot_number, level in session.execute(_scoped(stmt, actor)):
        zone = ZoneInfo(site.time_zone)
        out.append(
            rows.Dose(
                site=site.code,
                subject=p.subject_code,
                started=inf.started_at.astimezone(zone),
                stopped=inf.stopped_at.astimezone(zone) if inf.stopped_at else None,
                din=din,
                lot=lot_number,
                per_kg=inf.achieved_per_kg,
                cells=inf.achieved_cells,
                volume_ml=inf.volume_ml,
                discarded_ml=inf.discarded_ml,
                # A prescription before cohorts were records: the patient's cohort as entered.
                arm_code=level.code if level else p.cohort,
                arm=arm(level, p.cohort),
            )
        )
    return out


def _events(session: Session, actor: User) -> list[rows.Event]:
    stmt = (
        select(AdverseEvent)
        .join(Patient, AdverseEvent.patient_id == Patient.id)
        .join(Site, Patient.site_id == Site.id)
        .where(Patient.consent_date.is_not(None))
        .options(contains_eager(AdverseEvent.patient).contains_eager(Patient.site))
        .order_by(AdverseEvent.id)
    )
    found = list(session.scalars(_scoped(stmt, actor)))
    views = lifecycle.views(session, found)  # two queries: every follow-up, every report
    out = []
    for e in found:
        now = views[e.id].current  # the history's latest state; the worst grade it reached
        out.append(
            rows.Event(
                site=e.patient.site.code,
                subject=e.patient.subject_code,
                number=e.id,
                term=e.term,
                specify=e.specify,
                meddra=e.meddra,
                soc=e.soc,
                onset_on=e.onset_on,
                worst_grade=now.worst_grade,
                grade=now.grade,
                attribution=now.attribution,
                seriousness=now.seriousness,
                outcome=now.outcome,
                resolved_on=now.resolved_on,
                expected=e.expected,
            )
        )
    return out


def _visits(session: Session, actor: User) -> list[rows.Visit]:
    stmt = (
        select(FollowUp, Patient.subject_code, Site.code)
        .join(Patient, FollowUp.patient_id == Patient.id)
        .join(Site, Patient.site_id == Site.id)
        .order_by(FollowUp.id)
    )
    return [
        rows.Visit(site=code, subject=subject, visit_on=v.visit_on, response=v.response)
        for v, subject, code in session.execute(_scoped(stmt, actor))
    ]


def _sites(session: Session, actor: User) -> list[Site]:
    scope = site_scope(actor)
    stmt = select(Site).order_by(Site.code)
    return list(session.scalars(stmt if scope is None else stmt.where(Site.id == scope)))


def datasets(session: Session, actor: User) -> rows.Rows:
    """Every dataset's rows as the actor may export them (their site's only, for site staff)."""
    require(actor.role, "export.sdtm")
    return rows.build(
        _subjects(session, actor),
        _doses(session, actor),
        _events(session, actor),
        _visits(session, actor),
    )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export(session: Session, actor: User) -> Export:
    """The zip of datasets, metadata and manifest; the export is audited (who, scope, SHA-256)."""
    found = datasets(session, actor)
    sites = _sites(session, actor)
    at = utcnow().replace(microsecond=0)
    files = {f"{d.name}.csv": rows.to_csv(d, found[d.name]) for d in sdtm.DATASETS}
    files[METADATA] = rows.metadata_csv()
    counts = {f"{d.name}.csv": len(found[d.name]) for d in sdtm.DATASETS}
    labels = {f"{d.name}.csv": d.label for d in sdtm.DATASETS}
    scope = "all sites" if site_scope(actor) is None else sites[0].code
    manifest = {
        "export": "lotrack SDTM-shaped sponsor export",
        "spec_version": sdtm.SPEC_VERSION,
        "sdtm_model": "SDTMIG 3.3 (shaped: CSV, not SAS transport files)",
        "studyid": sdtm.STUDYID,
        "generated_at": at.isoformat(),
        "generated_by": {"username": actor.username, "name": actor.full_name, "role": actor.role},
        "scope": scope,
        "sites": [{"code": s.code, "name": s.name, "time_zone": s.time_zone} for s in sites],
        "encoding": "UTF-8 with byte-order mark (utf-8-sig), CRLF line ends, RFC 4180 quoting",
        "dates": "ISO 8601; date-times are the site's local time (its time zone is named above)",
        "files": [
            {
                "name": name,
                "label": labels.get(name, "Variable metadata (define-like)"),
                "records": counts.get(name),
                "bytes": len(data),
                "sha256": _sha(data),
            }
            for name, data in files.items()
        ],
    }
    files[MANIFEST] = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    content = buffer.getvalue()
    digest = _sha(content)
    audit.event(
        session,
        actor,
        ACTION,
        ("sdtm_export", digest),
        {
            "spec_version": sdtm.SPEC_VERSION,
            "scope": scope,
            "sha256": digest,
            "records": {d.name: counts[f"{d.name}.csv"] for d in sdtm.DATASETS},
        },
    )
    suffix = "" if scope == "all sites" else f"-{scope}"
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    filename = f"sdtm-{sdtm.STUDYID}{suffix}-v{sdtm.SPEC_VERSION}-{stamp}.zip"
    return Export(content, filename, digest, manifest)
