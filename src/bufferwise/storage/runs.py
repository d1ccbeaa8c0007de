"""Runs and their outputs: each stage's result tables stored per run as Parquet blobs.

A run is 'running' from `start_run` until `finish_run`; every call here commits on its own, so a
run killed mid-way leaves a 'running' row and whatever outputs it had saved, and nothing else.
Readers (`load_output` without `include_unfinished`) only see 'succeeded' runs.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from importlib import metadata
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from bufferwise.errors import StorageError
from bufferwise.storage import tables as t
from bufferwise.storage.imports import utcnow

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"  # interrupted (Ctrl-C) while running
FINISHED_STATES = (SUCCEEDED, FAILED, CANCELLED)


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: int
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    settings: dict[str, Any]
    seed: int | None
    code_version: str
    inputs: dict[str, Any]
    timings: dict[str, Any] | None
    message: str | None
    outputs: tuple[str, ...]


def code_version() -> str:
    try:
        return metadata.version("bufferwise")
    except metadata.PackageNotFoundError:
        return "unknown"


def _encode(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON")


def _json_ready(value: Any, what: str) -> Any:
    """`value` as plain JSON (numbers, text, lists, dicts); dates and paths become text."""
    try:
        return json.loads(json.dumps(value, default=_encode, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise StorageError(f"{what} cannot be stored as JSON: {exc}") from None


def start_run(
    conn: sa.Connection,
    kind: str,
    settings: dict[str, Any],
    seed: int | None,
    inputs: dict[str, Any],
    version: str | None = None,
) -> int:
    values = {
        "kind": kind,
        "status": RUNNING,
        "started_at": utcnow(),
        "settings": _json_ready(settings, "run settings"),
        "seed": seed,
        "code_version": version or code_version(),
        "inputs": _json_ready(inputs, "run inputs"),
    }
    return int(
        conn.execute(t.runs.insert().values(**values).returning(t.runs.c.run_id)).scalar_one()
    )


def _status(conn: sa.Connection, run_id: int) -> str:
    status = conn.execute(sa.select(t.runs.c.status).where(t.runs.c.run_id == run_id)).scalar()
    if status is None:
        raise StorageError(f"there is no run {run_id}")
    return str(status)


def save_output(conn: sa.Connection, run_id: int, name: str, df: pd.DataFrame) -> None:
    status = _status(conn, run_id)
    if status != RUNNING:
        raise StorageError(f"run {run_id} is {status}; outputs can only be added while it runs")
    buffer = io.BytesIO()
    try:
        df.to_parquet(buffer, engine="pyarrow", compression="zstd")
    except (ValueError, TypeError, ImportError) as exc:
        raise StorageError(f"output {name!r} of run {run_id} cannot be stored: {exc}") from None
    table = t.run_outputs
    conn.execute(table.delete().where(table.c.run_id == run_id, table.c.name == name))
    conn.execute(
        table.insert().values(
            run_id=run_id,
            name=name,
            row_count=len(df),
            created_at=utcnow(),
            data=buffer.getvalue(),
        )
    )


def finish_run(
    conn: sa.Connection,
    run_id: int,
    status: str,
    timings: dict[str, Any] | None,
    message: str | None,
) -> None:
    if status not in FINISHED_STATES:
        raise ValueError(f"status must be one of {', '.join(FINISHED_STATES)}, not {status!r}")
    current = _status(conn, run_id)
    if current != RUNNING:
        raise StorageError(f"run {run_id} is already {current}")
    conn.execute(
        t.runs.update()
        .where(t.runs.c.run_id == run_id)
        .values(
            status=status,
            finished_at=utcnow(),
            timings=_json_ready(timings, "run timings") if timings is not None else None,
            message=message,
        )
    )


def load_output(
    conn: sa.Connection, name: str, run_id: int | None, include_unfinished: bool
) -> pd.DataFrame:
    outputs, runs = t.run_outputs, t.runs
    stmt = sa.select(outputs.c.data, runs.c.run_id).join(runs, runs.c.run_id == outputs.c.run_id)
    stmt = stmt.where(outputs.c.name == name)
    if not include_unfinished:
        stmt = stmt.where(runs.c.status == SUCCEEDED)
    if run_id is not None:
        stmt = stmt.where(runs.c.run_id == run_id)
    row = conn.execute(stmt.order_by(runs.c.run_id.desc()).limit(1)).first()
    if row is None:
        where = f"run {run_id}" if run_id is not None else "any succeeded run"
        raise StorageError(f"no output {name!r} in {where}; run the stage that produces it first")
    return pd.read_parquet(io.BytesIO(row.data), engine="pyarrow")


def list_runs(conn: sa.Connection) -> list[RunRecord]:
    names: dict[int, list[str]] = {}
    for run_id, name in conn.execute(
        sa.select(t.run_outputs.c.run_id, t.run_outputs.c.name).order_by(t.run_outputs.c.name)
    ):
        names.setdefault(run_id, []).append(name)
    records = []
    for row in conn.execute(sa.select(t.runs).order_by(t.runs.c.run_id)):
        m = row._mapping
        records.append(
            RunRecord(
                run_id=m["run_id"],
                kind=m["kind"],
                status=m["status"],
                started_at=m["started_at"],
                finished_at=m["finished_at"],
                settings=m["settings"],
                seed=m["seed"],
                code_version=m["code_version"],
                inputs=m["inputs"],
                timings=m["timings"],
                message=m["message"],
                outputs=tuple(names.get(m["run_id"], [])),
            )
        )
    return records
