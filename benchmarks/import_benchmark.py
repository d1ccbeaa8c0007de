"""Import benchmark: synthetic daily demand from CSV into SQLite and PostgreSQL.

    .venv/bin/python benchmarks/import_benchmark.py              # 10 million rows, both targets
    .venv/bin/python benchmarks/import_benchmark.py --rows 1000000 --targets sqlite

Writes `rows` demand rows (items x days, Poisson quantities, 1% returns) as one CSV file in a
temporary folder, then, for each target in its own subprocess (so peak memory is that
target's alone), into a fresh database (a new SQLite file; a new PostgreSQL schema, dropped
afterwards):

1. end to end: `bufferwise.services.imports.import_files`, the path `bufferwise import` takes:
   read, check and store slice by slice in one transaction, checking the next slice while the
   last one is stored: in a forked child process for a file this big on Linux with 3 or more
   CPUs, else in a thread (`--checker process / thread` forces either; see
   `bufferwise.ingest.forked`). "store s" is the time
   spent storing (including the final index build / merge and the commit), "waited s" the
   time the store waited for checked slices.
2. read + check alone: the same file through `bufferwise.ingest.pipeline.FileSlices`, no
   database: what reading and validating cost by themselves.

Prints rows/s end to end, for read + check alone, and for the store time alone; peak resident
memory (getrusage ru_maxrss of the end-to-end run: the import process plus the checking
process, summed); and CPU seconds (user + sys) of the import process, of the checking process,
and of the PostgreSQL server processes (from /proc, when the server runs on this machine),
which are steadier than wall time on a shared machine. The goal of issue 2:
>= 1,000,000 rows/s end to end and < 2 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

TARGET_ROWS_PER_S = 1_000_000
TARGET_PEAK_GIB = 2.0
DEFAULT_POSTGRES = os.environ.get(
    "BUFFERWISE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def write_demand_csv(path: Path, rows: int, items: int, seed: int = 7) -> None:
    """`rows` rows of item_id,date,quantity,returns: `items` items x consecutive days."""
    rng = np.random.default_rng(seed)
    days = -(-rows // items)
    ids = np.array([f"ITEM{i:07d}" for i in range(items)], dtype=object)
    start = np.datetime64("2020-01-01", "D")
    per_chunk = max(1, 1_000_000 // days)
    written = 0
    with pacsv.CSVWriter(
        str(path),
        pa.schema(
            [
                ("item_id", pa.string()),
                ("date", pa.date32()),
                ("quantity", pa.float64()),
                ("returns", pa.float64()),
            ]
        ),
    ) as writer:
        for first in range(0, items, per_chunk):
            chunk_items = ids[first : first + per_chunk]
            n = min(len(chunk_items) * days, rows - written)
            if n <= 0:
                break
            item_col = np.repeat(chunk_items, days)[:n]
            date_col = np.tile(start + np.arange(days), len(chunk_items))[:n]
            quantity = rng.poisson(rng.uniform(0.2, 20.0, len(chunk_items)).repeat(days)[:n])
            returns = np.where(rng.random(n) < 0.01, 1.0, 0.0)
            writer.write_table(
                pa.table(
                    {
                        "item_id": pa.array(item_col, pa.string()),
                        "date": pa.array(date_col, pa.date32()),
                        "quantity": pa.array(quantity.astype(np.float64)),
                        "returns": pa.array(returns),
                    }
                )
            )
            written += n


def _cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _postgres_cpu_seconds() -> float | None:
    """user + sys seconds of every PostgreSQL server process on this machine, including the
    ones that have exited (counted in the postmaster's children times); None when none is
    visible."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    found = False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found = True
        utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
        total += utime + stime
        if not _is_postgres(fields[1]):  # the postmaster: it reaps the exited backends
            total += cutime + cstime
    return total / ticks if found else None


def _is_postgres(pid: str) -> bool:
    try:
        return (Path("/proc") / pid / "comm").read_text().strip() == "postgres"
    except OSError:
        return False


def child(target: str, csv: Path, url: str, slice_rows: int, in_process: bool | None) -> None:
    """One target: end to end, then read + check alone; print a JSON line of figures."""
    from bufferwise.ingest.pipeline import FileSlices
    from bufferwise.services.imports import import_files
    from bufferwise.storage import open_repository

    server_before = _postgres_cpu_seconds() if target == "postgres" else None
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    summary = import_files(url, [csv], table="demand", slice_rows=slice_rows, in_process=in_process)
    total_s = time.perf_counter() - started
    cpu_s = _cpu_seconds() - cpu_before
    # the checking process (when there is one) has ended and been waited for by now
    child_cpu_s = _cpu_seconds(resource.RUSAGE_CHILDREN)
    child_peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if target == "postgres":
        time.sleep(1.0)  # let the server reap the import's backend (its CPU joins the total)
    server_after = _postgres_cpu_seconds() if target == "postgres" else None
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    repo = open_repository(url)
    count = repo.table_counts()["demand"]
    repo.close()

    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    reading = FileSlices(csv, table="demand", slice_rows=slice_rows)
    rows = sum(len(tables["demand"]) for tables in reading)
    checked = reading.batch()
    read_s = time.perf_counter() - started
    read_cpu_s = _cpu_seconds() - cpu_before
    errors = len(checked.errors)
    figures = {
        "target": target,
        "rows": rows,
        "errors": errors,
        "warnings": len(checked.warnings),
        "stored_rows": count,
        "inserted": summary.result.inserted,
        "total_s": total_s,
        "store_s": summary.timings["store"],
        "waited_s": summary.timings["wait"],
        "cpu_s": cpu_s,
        "child_cpu_s": child_cpu_s,
        "server_cpu_s": (
            server_after - server_before
            if server_after is not None and server_before is not None
            else None
        ),
        "read_s": read_s,
        "read_cpu_s": read_cpu_s,
        "peak_gib": peak_kib / 2**20,
        "child_peak_gib": child_peak_kib / 2**20,
    }
    print(json.dumps(figures))


def run_target(
    target: str, csv: Path, workdir: Path, postgres_url: str, slice_rows: int, checker: str
) -> dict[str, Any]:
    schema = None
    if target == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    else:
        import sqlalchemy as sa

        schema = f"bw_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = str(
            sa.make_url(postgres_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    try:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                target,
                "--csv",
                str(csv),
                "--url",
                url,
                "--slice-rows",
                str(slice_rows),
                "--checker",
                checker,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"{target} failed:\n{done.stderr[-3000:]}")
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        if schema is not None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.dispose()


def report(results: list[dict[str, Any]], csv_s: float, size_mib: float) -> None:
    rows = int(results[0]["rows"])
    print(
        f"\n{rows:,} demand rows, CSV of {size_mib:.0f} MiB written in {csv_s:.1f} s; "
        f"{results[0]['warnings']:,} warnings, {results[0]['errors']} errors per import"
    )
    header = (
        f"{'target':<10}{'total s':>9}{'rows/s e2e':>12}{'read+check s':>14}{'rows/s':>11}"
        f"{'store s':>9}{'rows/s':>11}{'waited s':>10}{'CPU s':>8}{'checker CPU s':>15}"
        f"{'server CPU s':>14}{'peak GiB':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        total, read_s, store_s = float(r["total_s"]), float(r["read_s"]), float(r["store_s"])
        server = "" if r["server_cpu_s"] is None else f"{float(r['server_cpu_s']):.1f}"
        print(
            f"{r['target']:<10}{total:>9.1f}{rows / total:>12,.0f}"
            f"{read_s:>14.1f}{rows / read_s:>11,.0f}{store_s:>9.1f}{rows / store_s:>11,.0f}"
            f"{float(r['waited_s']):>10.1f}{float(r['cpu_s']):>8.1f}"
            f"{float(r['child_cpu_s']):>15.1f}{server:>14}"
            f"{float(r['peak_gib']) + float(r['child_peak_gib']):>10.2f}"
        )
    goal = f"< {TARGET_PEAK_GIB:g}"
    print(f"{'goal':<10}{'':>9}{TARGET_ROWS_PER_S:>12,}{'':>92}{goal:>10}")
    print(
        "read+check: the same file checked alone (no database); CPU s: user + sys of the "
        "import process (all threads); checker CPU s: the forked checking process (0 when "
        "checked in a thread); server CPU s: the PostgreSQL server processes; peak GiB: "
        "import process + checking process (their shared pages counted twice)"
    )
    for r in results:
        print(
            f"{r['target']}: peak {float(r['peak_gib']):.2f} GiB import process + "
            f"{float(r['child_peak_gib']):.2f} GiB checking process"
        )
    for r in results:
        if r["stored_rows"] != r["rows"]:
            print(f"WARNING {r['target']}: {r['stored_rows']} rows stored of {r['rows']}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--items", type=int, default=10_000, help="items (rows / items days each)")
    parser.add_argument(
        "--targets", default="sqlite,postgres", help="comma-separated: sqlite,postgres"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument(
        "--slice-rows", type=int, default=500_000, help="rows read, checked and stored at a time"
    )
    parser.add_argument(
        "--checker",
        choices=["auto", "thread", "process"],
        default="auto",
        help="where the import checks slices: auto (the default of import_files: a thread), "
        "a thread, or a forked process (Linux)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        in_process = {"auto": None, "thread": False, "process": True}[args.checker]
        child(args.child, args.csv, args.url, args.slice_rows, in_process)
        return
    with tempfile.TemporaryDirectory(prefix="bw-import-bench-") as tmp:
        workdir = Path(tmp)
        csv = workdir / "demand.csv"
        started = time.perf_counter()
        write_demand_csv(csv, args.rows, args.items)
        csv_s = time.perf_counter() - started
        results = [
            run_target(
                target.strip(), csv, workdir, args.postgres_url, args.slice_rows, args.checker
            )
            for target in args.targets.split(",")
            if target.strip()
        ]
        report(results, csv_s, csv.stat().st_size / 2**20)


if __name__ == "__main__":
    main()
