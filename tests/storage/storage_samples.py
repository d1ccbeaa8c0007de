"""Small canonical tables for storage tests, generated from the schema (every column covered)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bufferwise.model import TABLES, FileReport, ImportBatch
from bufferwise.model.schema import Column, Table


def _values(spec: Table, column: Column, rows: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    if column.name in spec.key and column.kind == "str":
        return pd.Series([f"{column.name[:3].upper()}{i:03d}" for i in range(rows)], dtype=object)
    if column.kind == "str":
        if column.allowed:
            return pd.Series(
                [column.allowed[i % len(column.allowed)] for i in range(rows)], dtype=object
            )
        values: list[object] = [f"{column.name}-{i % 3}" for i in range(rows)]
        if not column.required:
            values[-1] = None
        return pd.Series(values, dtype=object)
    if column.kind == "float":
        floats = rng.uniform(0.0, 100.0, rows).round(6)
        if not column.required:
            floats[-1] = np.nan
        return pd.Series(floats, dtype="float64")
    if column.kind == "int":
        return pd.Series(rng.integers(0, 1000, rows), dtype="int64")
    if column.kind == "date":
        dates = pd.Series(pd.date_range("2024-01-01", periods=rows, freq="D"))
        if not column.required and column.name not in spec.key:
            dates.iloc[-1] = pd.NaT
        return dates.astype("datetime64[ns]")
    stamps = pd.Series(pd.date_range("2024-01-01 06:00:00.250", periods=rows, freq="37min"))
    return stamps.astype("datetime64[ns]")


def sample_table(name: str, rows: int = 5, seed: int = 0) -> pd.DataFrame:
    """`rows` rows of canonical table `name`; optional columns have one empty cell."""
    spec = TABLES[name]
    return pd.DataFrame(
        {c.name: _values(spec, c, rows, seed + i) for i, c in enumerate(spec.columns)},
        columns=list(spec.column_names),
    )


def demand(
    item_ids: list[str], days: int, start: str = "2024-01-01", seed: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    frame = pd.DataFrame(
        {
            "item_id": np.repeat(np.array(item_ids, dtype=object), days),
            "date": np.tile(dates.values, len(item_ids)),
            "quantity": rng.poisson(4.0, len(item_ids) * days).astype("float64"),
            "returns": np.zeros(len(item_ids) * days),
        }
    )
    frame["date"] = frame["date"].astype("datetime64[ns]")
    return frame


def batch(
    tables: dict[str, pd.DataFrame],
    file: str = "data.csv",
    content_hash: str = "h1",
    mapping: str = "plain",
) -> ImportBatch:
    rows = sum(len(df) for df in tables.values())
    report = FileReport(file, content_hash, mapping, rows_read=rows, rows_accepted=rows)
    return ImportBatch(tables=dict(tables), files=[report])


def stored_sample(path: Path, **tables: pd.DataFrame) -> str:
    """A SQLite file at `path` holding 40 sample rows of every table, 9 items x 30 days of
    demand, with `tables` instead where given; its URL."""
    from bufferwise.storage import open_repository

    url = f"sqlite:///{path}"
    frames = {name: sample_table(name, rows=40, seed=3) for name in TABLES}
    frames["demand"] = demand([f"I{i:02d}" for i in range(9)], days=30)
    frames.update(tables)
    with open_repository(url) as repo:
        repo.import_batch(batch(frames))
    return url


def read_each(url: str) -> dict[str, pd.DataFrame]:
    """Every table read on its own (`read_table`, the in-process reader): the reference."""
    from bufferwise.storage import open_repository

    with open_repository(url) as repo:
        return {name: repo.read_table(name) for name in TABLES}
