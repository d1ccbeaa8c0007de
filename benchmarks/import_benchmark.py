"""Import benchmark: synthetic daily demand from CSV into SQLite and PostgreSQL.

    .venv/bin/python benchmarks/import_benchmark.py              # 10 million rows, both targets
    .venv/bin/python benchmarks/import_benchmark.py --rows 1000000 --targets sqlite

Writes `rows` demand rows (items x days, Poisson quantities) as one CSV file in a temporary
folder, then, for each target in its own subprocess (so peak memory is that target's alone):
reads and validates the file with `bufferwise.ingest.read_canonical` and stores the batch with
`Repository.import_batch` into a fresh database (a new SQLite file; a new PostgreSQL schema,
dropped afterwards). Prints the time of each step, rows/s end to end and for the store step
alone, and the peak resident memory (getrusage ru_maxrss), next to the target of issue 2:
>= 1,000,000 rows/s and < 2 GiB.
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


def read_demand(path: Path) -> tuple[object, str]:
    """The batch for `path` and how it was read."""
    try:
        from bufferwise.ingest import read_canonical
    except ImportError:
        return _read_with_pyarrow(path), "pyarrow (bufferwise.ingest not available)"
    batch = read_canonical(path, "demand")
    if batch.errors:
        raise SystemExit(f"{len(batch.errors)} rows rejected, e.g. {batch.errors[0].message()}")
    return batch, "bufferwise.ingest.read_canonical"


def _read_with_pyarrow(path: Path) -> object:
    import hashlib

    from bufferwise.model import FileReport, ImportBatch

    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={"date": pa.timestamp("ns"), "quantity": pa.float64()}
        ),
    )
    frame = table.to_pandas()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    report = FileReport(str(path), digest, "canonical", len(frame), len(frame))
    return ImportBatch(tables={"demand": frame}, files=[report])


def child(target: str, csv: Path, url: str) -> None:
    """One target: read + validate, then store; print a JSON line of figures."""
    from bufferwise.storage import open_repository

    started = time.perf_counter()
    batch, reader = read_demand(csv)
    read_s = time.perf_counter() - started
    read_peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = batch.row_count()  # type: ignore[attr-defined]
    repo = open_repository(url)
    stored_at = time.perf_counter()
    result = repo.import_batch(batch)  # type: ignore[arg-type]
    store_s = time.perf_counter() - stored_at
    count = repo.table_counts()["demand"]
    repo.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    figures = {
        "target": target,
        "reader": reader,
        "rows": rows,
        "stored_rows": count,
        "inserted": result.inserted,
        "read_s": read_s,
        "store_s": store_s,
        "peak_gib": peak_kib / 2**20,
        "read_peak_gib": read_peak_kib / 2**20,
    }
    print(json.dumps(figures))


def run_target(target: str, csv: Path, workdir: Path, postgres_url: str) -> dict[str, Any]:
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
            [sys.executable, __file__, "--child", target, "--csv", str(csv), "--url", url],
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
    print(f"\nCSV written in {csv_s:.1f} s ({size_mib:.0f} MiB); reader: {results[0]['reader']}")
    header = (
        f"{'target':<10}{'rows':>12}{'read+check s':>13}{'store s':>9}{'total s':>9}"
        f"{'rows/s total':>14}{'rows/s store':>14}{'peak GiB':>10}{'after read':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        rows, read_s, store_s = int(r["rows"]), float(r["read_s"]), float(r["store_s"])
        total = read_s + store_s
        print(
            f"{r['target']:<10}{rows:>12,}{read_s:>13.1f}{store_s:>9.1f}{total:>9.1f}"
            f"{rows / total:>14,.0f}{rows / store_s:>14,.0f}{float(r['peak_gib']):>10.2f}"
            f"{float(r['read_peak_gib']):>12.2f}"
        )
    goal = f"< {TARGET_PEAK_GIB:g}"
    print(f"{'goal':<10}{'':>43}{TARGET_ROWS_PER_S:>14,}{TARGET_ROWS_PER_S:>14,}{goal:>10}")
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
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.csv, args.url)
        return
    with tempfile.TemporaryDirectory(prefix="bw-import-bench-") as tmp:
        workdir = Path(tmp)
        csv = workdir / "demand.csv"
        started = time.perf_counter()
        write_demand_csv(csv, args.rows, args.items)
        csv_s = time.perf_counter() - started
        results = [
            run_target(target.strip(), csv, workdir, args.postgres_url)
            for target in args.targets.split(",")
            if target.strip()
        ]
        report(results, csv_s, csv.stat().st_size / 2**20)


if __name__ == "__main__":
    main()
