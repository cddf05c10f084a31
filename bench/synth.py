"""Synthetic data for the bench, written with bulk inserts on top of the demo.

Two scales: trial (≈100 patients, 40 lots, 400 units, 5 000 results) and programme (≈10 000 lots,
200 000 units, 50 000 patients, 1 000 000 results, 1 000 000 audit events). The schema comes from
the migrations; every row respects the constraints, and nothing is updated except the audit head
(forward only) and sequences. The audit events continue the demo's hash chain with the canonical
row and hash of services/audit.py, so `audit verify` passes.

    .venv/bin/python bench/synth.py --scale trial [--url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    create_engine,
    func,
    insert,
    make_url,
    select,
    text,
)

from lotrack.db import Base, make_engine, make_sessionmaker
from lotrack.domain import clinical as rules
from lotrack.domain import isbt128
from lotrack.domain.specs import Kind, Verdict, judge
from lotrack.migrate import upgrade
from lotrack.models import SpecVersion, User
from lotrack.services import audit, seed, specs

FACILITY = "A9999"
CHUNK = 10_000
T = Base.metadata.tables
BAG_CELLS = seed.BAG_CELLS
DOSE_PER_KG = 1_000_000


@dataclass(frozen=True)
class Scale:
    name: str
    donors: int
    wcb_per_mcb: int
    lots: int  # one production run per lot
    units_per_lot: int
    patients: int
    results: int
    audit_events: int
    sites: int
    import_rows: int  # CSV import bench: quarantined lots without results take these rows
    passages_per_run: int = 4

    @property
    def import_lots(self) -> int:
        return math.ceil(self.import_rows / 19)


SCALES = {
    "trial": Scale("trial", 2, 2, 40, 10, 100, 5_000, 20_000, 3, 190),
    "programme": Scale("programme", 20, 5, 10_000, 20, 50_000, 1_000_000, 1_000_000, 30, 100_000),
}


TIMES: dict[str, float] = {}


def bulk(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """SQLAlchemy Core executemany in chunks (insertmanyvalues batches on PostgreSQL)."""
    started = time.perf_counter()
    n, buf = 0, []
    stmt = insert(table)
    for row in rows:
        buf.append(row)
        if len(buf) >= CHUNK:
            conn.execute(stmt, buf)
            n += len(buf)
            buf = []
    if buf:
        conn.execute(stmt, buf)
        n += len(buf)
    TIMES[table.name] = round(TIMES.get(table.name, 0) + time.perf_counter() - started, 1)
    return n


def next_id(conn: Connection, table: str) -> int:
    return (conn.scalar(select(func.max(T[table].c.id))) or 0) + 1


def passing_values(version: SpecVersion) -> list[dict[str, Any]]:
    """One passing (or pending) entry per test of a spec, judged by domain/specs.py."""
    today = dt.date.today()
    out = []
    for test in specs.content_of(version).tests:
        analyte = test.alternatives[0] if test.alternatives else test.code
        if test.kind == Kind.QUALITATIVE:
            candidates = [test.accepted[0]]
        else:
            lo, hi = test.limits.lower.value, test.limits.upper.value
            if lo is not None and hi is not None:
                mid = (Decimal(lo) + Decimal(hi)) / 2
            elif lo is not None:
                mid = (
                    Decimal(lo) + 1 + (100 - Decimal(lo)) / 2
                    if test.unit == "%"
                    else Decimal(lo) * 2
                )
            else:
                mid = Decimal(hi) / 4 if hi is not None else Decimal(1)
            candidates = [f"{mid:.{test.decimals}f}"]
        value = candidates[0]
        judged = judge(
            test,
            value=value,
            unit=test.unit,
            analyte=analyte,
            performed_on=today - dt.timedelta(days=60),
            recorded_on=today,
        )
        assert judged.verdict in (Verdict.PASS, Verdict.ALERT, Verdict.PENDING), (test.code, value)
        out.append(
            {
                "test_code": test.code,
                "analyte": analyte,
                "value": value,
                "unit": test.unit,
                "method": test.method,
                "verdict": judged.verdict.value,
                "rounded": judged.rounded,
            }
        )
    return out


def _chain(conn: Connection, scale: Scale, entities: list[tuple[str, str, int]]) -> int:
    """Append `scale.audit_events` events to the chain, hashed as services/audit.py hashes."""
    head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    seq, prev = head.seq, head.hash
    actor = conn.execute(
        select(T["user_account"].c.id).where(T["user_account"].c.username == "tech")
    ).scalar_one()
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal seq, prev
        for i in range(scale.audit_events):
            etype, field, ident = entities[i % len(entities)]
            seq += 1
            ev = SimpleNamespace(
                seq=seq,
                at=start + dt.timedelta(milliseconds=i),
                actor_id=actor,
                actor="tech",
                action="create",
                entity_type=etype,
                entity_id=str(ident + i // len(entities)),
                changes=audit.canonical(
                    {field: [None, ident + i // len(entities)], "bench": [None, True]}
                ),
                reason="",
                prev_hash=prev,
            )
            prev = audit.row_hash(prev, audit._row(ev))
            yield {**vars(ev), "hash": prev}

    n = bulk(conn, T["audit_event"], rows())
    conn.execute(
        text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"), {"s": seq, "h": prev}
    )
    return n


def build(engine: Engine, scale: Scale) -> dict[str, Any]:
    """Migrate, seed the demo through the services, then bulk-insert the scale on top."""
    started = time.perf_counter()
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        seed.seed_demo(session, facility_id=FACILITY)
        session.commit()
        users = {u.username: u for u in session.scalars(select(User))}
        versions = {
            v.stage: v
            for v in session.scalars(
                select(SpecVersion).where(SpecVersion.approved_at.is_not(None))
            )
        }
        release_rows = passing_values(versions["release"])
        nurse_hash = users["nurse"].password_hash
    tech, tech2, qa = users["tech"].id, users["tech2"].id, users["qa"].id
    today = dt.date.today()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        ids = {
            name: next_id(conn, name)
            for name in (
                "site",
                "user_account",
                "donor",
                "clone",
                "cell_bank",
                "vial",
                "vial_withdrawal",
                "production_run",
                "passage",
                "lot",
                "unit",
                "result",
                "patient",
                "prescription",
                "allocation",
                "shipment",
                "thaw",
                "bedside_scan",
                "infusion",
                "adverse_event",
                "follow_up",
            )
        }
        # ---- sites and two clinical users per site (same password as the demo nurse)
        site_rows = conn.execute(select(T["site"].c.id, T["site"].c.code)).all()
        sites = [(r.id, r.code) for r in site_rows]
        extra = [
            {
                "id": ids["site"] + i,
                "code": f"BX-{i:03d}",
                "name": f"Bench site {i}",
                "city": "",
                "time_zone": "Asia/Shanghai",
            }
            for i in range(max(0, scale.sites - len(sites)))
        ]
        counts["site"] = bulk(conn, T["site"], extra)
        sites += [(r["id"], r["code"]) for r in extra]
        nurses: dict[int, tuple[int, int]] = {}
        user_rows = []
        uid = ids["user_account"]
        for site_id, code in sites:
            pair = []
            for k in (1, 2):
                user_rows.append(
                    {
                        "id": uid,
                        "username": f"n-{code.lower()}-{k}",
                        "full_name": f"Nurse {k} {code}",
                        "role": "clinical",
                        "site_id": site_id,
                        "password_hash": nurse_hash,
                    }
                )
                pair.append(uid)
                uid += 1
            nurses[site_id] = (pair[0], pair[1])
        counts["user_account"] = bulk(conn, T["user_account"], user_rows)
        # ---- donors, clones, MCBs, WCBs (with vials)
        d0, c0, b0 = ids["donor"], ids["clone"], ids["cell_bank"]
        counts["donor"] = bulk(
            conn,
            T["donor"],
            (
                {
                    "id": d0 + i,
                    "code": f"FD-S{i:04d}",
                    "consent_date": dt.date(2020, 1, 1) + dt.timedelta(days=i),
                    "determination": "eligible",
                    "determined_by": "Bench Medical Director",
                    "determined_at": now,
                }
                for i in range(scale.donors)
            ),
        )
        counts["donor_screening"] = bulk(
            conn,
            T["donor_screening"],
            (
                {
                    "donor_id": d0 + i,
                    "marker": m,
                    "method": "NAT and serology",
                    "result": "non-reactive",
                    "tested_on": dt.date(2020, 1, 3),
                }
                for i in range(scale.donors)
                for m in seed.MARKERS
            ),
        )
        counts["clone"] = bulk(
            conn,
            T["clone"],
            (
                {
                    "id": c0 + i,
                    "code": f"CL-S{i:04d}",
                    "donor_id": d0 + i,
                    "derived_on": dt.date(2020, 3, 1),
                }
                for i in range(scale.donors)
            ),
        )
        mcbs = [b0 + i for i in range(scale.donors)]
        wcbs = [b0 + scale.donors + i for i in range(scale.donors * scale.wcb_per_mcb)]
        banks = [
            {
                "id": mcbs[i],
                "code": f"MCB-S{i:04d}",
                "tier": "MCB",
                "clone_id": c0 + i,
                "parent_bank_id": None,
                "passage_at_banking": 3,
                "pdl_at_banking": Decimal("12.50"),
                "banked_on": dt.date(2020, 5, 1),
                "qualification": "qualified",
                "spec_version_id": versions["MCB"].id,
            }
            for i in range(scale.donors)
        ] + [
            {
                "id": w,
                "code": f"WCB-S{j:04d}",
                "tier": "WCB",
                "clone_id": None,
                "parent_bank_id": mcbs[j // scale.wcb_per_mcb],
                "passage_at_banking": 5,
                "pdl_at_banking": Decimal("18.20"),
                "banked_on": dt.date(2020, 7, 1),
                "qualification": "qualified",
                "spec_version_id": versions["WCB"].id,
            }
            for j, w in enumerate(wcbs)
        ]
        counts["cell_bank"] = bulk(conn, T["cell_bank"], banks)
        # one WCB vial per run, withdrawn for it
        v0, r0, l0 = ids["vial"], ids["production_run"], ids["lot"]
        run_bank = [wcbs[i % len(wcbs)] for i in range(scale.lots)]
        counts["vial"] = bulk(
            conn,
            T["vial"],
            (
                {
                    "id": v0 + i,
                    "bank_id": run_bank[i],
                    "number": i // len(wcbs) + 1,
                    "freezer": "LN2-S",
                    "rack": f"R{i // 10000}",
                    "box": f"B{i // 100 % 100}",
                    "position": f"P{i % 100}",
                    "state": "withdrawn",
                }
                for i in range(scale.lots)
            ),
        )
        started_on = [
            dt.date(2021, 1, 1) + dt.timedelta(days=(i * 1500) // scale.lots)
            for i in range(scale.lots)
        ]
        counts["production_run"] = bulk(
            conn,
            T["production_run"],
            (
                {
                    "id": r0 + i,
                    "code": f"RUN-S{i:06d}",
                    "product": "cfMSC",
                    "bank_id": run_bank[i],
                    "started_on": started_on[i],
                    "spec_version_id": versions["in-process"].id,
                }
                for i in range(scale.lots)
            ),
        )
        counts["vial_withdrawal"] = bulk(
            conn,
            T["vial_withdrawal"],
            (
                {
                    "vial_id": v0 + i,
                    "withdrawn_by_id": tech,
                    "purpose": "production run",
                    "run_id": r0 + i,
                    "withdrawn_at": now,
                }
                for i in range(scale.lots)
            ),
        )
        p0 = ids["passage"]
        counts["passage"] = bulk(
            conn,
            T["passage"],
            (
                {
                    "id": p0 + i * scale.passages_per_run + k,
                    "run_id": r0 + i,
                    "number": k + 1,
                    "seeded_on": started_on[i] + dt.timedelta(days=7 * k),
                    "harvested_on": started_on[i] + dt.timedelta(days=7 * k + 6),
                    "cells_seeded": 2_000_000,
                    "cells_harvested": 14_000_000,
                    "viability_percent": Decimal("94.5"),
                }
                for i in range(scale.lots)
                for k in range(scale.passages_per_run)
            ),
        )
        # ---- lots: the first `import_lots` stay in quarantine without results (CSV import bench)
        n_import = scale.import_lots
        harvested = [s + dt.timedelta(days=7 * scale.passages_per_run) for s in started_on]
        lot_number = [f"CFM-S{i:06d}" for i in range(scale.lots)]
        counts["lot"] = bulk(
            conn,
            T["lot"],
            (
                {
                    "id": l0 + i,
                    "lot_number": lot_number[i],
                    "run_id": r0 + i,
                    "state": "QUARANTINE" if i < n_import else "RELEASED",
                    "harvested_on": harvested[i],
                    "expires_on": harvested[i] + seed.DEMO_SHELF_LIFE + dt.timedelta(days=3650),
                    "spec_version_id": versions["release"].id,
                }
                for i in range(scale.lots)
            ),
        )
        # ---- units: DINs of nominal years 2021.. from sequence 500001 (the demo's are low)
        u0 = ids["unit"]
        per_year: dict[int, int] = {}
        unit_rows = []
        for i in range(scale.lots):
            year = harvested[i].year
            for _k in range(scale.units_per_lot):
                per_year[year] = per_year.get(year, 500_000) + 1
                din = isbt128.make_din(FACILITY, year, per_year[year])
                unit_rows.append(
                    {
                        "id": u0 + len(unit_rows),
                        "din": din,
                        "check_character": isbt128.check_character(din),
                        "lot_id": l0 + i,
                        "container": "bag",
                        "cells": BAG_CELLS,
                        "volume_ml": seed.BAG_ML,
                        "freezer": "LN2-S",
                        "rack": "C",
                        "box": str(i % 100),
                        "state": "stored",
                    }
                )
        counts["unit"] = bulk(conn, T["unit"], unit_rows)
        released_units = [u for u in unit_rows if u["lot_id"] >= l0 + n_import]
        # ---- results: 19 current release results per released lot, older invalidated readings
        # before them (each replaced by the next), and in-process results of passages
        released = list(range(n_import, scale.lots))
        res_id = ids["result"]
        in_process = passing_values(versions["in-process"])
        budget = scale.results - len(released) * len(release_rows)
        n_passage = min(max(budget, 0) // 2, scale.lots * scale.passages_per_run * len(in_process))
        history = max(0, budget - n_passage) // max(1, len(released))

        def results() -> Iterator[dict[str, Any]]:
            nonlocal res_id
            for n in range(n_passage):
                spec_row = in_process[n % len(in_process)]
                yield _result(
                    res_id,
                    spec_row,
                    versions["in-process"].id,
                    tech,
                    now,
                    passage_id=p0 + n // len(in_process),
                    performed_on=today - dt.timedelta(days=90),
                )
                res_id += 1
            for i in released:
                performed = harvested[i] + dt.timedelta(days=3)
                for k, spec_row in enumerate(release_rows):
                    chain = history // len(release_rows) + (
                        1 if k < history % len(release_rows) else 0
                    )
                    prev = None
                    for depth in range(chain + 1):
                        last = depth == chain
                        yield _result(
                            res_id,
                            spec_row,
                            versions["release"].id,
                            tech,
                            now,
                            lot_id=l0 + i,
                            performed_on=performed,
                            replaces_id=prev,
                            verified_by_id=tech2,
                            invalidated=None if last else qa,
                        )
                        prev, res_id = res_id, res_id + 1

        counts["result"] = bulk(conn, T["result"], results())
        # ---- patients at sites, each prescribed one unit, allocated, shipped and received;
        # four in five infused after a GO scan (the others wait at the bedside: GO now)
        eligible = json.dumps(
            {**{k: True for k, _t in rules.INCLUSION}, **{k: False for k, _t in rules.EXCLUSION}}
        )
        pt0, rx0, al0, sh0 = ids["patient"], ids["prescription"], ids["allocation"], ids["shipment"]
        n_patients = min(scale.patients, len(released_units))
        step = len(released_units) / n_patients
        patients, rxs, allocs, ship_units, ships = [], [], [], [], []
        thaws, scans, infusions, aes, follow = [], [], [], [], []
        by_site: dict[int, list[tuple[int, int]]] = {}
        for n in range(n_patients):
            site_id, code = sites[n % len(sites)]
            pid, unit = pt0 + n, released_units[int(n * step)]
            weight = Decimal(62 + n % 16)
            patients.append(
                {
                    "id": pid,
                    "site_id": site_id,
                    "subject_code": f"B{n:06d}",
                    "wristband": f"{code}/B{n:06d}",
                    "weight_kg": weight,
                    "indication": rules.INDICATIONS[n % 2],
                    "cohort": "1e6/kg",
                    "consent_date": today - dt.timedelta(days=30),
                    "eligibility": eligible,
                    "eligibility_by_id": nurses[site_id][0],
                    "eligibility_at": now,
                }
            )
            rxs.append(
                {
                    "id": rx0 + n,
                    "patient_id": pid,
                    "dose_per_kg": DOSE_PER_KG,
                    "weight_kg": weight,
                    "cells_needed": int(DOSE_PER_KG * weight),
                    "tolerance": Decimal("0.10"),
                    "planned_on": today,
                    "status": "open",
                    "prescribed_by_id": nurses[site_id][0],
                }
            )
            allocs.append(
                {
                    "id": al0 + n,
                    "prescription_id": rx0 + n,
                    "unit_id": unit["id"],
                    "allocated_by_id": tech,
                }
            )
            by_site.setdefault(site_id, []).append((n, unit["id"]))
        for site_id, members in by_site.items():
            for j in range(0, len(members), 10):
                sid = sh0 + len(ships)
                ships.append(
                    {
                        "id": sid,
                        "number": f"SHB-{len(ships):07d}",
                        "site_id": site_id,
                        "status": "received",
                        "shipped_by_id": tech,
                        "shipped_at": now - dt.timedelta(days=20),
                        "received_by_id": nurses[site_id][0],
                        "received_at": now - dt.timedelta(days=19),
                        "condition": "intact",
                        "temperature_record": "logger: below -150 °C",
                    }
                )
                ship_units += [
                    {"shipment_id": sid, "unit_id": u, "received": True}
                    for _n, u in members[j : j + 10]
                ]
        for n in range(n_patients):
            if (n // len(sites)) % 5 == 4:
                continue  # waits at the bedside (every site has some)
            pid, site_id, uid_ = pt0 + n, patients[n]["site_id"], allocs[n]["unit_id"]
            op, witness = nurses[site_id]
            thawed = now - dt.timedelta(days=10, minutes=40)
            scan_id = ids["bedside_scan"] + len(scans)
            din = next(u["din"] for u in (released_units[int(n * step)],))
            thaws.append(
                {
                    "id": ids["thaw"] + len(thaws),
                    "unit_id": uid_,
                    "thawed_at": thawed,
                    "recorded_by_id": op,
                }
            )
            scans.append(
                {
                    "id": scan_id,
                    "site_id": site_id,
                    "patient_text": patients[n]["wristband"],
                    "scan_text": din + isbt128.check_character(din),
                    "method": "typed",
                    "patient_id": pid,
                    "unit_id": uid_,
                    "go": True,
                    "exceptional_acknowledged": False,
                    "reasons": "[]",
                    "scanned_by_id": op,
                    "scanned_at": thawed + dt.timedelta(minutes=5),
                }
            )
            inf_id = ids["infusion"] + len(infusions)
            infusions.append(
                {
                    "id": inf_id,
                    "unit_id": uid_,
                    "patient_id": pid,
                    "prescription_id": rx0 + n,
                    "scan_id": scan_id,
                    "thawed_at": thawed,
                    "started_at": thawed + dt.timedelta(minutes=10),
                    "stopped_at": thawed + dt.timedelta(minutes=30),
                    "volume_ml": Decimal("18.00"),
                    "operator_id": op,
                    "witness_id": witness,
                }
            )
            follow.append(
                {
                    "patient_id": pid,
                    "visit_on": today,
                    "response": ("improved", "stable")[n % 2],
                    "recorded_by_id": op,
                }
            )
            if n % 10 == 0:
                aes.append(
                    {
                        "patient_id": pid,
                        "infusion_id": inf_id,
                        "term": "Fever",
                        "meddra": "10016558",
                        "grade": 1,
                        "onset_on": today - dt.timedelta(days=9),
                        "attribution": "possible",
                        "serious": False,
                        "outcome": "recovered",
                        "reported_by_id": op,
                    }
                )
        for name, rows in (
            ("patient", patients),
            ("prescription", rxs),
            ("allocation", allocs),
            ("shipment", ships),
            ("shipment_unit", ship_units),
            ("thaw", thaws),
            ("bedside_scan", scans),
            ("infusion", infusions),
            ("adverse_event", aes),
            ("follow_up", follow),
        ):
            counts[name] = bulk(conn, T[name], rows)
        # ---- the audit trail: events naming the records just written
        entities = [
            ("result", "lot_id", ids["result"]),
            ("unit", "lot_id", u0),
            ("patient", "site_id", pt0),
            ("bedside_scan", "unit_id", ids["bedside_scan"]),
        ]
        counts["audit_event"] = _chain(conn, scale, entities)
        if conn.dialect.name == "postgresql":  # explicit ids were given: move the sequences on
            for table in Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.primary_key and table.name != "audit_head":
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
                        )
                    )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return {
        "scale": scale.name,
        "seconds": round(time.perf_counter() - started, 1),
        "rows": counts,
        "seconds_per_table": dict(TIMES),
        "mcb": "MCB-S0000",
        "import_lots": lot_number[:n_import],
    }


def _result(
    rid: int,
    spec_row: dict[str, Any],
    version: int,
    analyst: int,
    now: dt.datetime,
    *,
    performed_on: dt.date,
    lot_id: int | None = None,
    passage_id: int | None = None,
    replaces_id: int | None = None,
    verified_by_id: int | None = None,
    invalidated: int | None = None,
) -> dict[str, Any]:
    return {
        "id": rid,
        "lot_id": lot_id,
        "bank_id": None,
        "passage_id": passage_id,
        "spec_version_id": version,
        **spec_row,
        "instrument": "",
        "reagent_lot": "",
        "performed_on": performed_on,
        "analyst_id": analyst,
        "recorded_at": now,
        "due_on": None,
        "note": "",
        "replaces_id": replaces_id,
        "verified_by_id": verified_by_id,
        "verified_at": now if verified_by_id else None,
        "invalidated_by_id": invalidated,
        "invalidated_at": now if invalidated else None,
        "invalidation_reason": "transcription error, re-read from the instrument"
        if invalidated
        else None,
    }


def ensure_shared_keys(url: str | None) -> None:
    """With PostgreSQL the app needs its keys and session secret configured (lotrack/keys.py):
    made once per run in a temporary folder, shared by every app and gunicorn the run starts."""
    postgres = bool(url) and not str(url).startswith("sqlite")
    if postgres and not os.environ.get("LOTRACK_LABEL_KEY_FILE"):
        from lotrack.keys import create_key_files

        folder = Path(tempfile.mkdtemp(prefix="lotrack-bench-keys-")) / "keys"
        os.environ.update({name: str(path) for name, path in create_key_files(folder).items()})


def fresh_database(scale: str, base_url: str | None = None) -> str:
    """An empty database for one scale: a new PostgreSQL database beside `base_url`'s (the given
    one is left alone), or a SQLite file in the temporary directory."""
    if base_url and base_url.startswith("postgresql"):
        url = make_url(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
        name = f"{url.database}_bench_{scale}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return url.set(database=name).render_as_string(hide_password=False)
    path = Path(tempfile.gettempdir()) / f"lotrack-bench-{scale}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="trial")
    parser.add_argument(
        "--url", help="an EMPTY database (default: a fresh one, see fresh_database)"
    )
    args = parser.parse_args(argv)
    url = args.url or fresh_database(args.scale, os.environ.get("LOTRACK_DATABASE_URL"))
    engine = make_engine(url)
    report = build(engine, SCALES[args.scale])
    engine.dispose()
    print(json.dumps({k: v for k, v in report.items() if k != "import_lots"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
