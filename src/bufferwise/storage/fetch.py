"""Fast reads of a compiled SELECT into a DataFrame with canonical dtypes.

SQLite      `fetchmany` in chunks, each chunk turned into NumPy columns at once (no per-row
            DataFrame work, no giant list of tuples kept).
PostgreSQL  `COPY (SELECT ...) TO STDOUT (FORMAT csv)` streamed into Arrow's multi-threaded
            CSV reader (text cells never become Python objects).
Dates and times arrive as ISO text; each distinct value is parsed once.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from bufferwise.model.schema import Table

FETCH_ROWS = 100_000

_CSV_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
}


def fetch_frame(conn: sa.Connection, stmt: sa.Select[Any], spec: Table) -> pd.DataFrame:
    """Run `stmt` (selecting `spec`'s columns in order) and type the result."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    raw = conn.connection.driver_connection
    assert raw is not None
    if conn.dialect.name == "postgresql":
        return _copy_frame(raw, str(compiled), compiled.params, spec)
    positions = getattr(compiled, "positiontup", None) or []
    params = tuple(compiled.params[p] for p in positions)
    return _fetch_frame(raw, str(compiled), params, spec)


def _fetch_frame(raw: Any, sql: str, params: tuple[Any, ...], spec: Table) -> pd.DataFrame:
    # each chunk is typed as it arrives (floats to float64, dates parsed, equal texts shared),
    # so the Python objects of only one chunk are alive at a time
    parts: list[list[np.ndarray]] = [[] for _ in spec.columns]
    texts: list[dict[Any, Any]] = [{} for _ in spec.columns]
    cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_ROWS):
            block = np.empty((len(rows), len(parts)), dtype=object)
            block[:] = rows  # one C-level copy; far quicker than transposing with zip(*rows)
            del rows
            for j, c in enumerate(spec.columns):
                parts[j].append(_typed_chunk(block[:, j], c.kind, texts[j]))
    finally:
        cursor.close()
    frame: dict[str, pd.Series] = {}
    for j, c in enumerate(spec.columns):
        frame[c.name] = _assembled(parts[j], c.kind)
        parts[j] = []  # the chunks of a column go as soon as it is whole
    return pd.DataFrame(frame, columns=list(spec.column_names))


def _typed_chunk(values: np.ndarray, kind: str, texts: dict[Any, Any]) -> np.ndarray:
    """One chunk of a column as NumPy: datetime64[ns] (NaT = empty), float64 (NaN = empty) for
    numbers, else objects with equal texts shared through `texts` (one object per distinct
    value of the whole column)."""
    if kind in ("date", "datetime"):
        codes, uniques = pd.factorize(values)  # parse each distinct text once
        parsed = pd.to_datetime(pd.Series(uniques, dtype=object), format="ISO8601").to_numpy(
            dtype="datetime64[ns]"
        )
        out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
        known = codes >= 0
        out[known] = parsed[codes[known]]
        return out
    if kind in ("float", "int"):
        numbers = values.copy()
        numbers[pd.isna(values)] = np.nan
        return numbers.astype(np.float64)
    codes, uniques = pd.factorize(values)
    shared = np.empty(len(uniques) + 1, dtype=object)
    shared[:-1] = [texts.setdefault(u, u) for u in uniques]
    shared[-1] = None  # code -1: empty
    return shared[codes]


def _typed(values: np.ndarray, kind: str) -> pd.Series:
    """A whole column of raw values typed as `fetch_frame` types it."""
    return _assembled([_typed_chunk(values, kind, {})], kind)


def _assembled(parts: list[np.ndarray], kind: str) -> pd.Series:
    if kind in ("date", "datetime"):
        dtype: Any = "datetime64[ns]"
    elif kind in ("float", "int"):
        dtype = np.float64
    else:
        dtype = object
    values = np.concatenate(parts) if parts else np.empty(0, dtype=dtype)
    if kind == "int":
        empty = np.isnan(values)
        if empty.any():
            return pd.Series(values).astype("Int64")
        return pd.Series(values.astype(np.int64))
    if kind in ("date", "datetime", "float"):
        return pd.Series(values)
    return pd.Series(values, dtype=object)


def _copy_frame(raw: Any, sql: str, params: dict[str, Any], spec: Table) -> pd.DataFrame:
    buffer = io.BytesIO()
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL datestyle = 'ISO, YMD'")
        with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
            for block in copy:
                buffer.write(block)
    names = list(spec.column_names)
    if buffer.tell() == 0:
        table = pa.table({c.name: pa.array([], _CSV_TYPES[c.kind]) for c in spec.columns})
    else:
        buffer.seek(0)
        table = pacsv.read_csv(
            buffer,
            read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(
                column_types={c.name: _CSV_TYPES[c.kind] for c in spec.columns},
                null_values=[""],  # PostgreSQL writes NULL as an unquoted empty cell ...
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,  # ... a quoted "" is the empty text
            ),
        )
    frame = table.to_pandas(date_as_object=False, timestamp_as_object=False)
    for c in spec.columns:
        if c.kind in ("date", "datetime"):
            frame[c.name] = frame[c.name].astype("datetime64[ns]")
        elif c.kind == "str":
            frame[c.name] = frame[c.name].astype(object).where(frame[c.name].notna(), None)
        elif c.kind == "int" and frame[c.name].isna().any():
            frame[c.name] = frame[c.name].astype("Int64")
    return frame[names]
