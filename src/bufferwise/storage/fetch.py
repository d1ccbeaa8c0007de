"""Fast reads of canonical tables into DataFrames with canonical dtypes.

SQLite file, whole tables (`read_sqlite_file`)
            a child process reads them through the ADBC SQLite driver in one read transaction
            and streams Arrow record batches back through a pipe (`sqlite_child`); no Python
            object per row on either side.
SQLite, other reads (`fetch_frame`: filtered reads, small or in-memory databases, or when the
            child cannot read)
            `fetchmany` in chunks, each chunk turned into NumPy columns at once.
PostgreSQL  `COPY (SELECT ...) TO STDOUT (FORMAT csv)` streamed through Arrow's CSV reader
            block by block (text cells never become Python objects).
Text columns are kept as integer codes into the column's distinct values until the column is
whole; then each distinct text is one shared Python object (as many objects as distinct values,
not as rows). Dates and times arrive as ISO text; each distinct value is parsed once.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from bufferwise.model.schema import Table

FETCH_ROWS = 100_000

_log = logging.getLogger(__name__)

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
    return pd.DataFrame(frame, columns=list(spec.column_names), copy=False)


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


# --- Arrow record batches -> canonical columns ---------------------------------------------

_TEXT_KINDS = ("str", "date", "datetime")


_SEGMENT_ROWS = 1 << 23  # 32 MiB of codes, 64 MiB of numbers: blocks malloc gives back when freed
_FIRST_SEGMENT_ROWS = 1 << 16


class _Segments:
    """The chunks of one column of one part, copied into large segments: freed, they go back
    to the system at once (many small chunks would stay in the C heap, adding to the peak).
    The first segment is small, so that a small table takes little."""

    def __init__(self, dtype: type) -> None:
        self.dtype = dtype
        self.blocks: list[np.ndarray] = []
        self.used = 0  # rows filled in the last block
        self.rows = 0  # rows in all blocks

    def append(self, values: np.ndarray) -> None:
        start = 0
        while start < len(values):
            if not self.blocks or self.used == len(self.blocks[-1]):
                size = _FIRST_SEGMENT_ROWS if not self.blocks else _SEGMENT_ROWS
                self.blocks.append(np.empty(size, dtype=self.dtype))
                self.used = 0
            take = min(len(values) - start, len(self.blocks[-1]) - self.used)
            self.blocks[-1][self.used : self.used + take] = values[start : start + take]
            self.used += take
            self.rows += take
            start += take

    def __len__(self) -> int:
        return self.rows

    def drain_into(self, out: np.ndarray) -> None:
        """Copy the rows into `out` (len(self) long), freeing each block once copied."""
        at = 0
        while self.blocks:
            block = self.blocks.pop(0)
            rows = len(block) if self.blocks else self.used
            out[at : at + rows] = block[:rows]
            at += rows
            del block
        self.used = self.rows = 0


class _Assembler:
    """Collects the record batches of one table (columns in `spec` order) and builds the
    frame that `fetch_frame` builds from the same rows.

    Text, date and time columns are kept as int32 codes into the column's distinct texts
    (code -1: NULL); numbers as float64 with NaN for NULL, as the chunked sqlite3 path keeps
    them. The frame's columns are written straight into its final (consolidated) blocks."""

    def __init__(self, spec: Table) -> None:
        self.spec = spec
        # parts[part][column]: one part's rows (parts may be added from two threads)
        self.parts: dict[int, list[_Segments]] = {}
        self.codes: list[dict[str, int]] = [{} for _ in spec.columns]
        self.lock = threading.Lock()

    def add(self, batch: pa.RecordBatch, part: int = 0) -> None:
        if part not in self.parts:
            self.parts[part] = [
                _Segments(np.int32 if c.kind in _TEXT_KINDS else np.float64)
                for c in self.spec.columns
            ]
        columns = self.parts[part]
        for j, c in enumerate(self.spec.columns):
            column = batch.column(j)
            if c.kind in _TEXT_KINDS:
                columns[j].append(self._coded(column, self.codes[j]))
            else:
                columns[j].append(_numbers(column))

    def _coded(self, column: pa.Array, codes: dict[str, int]) -> np.ndarray:
        if column.null_count == len(column):
            return np.full(len(column), -1, dtype=np.int32)
        if pa.types.is_dictionary(column.type):
            encoded = column
        elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            encoded = pc.dictionary_encode(column)
        else:
            raise TypeError(f"text column arrived as {column.type}")
        distinct = encoded.dictionary.to_pylist()
        lookup = np.empty(len(distinct) + 1, dtype=np.int32)
        with self.lock:  # each distinct text gets one code, whichever thread sees it first
            lookup[:-1] = [codes.setdefault(text, len(codes)) for text in distinct]
        lookup[-1] = -1  # NULL
        indices = pc.fill_null(encoded.indices, len(distinct)).to_numpy()
        return lookup[indices]

    def _column(self, j: int, out: np.ndarray | None = None) -> np.ndarray:
        """Column j's raw rows (codes or float64) in part order, into `out` when given; its
        segments are freed as they are copied."""
        segments = [self.parts[part][j] for part in sorted(self.parts)]
        if out is None:
            dtype = np.int32 if self.spec.columns[j].kind in _TEXT_KINDS else np.float64
            out = np.empty(sum(len(s) for s in segments), dtype=dtype)
        at = 0
        for s in segments:
            rows = len(s)
            s.drain_into(out[at : at + rows])
            at += rows
        return out

    def frame(self) -> pd.DataFrame:
        kinds = [c.kind for c in self.spec.columns]
        groups = [_GROUP[k] for k in kinds]
        runs = [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]
        if "int" in kinds or len(runs) != len(set(runs)):
            return self._frame_by_columns()
        # one block per dtype, filled column by column: no consolidating copy afterwards
        n = self._rows()
        pieces: list[pd.DataFrame] = []
        j = 0
        for group in runs:
            width = _run_length(groups, j)
            block = np.empty((width, n), dtype=_BLOCK_DTYPE[group])
            for k in range(width):
                self._fill(j + k, block[k])
            names = list(self.spec.column_names[j : j + width])
            pieces.append(pd.DataFrame(block.T, columns=names, dtype=block.dtype, copy=False))
            del block
            j += width
        if len(pieces) == 1:
            return pieces[0]
        return pd.concat(pieces, axis=1, copy=False)

    def _rows(self) -> int:
        return sum(len(self.parts[p][0]) for p in self.parts) if self.parts else 0

    def _lookup(self, j: int) -> np.ndarray | None:
        """The typed values column j's raw codes stand for, one more at the end for NULL
        (code -1); None when the raw rows are the values (numbers). Asked once per column."""
        c = self.spec.columns[j]
        if c.kind not in _TEXT_KINDS:
            return None
        values = _distinct_values(list(self.codes[j]), c.kind)
        self.codes[j] = {}
        return values

    def _fill(self, j: int, out: np.ndarray) -> None:
        lookup = self._lookup(j)
        if lookup is None:
            self._column(j, out)
        else:
            # mode "wrap": code -1 is the last value (NULL) as with "raise", without the
            # full-size temporary that "raise" writes through
            np.take(lookup, self._column(j), out=out, mode="wrap")

    def _frame_by_columns(self) -> pd.DataFrame:
        frame: dict[str, pd.Series] = {}
        for j, c in enumerate(self.spec.columns):
            raw = self._column(j)
            lookup = self._lookup(j)
            if lookup is not None:
                frame[c.name] = pd.Series(lookup[raw], dtype=lookup.dtype)
            elif c.kind in ("date", "datetime"):  # raw nanoseconds (the native reader's)
                frame[c.name] = pd.Series(raw.view("datetime64[ns]"))
            else:
                frame[c.name] = _assembled([raw], c.kind)
            del raw
        return pd.DataFrame(frame, columns=list(self.spec.column_names), copy=False)


_GROUP = {"str": "object", "date": "time", "datetime": "time", "float": "float", "int": "int"}
_BLOCK_DTYPE: dict[str, Any] = {
    "object": object,
    "time": "datetime64[ns]",
    "float": np.float64,
}


def _run_length(groups: list[str], start: int) -> int:
    end = start
    while end < len(groups) and groups[end] == groups[start]:
        end += 1
    return end - start


def _numbers(column: pa.Array) -> np.ndarray:
    if column.null_count == len(column):
        return np.full(len(column), np.nan)
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise TypeError(f"number column arrived as {column.type}")
    # a copy: a view would keep the whole message body of the batch (all its columns) alive
    return np.array(column.to_numpy(zero_copy_only=False), dtype=np.float64, copy=True)


def _distinct_values(texts: list[str], kind: str) -> np.ndarray:
    """The typed values of a column's distinct texts, one more at the end for NULL (-1)."""
    if kind == "str":
        values = np.empty(len(texts) + 1, dtype=object)
        values[:-1] = texts
        values[-1] = None
        return values
    parsed = pd.to_datetime(pd.Series(texts, dtype=object), format="ISO8601")
    return np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))


# --- whole tables of a SQLite file, read by child processes --------------------------------

#: databases smaller than this are read in-process (starting a child takes about 0.3 s)
CHILD_MIN_BYTES = 48 << 20
#: from this size on, the largest table is read by two children at once (when 2 cores exist)
SPLIT_MIN_BYTES = 128 << 20
CHILD_BATCH_ROWS = 65_536
_CHILD = Path(__file__).with_name("sqlite_child.py")
_FILL = {"str": "''", "date": "''", "datetime": "''", "float": "0.0", "int": "0"}
# what every child reads first, in its read transaction: imports are the only writes to the
# canonical tables, and each records itself in `imports`, so equal answers = one state
STATE_SQL = "SELECT count(*), max(import_id) FROM imports"


@dataclass(frozen=True, slots=True)
class TableRead:
    """Rows of one table in key order; `where` (SQL) and `part` cut it into parts read by
    different children and put together in `part` order."""

    name: str
    spec: Table
    nullable: tuple[bool, ...]
    order: tuple[str, ...]
    where: str = ""
    part: int = 0


def sqlite_file(conn: sa.Connection) -> tuple[Path, int] | None:
    """The file of a SQLite connection's main database and its size in bytes, when it is
    worth reading through a child (None: PostgreSQL, in-memory or temporary database, or
    smaller than CHILD_MIN_BYTES)."""
    if conn.dialect.name != "sqlite":
        return None
    rows = conn.exec_driver_sql("PRAGMA database_list").all()
    path = next((r[2] for r in rows if r[1] == "main"), "")
    if not path:
        return None
    pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    size = int(pages) * int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
    return (Path(path), size) if size >= CHILD_MIN_BYTES else None


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def read_sqlite_file(path: Path, children: list[list[TableRead]]) -> dict[str, pd.DataFrame] | None:
    """The tables of `children` (one list of reads per child process, run at once) from the
    SQLite file at `path`, each from one read transaction, all from the same committed state;
    the frames equal those of `fetch_frame`. None when the children could not read them
    (driver not installed, unexpected types, database busy, an import committed between the
    children's snapshots): then read in-process."""
    specs = {r.name: r.spec for reads in children for r in reads}
    assemblers = {name: _Assembler(spec) for name, spec in specs.items()}
    with ThreadPoolExecutor(len(children)) as pool:
        states = list(pool.map(lambda reads: _child(path, reads, assemblers), children))
    if any(state is None for state in states) or len(set(states)) != 1:
        return None
    return {name: assembler.frame() for name, assembler in assemblers.items()}


def _child(path: Path, reads: list[TableRead], assemblers: dict[str, _Assembler]) -> Any:
    """One child reading `reads` into `assemblers`; its answer to _STATE, None on failure."""
    quote = '"{}"'.format

    def source(r: TableRead) -> str:
        where = f" WHERE {r.where}" if r.where else ""
        return f"{quote(r.name)}{where} ORDER BY {', '.join(quote(k) for k in r.order)}"

    request = {
        "uri": f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro",
        "parent": os.getpid(),
        "batch_rows": CHILD_BATCH_ROWS,
        "state": STATE_SQL,
        "queries": [
            {
                "source": source(r),
                "columns": [
                    {"name": c.name, "expr": quote(c.name), "nullable": n, "fill": _FILL[c.kind]}
                    for c, n in zip(r.spec.columns, r.nullable, strict=True)
                ],
            }
            for r in reads
        ],
    }
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-P", str(_CHILD)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
        except OSError as exc:
            _log.info("cannot start a reading child: %s", exc)
            return None
        assert proc.stdin is not None and proc.stdout is not None
        state: Any = None
        done = False
        try:
            _larger_pipe(proc.stdout)
            proc.stdin.write(json.dumps(request).encode())
            proc.stdin.close()
            state = tuple(pa.ipc.open_stream(proc.stdout).read_all().to_pylist()[0].values())
            for r in reads:
                for batch in pa.ipc.open_stream(proc.stdout):
                    assemblers[r.name].add(batch, r.part)
            done = True
        except (OSError, pa.ArrowException, TypeError, ValueError, IndexError) as exc:
            _log.info("reading %s through a child failed: %s", path, exc)
        finally:
            proc.stdout.close()
            if not done:
                proc.kill()
            status = proc.wait()
        if status != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            _log.info("reading %s through a child failed (%s): %s", path, status, message)
            return None
    return state if done else None


def _larger_pipe(stream: IO[bytes]) -> None:
    """Let a child run up to 1 MiB ahead of the parent (Linux; 64 KiB otherwise)."""
    with contextlib.suppress(OSError, AttributeError, ImportError):
        import fcntl

        fcntl.fcntl(stream.fileno(), 1031, 1 << 20)  # F_SETPIPE_SZ
