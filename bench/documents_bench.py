"""Documents bench: how long a certificate of analysis takes to render, as a ratio to the floor
(WeasyPrint rendering a bare one-page HTML table of the same rows, in the same run; beside it the
certificate's own HTML rendered bare: no PDF/A, no attached data), and what
printing a 50-unit lot's labels as one PDF saves over 50 one-label PDFs. Peak memory of one of each
is measured apart (tracemalloc slows the code it watches). Writes bench/results-documents.json.

    .venv/bin/python bench/documents_bench.py [--runs 5] [--label-runs 3] [--units 50]

It makes its own temporary SQLite demo database (migrate + seed_demo) and signing key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import weasyprint
from markupsafe import escape
from sqlalchemy.orm import Session

from lotrack import create_app
from lotrack.db import make_engine, make_sessionmaker
from lotrack.documents import codes, tokens
from lotrack.documents.bilingual import DEFAULT_LANGUAGES, Captions
from lotrack.documents.render import render_html
from lotrack.migrate import upgrade
from lotrack.models import Lot, User
from lotrack.request_scope import db_session, printing
from lotrack.services import coa, seed, unit_labels
from lotrack.services import lot as lots

HERE = Path(__file__).resolve().parent
DEMO_LOT = "CFM-2025-0001"


def timed(fn: Callable[[], Any], runs: int) -> dict[str, Any]:
    """One warm-up call (fonts, caches), then `runs` timed calls: wall time, and this process's CPU
    time beside it (on a loaded machine the wall time measures the other processes too)."""
    fn()
    seconds, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {
        "runs": runs,
        "median_s": round(statistics.median(seconds), 4),
        "min_s": round(min(seconds), 4),
        "max_s": round(max(seconds), 4),
        "cpu_median_s": round(statistics.median(cpu), 4),
    }


def peak_mib(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return round(tracemalloc.get_traced_memory()[1] / 2**20, 2)
    finally:
        tracemalloc.stop()


def bare_table(rows: list[dict[str, Any]]) -> str:
    """The floor: the certificate's rows as a plain table, no header, footer, QR or fonts."""
    cells = "".join(
        "<tr>"
        + "".join(f"<td>{escape(r[k])}</td>" for k in ("name", "method", "criterion", "result"))
        + f"<td>{escape(r['conclusion'])}</td></tr>"
        for r in rows
    )
    return f"<!doctype html><html><body><table>{cells}</table></body></html>"


def demo_database(tmp: Path) -> str:
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        seed.seed_demo(session, facility_id="A9999")
        session.commit()
    engine.dispose()
    return url


def big_lot(session: Session, tech: User, units: int) -> Lot:
    """A quarantined lot of `units` bags (labels print for any lot)."""
    harvested = dt.date(2025, 12, 1)
    lot = lots.register_lot(
        session,
        tech,
        run_code="RUN-2025-01",
        harvested_on=harvested,
        expires_on=harvested + seed.DEMO_SHELF_LIFE,
    )
    session.flush()
    lots.fill_units(
        session,
        tech,
        lot,
        container="bag",
        count=units,
        cells_per_unit=seed.BAG_CELLS,
        volume_ml=Decimal("18.00"),
        facility_id="A9999",
    )
    session.commit()
    return lot


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="lotrack-bench-"))
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp / "instance"),
            "LOTRACK_DATABASE_URL": demo_database(tmp),
            "LOTRACK_FACILITY_ID": "A9999",
        }
    )
    with app.app_context():
        session = db_session()
        qa = session.query(User).filter_by(username="qa").one()
        tech = session.query(User).filter_by(username="tech").one()
        settings = printing()
        lot = lots.get_lot(session, DEMO_LOT)
        token = tokens.make_token(settings.key, "C", f"COA-{DEMO_LOT}:1")
        snapshot = coa.coa_snapshot(session, qa, lot, settings) | {
            "document_number": f"COA-{DEMO_LOT}",
            "version": 1,
            "issued_at": "2025-12-01 09:00 UTC",
            "issued_by": qa.full_name,
            "verify_url": settings.verify_url(token),
        }
        qr = codes.qr_svg(settings.verify_url(token))
        coa_pdf = coa.render_coa(snapshot, qr)
        floor_html = bare_table(snapshot["tests"])
        captions = Captions(tuple(snapshot.get("languages") or DEFAULT_LANGUAGES))
        coa_html = render_html("documents/coa.html", coa=snapshot, qr=qr, t=captions)

        def render_coa() -> bytes:
            return coa.render_coa(snapshot, qr)

        def render_floor() -> bytes:
            return weasyprint.HTML(string=floor_html).write_pdf()

        def render_coa_html_bare() -> bytes:  # the template's cost, apart from PDF/A and data
            return weasyprint.HTML(string=coa_html).write_pdf()

        def issue() -> None:  # the whole service a QA reviewer waits for: snapshot, sign, render
            coa.issue_certificate(session, qa, lots.get_lot(session, DEMO_LOT), settings)
            session.rollback()

        big = big_lot(session, tech, args.units)
        units = list(lots.get_lot(session, big.lot_number).units)

        def one_pdf() -> bytes:
            sheet = unit_labels.print_labels(session, tech, units, settings)
            session.rollback()
            return sheet.pdf

        def one_each() -> None:
            for unit in units:
                unit_labels.print_labels(session, tech, [unit], settings, reason="bench")
            session.rollback()

        results: dict[str, Any] = {
            "coa_render": timed(render_coa, args.runs),
            "floor_table_render": timed(render_floor, args.runs),
            "coa_html_bare": timed(render_coa_html_bare, args.runs),
            "coa_issue_service": timed(issue, max(1, args.runs // 2)),
            "labels_one_pdf": timed(one_pdf, args.label_runs),
            "labels_one_pdf_each": timed(one_each, args.label_runs),
        }
        labels_pdf = one_pdf()
        peaks = {
            "coa_render": peak_mib(render_coa),
            "floor_table_render": peak_mib(render_floor),
            "labels_one_pdf": peak_mib(one_pdf),
            "labels_one_pdf_each": peak_mib(one_each),
        }
    median = {k: v["median_s"] for k, v in results.items()}
    cpu = {k: v["cpu_median_s"] for k, v in results.items()}
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "weasyprint": weasyprint.__version__,
        "machine": platform.machine(),
        "coa_tests": len(snapshot["tests"]),
        "coa_bytes": len(coa_pdf),
        "floor_bytes": len(render_floor()),
        "label_units": len(units),
        "labels_bytes": len(labels_pdf),
        "timings": results,
        "ratios": {
            "coa_render_to_floor": round(median["coa_render"] / median["floor_table_render"], 2),
            "coa_html_bare_to_floor": round(
                median["coa_html_bare"] / median["floor_table_render"], 2
            ),
            "coa_render_to_coa_html_bare": round(median["coa_render"] / median["coa_html_bare"], 2),
            "coa_issue_to_floor": round(
                median["coa_issue_service"] / median["floor_table_render"], 2
            ),
            "labels_one_each_to_one_pdf": round(
                median["labels_one_pdf_each"] / median["labels_one_pdf"], 2
            ),
            "label_ms_per_unit_in_one_pdf": round(1000 * median["labels_one_pdf"] / len(units), 1),
        },
        "cpu_ratios": {
            "coa_render_to_floor": round(cpu["coa_render"] / cpu["floor_table_render"], 2),
            "coa_html_bare_to_floor": round(cpu["coa_html_bare"] / cpu["floor_table_render"], 2),
            "labels_one_pdf_to_one_each": round(
                cpu["labels_one_pdf"] / cpu["labels_one_pdf_each"], 2
            ),
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "peak_mib": peaks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed CoA and floor renders")
    parser.add_argument("--label-runs", type=int, default=3, help="timed label rounds")
    parser.add_argument("--units", type=int, default=50, help="units in the label lot")
    parser.add_argument("--out", type=Path, default=HERE / "results-documents.json")
    args = parser.parse_args(argv)
    report = run(args)
    for name, t in report["timings"].items():
        print(
            f"{name:<24} median {t['median_s']:8.3f} s  (min {t['min_s']:.3f}, n={t['runs']})"
            f"  cpu {t['cpu_median_s']:.3f} s"
        )
    for name, value in report["ratios"].items():
        print(f"{name:<32} {value}")
    for name, value in report["cpu_ratios"].items():
        print(f"cpu {name:<28} {value}")
    print(f"load average {report['load_average']}")
    for name, value in report["peak_mib"].items():
        print(f"peak {name:<27} {value} MiB")
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
