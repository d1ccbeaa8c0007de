"""Canonical DataFrames <-> the representation each back-end stores, chunk by chunk.

A batch DataFrame (see `bufferwise.model.batch.ImportBatch`) becomes Arrow record chunks with
one type per column kind: str -> string, float -> float64, int -> int64, date -> date32,
datetime -> timestamp[us] (naive UTC). NaN becomes NULL. Missing optional columns take their
default; empty key cells take the column default when it has one (e.g. component = "").
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bufferwise.errors import StorageError
from bufferwise.model.schema import Column, Table

T = TypeVar("T")

CHUNK_ROWS = 250_000

ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "float": pa.float64(),
    "int": pa.int64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
}


def check_columns(df: pd.DataFrame, spec: Table) -> None:
    missing = [c for c in spec.required_columns if c not in df.columns]
    if missing:
        raise StorageError(
            f"table {spec.name}: the batch lacks required column(s) {', '.join(missing)}; "
            f"nothing was written"
        )


def _series(df: pd.DataFrame, column: Column) -> pd.Series:
    if column.name in df.columns:
        return df[column.name]
    fill = column.default if column.default is not None else None
    return pd.Series([fill] * len(df), index=df.index, dtype=object)


def _to_arrow(values: pd.Series, column: Column, spec: Table) -> pa.Array:
    kind = column.kind
    try:
        if kind in ("date", "datetime"):
            stamps = (
                values
                if pd.api.types.is_datetime64_any_dtype(values.dtype)
                else pd.to_datetime(values, format="ISO8601")
            )
            if isinstance(stamps.dtype, pd.DatetimeTZDtype):
                stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
            array = pa.array(stamps.to_numpy(dtype="datetime64[us]"), from_pandas=True)
            if kind == "date":
                array = pc.cast(pc.floor_temporal(array, unit="day"), pa.date32())
            return array
        if kind == "str":
            if isinstance(values.array, pd.arrays.ArrowStringArray):  # Arrow-backed: no copy
                return pc.cast(pa.array(values.array), pa.string())
            return pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        if kind == "float":
            return pa.array(pd.to_numeric(values).to_numpy(dtype=np.float64), from_pandas=True)
        return pa.array(pd.to_numeric(values), type=pa.int64(), from_pandas=True)
    except (ValueError, TypeError, pa.ArrowException) as exc:
        raise StorageError(
            f"table {spec.name}, column {column.name}: cannot store values as {kind} ({exc}); "
            f"nothing was written"
        ) from None


def _fill_key(array: pa.Array, column: Column, spec: Table) -> pa.Array:
    if array.null_count == 0:
        return array
    if column.default is None:
        raise StorageError(
            f"table {spec.name}, key column {column.name}: {array.null_count} empty value(s); "
            f"every key needs a value; nothing was written"
        )
    return pc.fill_null(array, pa.scalar(column.default, array.type))


def to_arrow_chunk(df: pd.DataFrame, spec: Table) -> pa.Table:
    """One chunk of a batch table in stored form: canonical column order and types."""
    arrays = []
    for column in spec.columns:
        array = _to_arrow(_series(df, column), column, spec)
        if column.name in spec.key:
            array = _fill_key(array, column, spec)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=list(spec.column_names))


def arrow_chunks(df: pd.DataFrame, spec: Table, rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
    """The batch table in stored form, `rows` at a time (bounded memory for big tables)."""
    check_columns(df, spec)
    for start in range(0, len(df), rows):
        yield to_arrow_chunk(df.iloc[start : start + rows], spec)


def _python_values(array: pa.Array | pa.ChunkedArray) -> list[object]:
    """The values of `array` as a list of Python objects (None for null). A column with few
    distinct values (ids, dates) converts each distinct value once and repeats it."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_floating(array.type) or pa.types.is_integer(array.type):
        if array.null_count == 0:
            return cast(list[object], array.to_numpy(zero_copy_only=False).tolist())
        return array.to_pylist()
    encoded = pc.dictionary_encode(array)
    distinct = encoded.dictionary
    if len(distinct) * 2 > len(array):
        values = array
        if pa.types.is_date32(values.type) or pa.types.is_timestamp(values.type):
            values = pc.cast(values, pa.string())
        return values.to_pylist()
    if pa.types.is_date32(distinct.type) or pa.types.is_timestamp(distinct.type):
        distinct = pc.cast(distinct, pa.string())
    table = np.array([*distinct.to_pylist(), None], dtype=object)
    indices = pc.fill_null(encoded.indices, len(distinct)).to_numpy(zero_copy_only=False)
    return cast(list[object], table[indices].tolist())


def sqlite_columns(chunk: pa.Table) -> list[list[object]]:
    """Python column lists the sqlite3 module binds; dates and times as SQLAlchemy's ISO text."""
    return [_python_values(array) for array in chunk.columns]


def sqlite_rows(chunk: pa.Table) -> list[object]:
    """Every value of `chunk`, row after row, in one flat list (for multi-row INSERTs)."""
    columns = sqlite_columns(chunk)
    width = len(columns)
    flat: list[object] = [None] * (chunk.num_rows * width)
    for i, values in enumerate(columns):
        flat[i::width] = values
    return flat


def prefetch(items: Iterator[T], depth: int = 1) -> Generator[T, None, None]:
    """Yield from `items`, computed up to `depth` ahead in a background thread.

    Preparing the next chunk (Arrow conversion, Python row lists, binary COPY rows) then
    overlaps with the database taking the current one (sqlite3 and libpq release the GIL while
    they work).
    Errors in the producer are raised here; leaving the loop early stops the producer.
    """
    slots: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(slots, ("item", item), stop):
                    return
            _put(slots, ("done", None), stop)
        except BaseException as exc:  # handed to the consumer, raised there
            _put(slots, ("error", exc), stop)

    worker = threading.Thread(target=produce, name="bufferwise-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "done":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield cast(T, value)
    finally:
        stop.set()
        worker.join()


def _put(
    slots: queue.Queue[tuple[str, object]], entry: tuple[str, object], stop: threading.Event
) -> bool:
    while not stop.is_set():
        try:
            slots.put(entry, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False
