"""PostgreSQL server side of a big import: binary COPY, then the primary key, per collation.

    .venv/bin/python benchmarks/postgres_key_benchmark.py              # 10 million rows, 2 rounds
    .venv/bin/python benchmarks/postgres_key_benchmark.py --rows 2000000 --rounds 3

What `bufferwise import` asks of the server for a big file into an empty demand table
(`storage.bulk.TableLoader`), without the client's reading and checking: the rows, encoded
once beforehand by `storage.pgcopy`, go in by one binary `COPY` into the table without its key,
then `ALTER TABLE ... ADD PRIMARY KEY (item_id, date)` builds the key, all in one transaction,
into a fresh schema each time. Two variants side by side, alternating, each `--rounds` times:

    default  item_id in the database's default collation (what 0001_initial made)
    C        item_id COLLATE "C" (what 0002_bytewise_text makes: memcmp, abbreviated keys)

Prints the wall time of the COPY and of the key build, the WAL each wrote (from
pg_current_wal_lsn) and the CPU seconds of the server processes (from /proc, when the server
runs on this machine). A CHECKPOINT before each round starts them alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_benchmark import DEFAULT_POSTGRES, _postgres_cpu_seconds

from bufferwise.storage.pgcopy import HEADER, TRAILER, binary_rows

VARIANTS = {"default": "", "C": ' COLLATE "C"'}


def encoded_rows(rows: int, items: int, seed: int = 7) -> list[bytes]:
    """`rows` demand rows (items x consecutive days, sorted by key as exports usually are),
    as binary COPY tuples in blocks of 200,000 rows."""
    rng = np.random.default_rng(seed)
    days = -(-rows // items)
    ids = np.array([f"ITEM{i:07d}" for i in range(items)])
    table = pa.table(
        {
            "item_id": pa.array(np.repeat(ids, days)[:rows]),
            "date": pa.array(
                np.tile(np.datetime64("2020-01-01", "D") + np.arange(days), items)[:rows]
            ),
            "quantity": pa.array(rng.poisson(5.0, rows).astype(np.float64)),
            "returns": pa.array(np.where(rng.random(rows) < 0.01, 1.0, 0.0)),
        }
    )
    return [binary_rows(table.slice(s, 200_000)) for s in range(0, rows, 200_000)]


def _lsn(conn: psycopg.Connection) -> int:
    text = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]  # type: ignore[index]
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def one_round(url: str, collation: str, blocks: list[bytes]) -> dict[str, float]:
    schema = f"bw_keybench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            conn.execute(f'SET search_path = "{schema}"')
            conn.execute(
                f"CREATE TABLE demand (item_id text{collation} NOT NULL, date date NOT NULL, "
                "quantity float8 NOT NULL, returns float8)"
            )
            conn.execute("CHECKPOINT")
            with conn.transaction():
                conn.execute("SET LOCAL maintenance_work_mem = '256MB'")  # as TableLoader
                cpu0, wal0, t0 = _postgres_cpu_seconds(), _lsn(conn), time.perf_counter()
                with conn.cursor().copy("COPY demand FROM STDIN (FORMAT binary)") as copy:
                    copy.write(HEADER)
                    for block in blocks:
                        copy.write(block)
                    copy.write(TRAILER)
                cpu1, wal1, t1 = _postgres_cpu_seconds(), _lsn(conn), time.perf_counter()
                conn.execute("ALTER TABLE demand ADD PRIMARY KEY (item_id, date)")
                cpu2, wal2, t2 = _postgres_cpu_seconds(), _lsn(conn), time.perf_counter()
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    cpu = cpu0 is not None and cpu1 is not None and cpu2 is not None
    return {
        "copy_s": t1 - t0,
        "copy_wal_mib": (wal1 - wal0) / 2**20,
        "copy_cpu_s": (cpu1 - cpu0) if cpu else float("nan"),  # type: ignore[operator]
        "key_s": t2 - t1,
        "key_wal_mib": (wal2 - wal1) / 2**20,
        "key_cpu_s": (cpu2 - cpu1) if cpu else float("nan"),  # type: ignore[operator]
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES.replace("postgresql+psycopg://", "postgresql://", 1),
    )
    args = parser.parse_args()
    url = args.postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    started = time.perf_counter()
    blocks = encoded_rows(args.rows, args.items)
    size = sum(len(b) for b in blocks) / 2**20
    print(
        f"{args.rows:,} rows, {size:.0f} MiB of binary COPY data "
        f"(encoded in {time.perf_counter() - started:.1f} s); {os.cpu_count()} CPUs"
    )
    header = (
        f"{'collation':10s} {'round':>5s} {'COPY s':>7s} {'WAL MiB':>8s} {'CPU s':>6s}   "
        f"{'key s':>6s} {'WAL MiB':>8s} {'CPU s':>6s}   {'total s':>7s}"
    )
    print(header)
    print("-" * len(header))
    totals: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for round_number in range(1, args.rounds + 1):
        for name, collation in VARIANTS.items():
            r = one_round(url, collation, blocks)
            total = r["copy_s"] + r["key_s"]
            totals[name].append(r["key_s"])
            print(
                f"{name:10s} {round_number:5d} {r['copy_s']:7.2f} {r['copy_wal_mib']:8.0f} "
                f"{r['copy_cpu_s']:6.2f}   {r['key_s']:6.2f} {r['key_wal_mib']:8.0f} "
                f"{r['key_cpu_s']:6.2f}   {total:7.2f}",
                flush=True,
            )
    best = {name: min(values) for name, values in totals.items()}
    print(
        f"key build, best of {args.rounds}: default {best['default']:.2f} s, "
        f'"C" {best["C"]:.2f} s ({best["C"] / best["default"]:.0%} of the default)'
    )


if __name__ == "__main__":
    main()
