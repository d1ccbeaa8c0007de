"""Whole tables of a SQLite file read in this process, in compiled code, through the very
SQLite library that Python's `sqlite3` module uses.

Why: reading 34 million demand rows cell by cell through Python objects costs about 1 µs a
row; through the ADBC driver in child processes (`fetch.read_sqlite_file`) about 0.45 µs of
CPU a row plus the pipe and Arrow decoding in the parent. Here a numba kernel (`_fill_rows`,
`nogil`) calls `sqlite3_step` / `sqlite3_column_*` directly: about 0.2 µs a row on one core
(0.3 µs each when two threads read the two halves of demand at once; 34 million rows in about
5 s, then 2-3 s to build the frame).

Why the same library: two copies of SQLite in one process break its POSIX locks (closing a file
through one copy drops the locks the other holds). This module finds the `libsqlite3` that the
`_sqlite3` extension has mapped (Linux: /proc/self/maps) and binds to it, so its connections
are ordinary connections of that one library. Where it cannot be found (a Python with SQLite
linked in statically, another system), `available()` is False and the caller reads otherwise.

What the kernel writes, per column kind:
    str            run codes: consecutive equal texts share a run (the sorted key column has
                   one run per distinct value); each run's bytes are kept once, and after the
                   read the runs are dictionary-encoded by Arrow into distinct texts, each one
                   shared Python object, as the other readers give them (-1: NULL)
    float, int     float64 (NaN for NULL), as the other readers keep them before typing
    date, datetime SQLAlchemy's ISO text parsed in the kernel into nanoseconds since 1970
                   ('YYYY-MM-DD', optionally ' HH:MM[:SS[.fraction]]' or with 'T'); NaT for NULL
Anything else (text in a number column, a date in another format, a blob) stops the read with
a reason, and the caller reads the table another way: the frames are the same either way.

The same library also writes: `Writer` inserts the Arrow chunks of a bulk load on the import's
own sqlite3.Connection, inside its transaction (`bulk._sqlite_load`; see the section below).
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import sqlite3
import sys
import threading
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bufferwise.model.schema import Table
from bufferwise.storage.fetch import _TEXT_KINDS, TableRead, _Assembler

_log = logging.getLogger(__name__)

SEGMENT_ROWS = 1 << 22  # rows per segment (the kernel fills one segment per call)
TEXT_BYTES = 1 << 24  # bytes of new-run text per column and chunk (the call returns early)
PREVIOUS_BYTES = 4096  # longer texts are never compared with the previous row's (a new run)
BUSY_MS = 2000
MMAP_BYTES = 1 << 31  # SQLite caps it at its compiled maximum (2 GiB by default)

SQLITE_ROW, SQLITE_DONE = 100, 101
_TYPE_INTEGER, _TYPE_FLOAT, _TYPE_TEXT, _TYPE_NULL = 1, 2, 3, 5
_OPEN_READONLY, _OPEN_URI, _OPEN_NOMUTEX = 0x1, 0x40, 0x8000
NAT = np.iinfo(np.int64).min

# kernel column kinds
_TEXT, _NUMBER, _TIME = 0, 1, 2
_KERNEL_KIND = {"str": _TEXT, "float": _NUMBER, "int": _NUMBER, "date": _TIME, "datetime": _TIME}
# kernel status
_MORE, _DONE, _TEXT_FULL = 0, 1, 2
_BAD_TYPE, _BAD_TIME = -1, -2


class NativeReadError(Exception):
    """The native reader could not read a table (the caller reads it another way)."""


# --- the library -------------------------------------------------------------------------


def _mapped_library() -> str | None:
    """The path of the libsqlite3 that `_sqlite3` has mapped into this process, or None."""
    import _sqlite3  # noqa: F401  (maps the library)

    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                if "libsqlite3" in Path(path).name and path.startswith("/"):
                    return path
    except OSError:
        return None
    return None


class _Lib:
    def __init__(self, path: str) -> None:
        lib = ctypes.CDLL(path)
        handle, integer, text = ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p

        def bind(name: str, restype: Any, *argtypes: Any) -> Any:
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = list(argtypes)
            return fn

        self.path = path
        self.version = bind("sqlite3_libversion", text)().decode()
        self.open = bind(
            "sqlite3_open_v2", integer, text, ctypes.POINTER(handle), integer, ctypes.c_void_p
        )
        self.close = bind("sqlite3_close_v2", integer, handle)
        self.errmsg = bind("sqlite3_errmsg", text, handle)
        self.busy_timeout = bind("sqlite3_busy_timeout", integer, handle, integer)
        self.prepare = bind(
            "sqlite3_prepare_v2",
            integer,
            handle,
            text,
            integer,
            ctypes.POINTER(handle),
            ctypes.c_void_p,
        )
        self.finalize = bind("sqlite3_finalize", integer, handle)
        self.column_count = bind("sqlite3_column_count", integer, handle)
        self.step = bind("sqlite3_step", integer, handle)
        self.column_type = bind("sqlite3_column_type", integer, handle, integer)
        self.column_double = bind("sqlite3_column_double", ctypes.c_double, handle, integer)
        self.column_int64 = bind("sqlite3_column_int64", ctypes.c_int64, handle, integer)
        self.column_text = bind(
            "sqlite3_column_text", ctypes.POINTER(ctypes.c_uint8), handle, integer
        )
        self.column_bytes = bind("sqlite3_column_bytes", integer, handle, integer)
        # the bulk writer's (pointers as size_t: the kernel passes plain integers)
        self.reset = bind("sqlite3_reset", integer, handle)
        self.clear_bindings = bind("sqlite3_clear_bindings", integer, handle)
        self.bind_null = bind("sqlite3_bind_null", integer, handle, integer)
        self.bind_int64 = bind("sqlite3_bind_int64", integer, handle, integer, ctypes.c_int64)
        self.bind_double = bind("sqlite3_bind_double", integer, handle, integer, ctypes.c_double)
        self.bind_text = bind(
            "sqlite3_bind_text", integer, handle, integer, handle, integer, handle
        )
        self.db_filename = bind("sqlite3_db_filename", text, handle, text)
        self.get_autocommit = bind("sqlite3_get_autocommit", integer, handle)
        self.extended_errcode = bind("sqlite3_extended_errcode", integer, handle)
        self.total_changes = bind("sqlite3_total_changes", integer, handle)


_LIB: _Lib | None = None
_FOUND: bool | None = None  # None: not looked for yet
_SETUP = threading.Lock()


def available() -> bool:
    """Whether the native reader can run here (the sqlite3 module's library found)."""
    return _library() is not None


def _library() -> _Lib | None:
    global _LIB, _FOUND
    with _SETUP:
        if _FOUND is None:
            path = _mapped_library()
            try:
                _LIB = _Lib(path) if path is not None else None
            except (OSError, AttributeError) as exc:
                _log.info("native SQLite reader unavailable: %s", exc)
                _LIB = None
            _FOUND = _LIB is not None
        return _LIB


@numba.njit(inline="always", cache=True)
def _digits(s: Any, at: int, n: int) -> int:
    value = 0
    for k in range(at, at + n):
        d = s[k] - 48
        if d < 0 or d > 9:
            return -1
        value = value * 10 + d
    return value


@numba.njit(inline="always", cache=True)
def _parse_time(s: Any, length: int) -> int:
    """ISO text -> nanoseconds since 1970-01-01, or NAT + 1 when not understood."""
    bad = NAT + 1
    if length < 10 or s[4] != 45 or s[7] != 45:  # '-'
        return bad
    y = _digits(s, 0, 4)
    m = _digits(s, 5, 2)
    d = _digits(s, 8, 2)
    if y < 0 or m < 1 or m > 12 or d < 1 or d > 31:
        return bad
    y2 = y - 1 if m <= 2 else y
    era = y2 // 400
    yoe = y2 - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    ns = days * 86_400_000_000_000
    if length == 10:
        return ns
    if length < 16 or (s[10] != 32 and s[10] != 84) or s[13] != 58:  # ' ' or 'T', ':'
        return bad
    hh = _digits(s, 11, 2)
    mm = _digits(s, 14, 2)
    if hh < 0 or hh > 23 or mm < 0 or mm > 59:
        return bad
    ns += (hh * 3600 + mm * 60) * 1_000_000_000
    if length == 16:
        return ns
    if length < 19 or s[16] != 58:
        return bad
    ss = _digits(s, 17, 2)
    if ss < 0 or ss > 59:
        return bad
    ns += ss * 1_000_000_000
    if length == 19:
        return ns
    if s[19] != 46 or length > 29 or length == 20:  # '.', at most 9 fraction digits
        return bad
    fraction = _digits(s, 20, length - 20)
    if fraction < 0:
        return bad
    for _ in range(29 - length):
        fraction *= 10
    return ns + fraction


@numba.njit(nogil=True, cache=True)
def _fill_rows(
    step: Any,  # the library's functions (ctypes), passed in: a cacheable kernel
    column_type: Any,
    column_double: Any,
    column_text: Any,
    column_bytes: Any,
    stmt: int,
    kinds: Any,  # int8[columns]: _TEXT / _NUMBER / _TIME
    slot: Any,  # int64[columns]: row of the kind's output array
    pending: bool,  # the statement stands on a row not yet taken (last call: text full)
    at: int,  # first row of the segment to fill
    numbers: Any,  # float64[number columns, segment rows]
    times: Any,  # int64[time columns, segment rows]
    codes: Any,  # int32[text columns, segment rows]
    run_bytes: Any,  # uint8[text columns, TEXT_BYTES]
    run_starts: Any,  # int64[text columns, segment rows + 1]
    run_counts: Any,  # int64[text columns]: runs started in this call (out)
    run_base: Any,  # int64[text columns]: runs before this call (in)
    previous: Any,  # uint8[text columns, PREVIOUS_BYTES]: the last run's text
    previous_length: Any,  # int64[text columns]: -1 none
) -> tuple[int, int, int]:
    """Fill rows from `at` until the segment is full, the rows end or a new text does not fit
    in `run_bytes`; returns (next free row, status, column of an error).

    A row cut short by a full text buffer is taken again whole by the next call (`pending`):
    a text column it had already taken compares equal to the run it started, so it gets the
    same code again."""
    rows = numbers.shape[1]  # all three are [columns of the kind, segment rows]
    run_counts[:] = 0
    run_starts[:, 0] = 0
    n = at
    while n < rows:
        if not pending:
            rc = step(stmt)
            if rc == SQLITE_DONE:
                return n, _DONE, -1
            if rc != SQLITE_ROW:
                return n, -100 - rc, -1
        pending = False
        for j in range(kinds.shape[0]):
            kind = kinds[j]
            s = slot[j]
            ctype = column_type(stmt, j)
            if kind == _NUMBER:
                if ctype == _TYPE_NULL:
                    numbers[s, n] = np.nan
                elif ctype == _TYPE_INTEGER or ctype == _TYPE_FLOAT:  # noqa: SIM109 (numba)
                    numbers[s, n] = column_double(stmt, j)
                else:
                    return n, _BAD_TYPE, j
            elif kind == _TIME:
                if ctype == _TYPE_NULL:
                    times[s, n] = NAT
                elif ctype == _TYPE_TEXT:
                    p = column_text(stmt, j)
                    value = _parse_time(p, column_bytes(stmt, j))
                    if value == NAT + 1:
                        return n, _BAD_TIME, j
                    times[s, n] = value
                else:
                    return n, _BAD_TYPE, j
            else:
                if ctype == _TYPE_NULL:
                    codes[s, n] = -1
                    continue
                if ctype != _TYPE_TEXT:
                    return n, _BAD_TYPE, j
                p = column_text(stmt, j)
                length = column_bytes(stmt, j)
                same = previous_length[s] == length
                if same:
                    for k in range(length):
                        if p[k] != previous[s, k]:
                            same = False
                            break
                if not same:
                    r = run_counts[s]
                    start = run_starts[s, r]
                    if start + length > run_bytes.shape[1]:
                        if r == 0:
                            return n, _BAD_TYPE, j  # one text larger than the buffer
                        return n, _TEXT_FULL, -1
                    for k in range(length):
                        run_bytes[s, start + k] = p[k]
                    run_starts[s, r + 1] = start + length
                    run_counts[s] = r + 1
                    if length <= previous.shape[1]:
                        for k in range(length):
                            previous[s, k] = p[k]
                        previous_length[s] = length
                    else:
                        previous_length[s] = -1
                codes[s, n] = run_base[s] + run_counts[s] - 1
        n += 1
    return n, _MORE, -1


# --- one table read ----------------------------------------------------------------------


class _Segment:
    """Up to SEGMENT_ROWS rows of a read, one array per column kind ([columns, rows]); the
    arrays of a kind are dropped once all its columns are in the frame."""

    def __init__(self, n_number: int, n_time: int, n_text: int) -> None:
        # np.empty: pages the rows never reach are never touched (a short last segment costs
        # only the rows it holds)
        self.rows = 0
        self.arrays: dict[int, np.ndarray | None] = {
            _NUMBER: np.empty((n_number, SEGMENT_ROWS), dtype=np.float64),
            _TIME: np.empty((n_time, SEGMENT_ROWS), dtype=np.int64),
            _TEXT: np.empty((n_text, SEGMENT_ROWS), dtype=np.int32),
        }


class _Part:
    """The rows of one read (a table or a part of it): segments of rows and the texts' runs."""

    def __init__(self, spec: Table) -> None:
        self.spec = spec
        self.kinds = np.array([_KERNEL_KIND[c.kind] for c in spec.columns], dtype=np.int8)
        self.slot = np.zeros(len(spec.columns), dtype=np.int64)
        counts = [0, 0, 0]
        for j, kind in enumerate(self.kinds):
            self.slot[j] = counts[kind]
            counts[kind] += 1
        self.n_text, self.n_number, self.n_time = counts
        self.undrained = {kind: counts[kind] for kind in (_TEXT, _NUMBER, _TIME)}
        self.segments: list[_Segment] = []
        self.rows = 0
        self.runs: list[list[pa.Array]] = [[] for _ in range(self.n_text)]
        self.run_total = np.zeros(self.n_text, dtype=np.int64)

    def read(self, lib: _Lib, stmt: int, label: str) -> None:
        previous = np.zeros((self.n_text, PREVIOUS_BYTES), dtype=np.uint8)
        previous_length = np.full(self.n_text, -1, dtype=np.int64)
        run_bytes = np.empty((self.n_text, TEXT_BYTES if self.n_text else 0), dtype=np.uint8)
        run_starts = np.empty((self.n_text, SEGMENT_ROWS + 1), dtype=np.int64)
        run_counts = np.zeros(self.n_text, dtype=np.int64)
        pending = False
        segment = _Segment(self.n_number, self.n_time, self.n_text)
        self.segments.append(segment)
        while True:
            if segment.rows == SEGMENT_ROWS:
                segment = _Segment(self.n_number, self.n_time, self.n_text)
                self.segments.append(segment)
            at, status, column = _fill_rows(
                lib.step,
                lib.column_type,
                lib.column_double,
                lib.column_text,
                lib.column_bytes,
                stmt,
                self.kinds,
                self.slot,
                pending,
                segment.rows,
                segment.arrays[_NUMBER],
                segment.arrays[_TIME],
                segment.arrays[_TEXT],
                run_bytes,
                run_starts,
                run_counts,
                self.run_total.copy(),
                previous,
                previous_length,
            )
            if status < 0:
                name = self.spec.columns[column].name if column >= 0 else ""
                raise NativeReadError(f"{label}: status {status} at column {name!r}, row {at}")
            self.rows += at - segment.rows
            segment.rows = at
            for t in range(self.n_text):
                count = int(run_counts[t])
                if count:
                    starts = run_starts[t, : count + 1]
                    data = run_bytes[t, : starts[-1]].tobytes()
                    offsets = pa.py_buffer(starts.tobytes())
                    self.runs[t].append(
                        pa.LargeStringArray.from_buffers(count, offsets, pa.py_buffer(data))
                    )
                    self.run_total[t] += count
            if status == _DONE:
                return
            pending = status == _TEXT_FULL

    def drain(self, j: int, out: np.ndarray, offset: int = 0) -> None:
        """Column j's rows into `out` (text: run codes + `offset`, -1 kept); the segments'
        arrays of its kind go once every column of the kind is drained."""
        kind = int(self.kinds[j])
        s = int(self.slot[j])
        at = 0
        for segment in self.segments:
            values = segment.arrays[kind]
            assert values is not None
            block = out[at : at + segment.rows]
            block[:] = values[s, : segment.rows]
            if offset:
                np.add(block, offset, out=block, where=block >= 0)
            at += segment.rows
        self.undrained[kind] -= 1
        if self.undrained[kind] == 0:
            for segment in self.segments:
                segment.arrays[kind] = None


class _NativeAssembler(_Assembler):
    """`fetch._Assembler` fed from the kernel's chunks instead of Arrow batches: the same
    frame building (one consolidated block per dtype)."""

    def __init__(self, spec: Table) -> None:
        super().__init__(spec)
        self.native: dict[int, _Part] = {}
        self.run_values: list[np.ndarray] = []

    def finish(self) -> None:
        """After every part is read: the distinct texts of each text column's runs."""
        first = self.native[min(self.native)] if self.native else None
        self.run_values = []
        if first is None:
            return
        for t in range(first.n_text):
            runs = [a for p in sorted(self.native) for a in self.native[p].runs[t]]
            values = np.empty(sum(len(a) for a in runs) + 1, dtype=object)
            values[-1] = None  # code -1: NULL
            if runs:
                encoded = pc.dictionary_encode(pa.chunked_array(runs, pa.large_string()))
                distinct = np.empty(len(encoded.chunk(0).dictionary), dtype=object)
                distinct[:] = encoded.chunk(0).dictionary.to_pylist()
                indices = np.concatenate(
                    [c.indices.to_numpy(zero_copy_only=False) for c in encoded.chunks]
                )
                values[:-1] = distinct[indices]
            self.run_values.append(values)

    def _column(self, j: int, out: np.ndarray | None = None) -> np.ndarray:
        kind = self.spec.columns[j].kind
        parts = [self.native[p] for p in sorted(self.native)]
        if out is None:
            dtype = np.int32 if kind == "str" else np.int64 if kind in _TEXT_KINDS else np.float64
            out = np.empty(sum(p.rows for p in parts), dtype=dtype)
        target = out.view(np.int64) if out.dtype.kind == "M" else out
        at = 0
        offset = 0
        for part in parts:
            part.drain(j, target[at : at + part.rows], offset)
            at += part.rows
            if kind == "str":
                offset += int(part.run_total[part.slot[j]])
        return out

    def _lookup(self, j: int) -> np.ndarray | None:
        """Text column j's value of each run code (the last one: NULL); None for the other
        columns, whose rows are their values (dates and times as nanoseconds)."""
        if self.spec.columns[j].kind != "str":
            return None
        return self.run_values[int(self.native[min(self.native)].slot[j])]

    def _rows(self) -> int:
        return sum(p.rows for p in self.native.values())


# --- whole tables, one connection per thread -----------------------------------------------


def read_native(
    path: Path, threads: list[list[TableRead]], state_sql: str
) -> dict[str, pd.DataFrame] | None:
    """The tables of `threads` (one list of reads per thread, run at once, each on its own
    read-only connection in one read transaction) from the SQLite file at `path`, all from
    one committed state (each connection answers `state_sql` first; differing answers: None).
    The frames equal those of `fetch.fetch_frame`. None when this reader cannot read them
    (library not found, a value of an unexpected type or format, database busy): the caller
    then reads another way."""
    if _library() is None:
        return None
    specs = {r.name: r.spec for reads in threads for r in reads}
    assemblers = {name: _NativeAssembler(spec) for name, spec in specs.items()}
    # no garbage collection while the frames are built: a full collection would walk the
    # object columns (one reference per row) written so far, and this code makes no cycles
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_all(path, threads, state_sql, assemblers)
    finally:
        if collecting:
            gc.enable()


def _read_all(
    path: Path,
    threads: list[list[TableRead]],
    state_sql: str,
    assemblers: dict[str, _NativeAssembler],
) -> dict[str, pd.DataFrame] | None:
    try:
        with ThreadPoolExecutor(len(threads)) as pool:
            states = list(
                pool.map(lambda reads: _read_thread(path, reads, assemblers, state_sql), threads)
            )
    except NativeReadError as exc:
        _log.info("native read of %s stopped: %s", path, exc)
        return None
    if len(set(states)) != 1:
        return None
    for assembler in assemblers.values():
        assembler.finish()
    return {name: assembler.frame() for name, assembler in assemblers.items()}


def _read_thread(
    path: Path, reads: list[TableRead], assemblers: dict[str, _NativeAssembler], state_sql: str
) -> tuple[Any, ...]:
    lib = _library()
    assert lib is not None
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
    db = ctypes.c_size_t(0)
    rc = lib.open(uri.encode(), ctypes.byref(db), _OPEN_READONLY | _OPEN_URI | _OPEN_NOMUTEX, None)
    try:
        if rc != 0:
            raise NativeReadError(f"cannot open {path}: {_message(lib, db.value, rc)}")
        lib.busy_timeout(db.value, BUSY_MS)
        if MMAP_BYTES:
            # pages read straight from the mapped file: no read() call and copy per page
            _run(lib, db.value, f"PRAGMA mmap_size = {MMAP_BYTES}")
        _run(lib, db.value, "BEGIN")  # one read transaction: every query sees one state
        try:
            state = _state(lib, db.value, state_sql)
            for r in reads:
                part = _Part(r.spec)
                stmt = _prepare(lib, db.value, _select(r))
                try:
                    if lib.column_count(stmt) != len(r.spec.columns):
                        raise NativeReadError(f"{r.name}: unexpected column count")
                    part.read(lib, stmt, f"{path} table {r.name}")
                finally:
                    lib.finalize(stmt)
                assemblers[r.name].native[r.part] = part
        finally:
            _run(lib, db.value, "ROLLBACK")
        return state
    finally:
        lib.close(db.value)


def _select(r: TableRead) -> str:
    quote = '"{}"'.format
    where = f" WHERE {r.where}" if r.where else ""
    columns = ", ".join(quote(c.name) for c in r.spec.columns)
    order = ", ".join(quote(k) for k in r.order)
    return f"SELECT {columns} FROM {quote(r.name)}{where} ORDER BY {order}"


def _message(lib: _Lib, db: int, rc: int) -> str:
    text = lib.errmsg(db) if db else None
    return f"{rc} {text.decode(errors='replace') if text else ''}".strip()


def _prepare(lib: _Lib, db: int, sql: str) -> int:
    stmt = ctypes.c_size_t(0)
    rc = lib.prepare(db, sql.encode(), -1, ctypes.byref(stmt), None)
    if rc != 0:
        raise NativeReadError(f"cannot prepare {sql!r}: {_message(lib, db, rc)}")
    return int(stmt.value)


def _run(lib: _Lib, db: int, sql: str) -> None:
    stmt = _prepare(lib, db, sql)
    try:
        rc = lib.step(stmt)
        if rc not in (SQLITE_ROW, SQLITE_DONE):
            raise NativeReadError(f"{sql}: {_message(lib, db, rc)}")
    finally:
        lib.finalize(stmt)


def _state(lib: _Lib, db: int, sql: str) -> tuple[Any, ...]:
    """The one row of `sql` (numbers and NULLs only), as a tuple."""
    stmt = _prepare(lib, db, sql)
    try:
        rc = lib.step(stmt)
        if rc != SQLITE_ROW:
            raise NativeReadError(f"{sql}: {_message(lib, db, rc)}")
        values: list[Any] = []
        for j in range(lib.column_count(stmt)):
            kind = lib.column_type(stmt, j)
            values.append(None if kind == _TYPE_NULL else int(lib.column_int64(stmt, j)))
        return tuple(values)
    finally:
        lib.finalize(stmt)


# --- bulk insert on the sqlite3 module's own connection -----------------------------------
#
# `bulk._sqlite_load` writes each Arrow chunk of a batch with `_insert_rows` (`nogil`): one
# prepared `INSERT INTO t (...) VALUES (?, ...), ...` of WRITE_ROWS_PER_STATEMENT rows, values
# bound straight from NumPy / Arrow buffers, stepped and reset, on the sqlite3.Connection of
# the import (its `sqlite3 *`), inside its transaction. The values bound are those the sqlite3
# module binds for `convert.sqlite_rows`: int64 -> sqlite3_bind_int64, float64 ->
# sqlite3_bind_double, text -> sqlite3_bind_text of its UTF-8 bytes, NULL -> sqlite3_bind_null,
# dates and times -> the very text `convert._python_values` makes (Arrow's cast to string of
# each distinct value); so the file is the same either way.

WRITE_ROWS_PER_STATEMENT = 64
MAX_VARIABLES = 32_766  # SQLite's default limit of parameters in one statement (3.32+)
_W_INT, _W_FLOAT, _W_TEXT = 0, 1, 2
_SQLITE_STATIC = 0  # the buffers outlive the statement's use of them (cleared after a chunk)


def connection_handle(raw: Any) -> int | None:
    """The `sqlite3 *` of the sqlite3.Connection `raw` when the native writer may use it: the
    library found, CPython's connection layout (PyObject_HEAD, then `sqlite3 *db`) confirmed
    by the handle naming the same main database file as `PRAGMA database_list`, and a
    transaction open on it (the writes belong to the caller's transaction). Else None (an
    in-memory or temporary database included): the caller binds through the sqlite3 module.
    """
    lib = _library()
    if lib is None or sys.implementation.name != "cpython":
        return None
    if not isinstance(raw, sqlite3.Connection) or not raw.in_transaction:
        return None
    cursor = raw.cursor()
    try:
        files = {row[1]: row[2] for row in cursor.execute("PRAGMA database_list")}
    finally:
        cursor.close()
    path = files.get("main")
    if not path:  # in memory or a temporary file: nothing to compare the handle with
        return None
    handle = ctypes.c_size_t.from_address(id(raw) + object.__basicsize__).value
    if not handle:
        return None
    named = lib.db_filename(handle, b"main")
    if named is None or os.fsdecode(named) != path:
        return None
    if lib.get_autocommit(handle) != 0 or lib.total_changes(handle) != raw.total_changes:
        return None
    return int(handle)


class WriteChunk:
    """One Arrow chunk as the kernel binds it: per column a kind (int / float / text), a row
    of the kind's array, a NULL mask; texts as indices into one offsets array over one byte
    buffer (date and time columns: into their distinct values rendered as text)."""

    def __init__(
        self,
        rows: int,
        kinds: np.ndarray,
        slot: np.ndarray,
        nulls: np.ndarray,
        ints: np.ndarray,
        doubles: np.ndarray,
        text_index: np.ndarray,
        text_offsets: np.ndarray,
        text_data: np.ndarray,
    ) -> None:
        self.rows = rows
        self.kinds = kinds
        self.slot = slot
        self.nulls = nulls
        self.ints = ints
        self.doubles = doubles
        self.text_index = text_index
        self.text_offsets = text_offsets
        self.text_data = text_data


def _texts(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The (offsets int64[n + 1] from 0, UTF-8 bytes) of a string / large_string array."""
    if pa.types.is_string(array.type):
        offset_type: Any = np.int32
    elif pa.types.is_large_string(array.type):
        offset_type = np.int64
    else:
        raise TypeError(array.type)
    _, offsets_buffer, data_buffer = array.buffers()
    n = len(array)
    if offsets_buffer is None:  # an empty array
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type, count=array.offset + n + 1)
    offsets = offsets[array.offset : array.offset + n + 1].astype(np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)[first:last]
        if data_buffer is not None and last > first
        else np.zeros(0, dtype=np.uint8)
    )
    return offsets - first, data


def write_chunk(chunk: pa.Table) -> WriteChunk | None:
    """`chunk` made ready for `Writer.insert`, or None when a column has a type the kernel does
    not bind (the caller binds that chunk through the sqlite3 module)."""
    width = chunk.num_columns
    rows = chunk.num_rows
    kinds = np.zeros(width, dtype=np.int8)
    slot = np.zeros(width, dtype=np.int64)
    nulls = np.zeros((width, rows), dtype=np.uint8)
    ints: list[np.ndarray] = []
    doubles: list[np.ndarray] = []
    index: list[np.ndarray] = []
    offsets: list[np.ndarray] = []
    data: list[np.ndarray] = []
    strings = 0  # texts before this column's in the joined offsets
    size = 0  # bytes before this column's in the joined buffer
    for j, column in enumerate(chunk.columns):
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        kind = array.type
        if array.null_count:
            nulls[j] = array.is_null().to_numpy(zero_copy_only=False)
        if pa.types.is_int64(kind):
            kinds[j], slot[j] = _W_INT, len(ints)
            ints.append(pc.fill_null(array, 0).to_numpy(zero_copy_only=False))
            continue
        if pa.types.is_float64(kind):
            kinds[j], slot[j] = _W_FLOAT, len(doubles)
            doubles.append(array.to_numpy(zero_copy_only=False))  # NULL: NaN, masked
            continue
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            texts = array
            at = np.arange(rows, dtype=np.int64)
        elif pa.types.is_date32(kind) or pa.types.is_timestamp(kind):
            # as convert._python_values: each distinct value cast to text by Arrow
            encoded = pc.dictionary_encode(array)
            texts = pc.cast(encoded.dictionary, pa.string())
            at = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False).astype(np.int64)
        else:
            return None
        kinds[j], slot[j] = _W_TEXT, len(index)
        column_offsets, column_data = _texts(texts)
        index.append(at + strings)
        offsets.append(column_offsets[:-1] + size)
        data.append(column_data)
        strings += len(texts)
        size += len(column_data)
    data.append(np.zeros(1, dtype=np.uint8))  # never a NULL pointer (NULL binds NULL)
    return WriteChunk(
        rows,
        kinds,
        slot,
        nulls,
        np.array(ints, dtype=np.int64).reshape(len(ints), rows),
        np.array(doubles, dtype=np.float64).reshape(len(doubles), rows),
        np.array(index, dtype=np.int64).reshape(len(index), rows),
        np.concatenate([*offsets, np.array([size], dtype=np.int64)]),
        np.concatenate(data),
    )


@numba.njit(inline="always", cache=True)
def _bind_row(
    bind_null: Any,
    bind_int64: Any,
    bind_double: Any,
    bind_text: Any,
    stmt: int,
    first: int,  # the row's first parameter (1-based)
    row: int,
    kinds: Any,
    slot: Any,
    nulls: Any,
    ints: Any,
    doubles: Any,
    text_index: Any,
    text_offsets: Any,
    text_base: int,
) -> int:
    for j in range(kinds.shape[0]):
        p = first + j
        s = slot[j]
        kind = kinds[j]
        if nulls[j, row]:
            rc = bind_null(stmt, p)
        elif kind == _W_INT:
            rc = bind_int64(stmt, p, ints[s, row])
        elif kind == _W_FLOAT:
            rc = bind_double(stmt, p, doubles[s, row])
        else:
            i = text_index[s, row]
            a = text_offsets[i]
            rc = bind_text(stmt, p, text_base + a, text_offsets[i + 1] - a, _SQLITE_STATIC)
        if rc != 0:
            return rc
    return 0


@numba.njit(nogil=True, cache=True)
def _insert_rows(
    step: Any,  # the library's functions (ctypes), passed in: a cacheable kernel
    reset: Any,
    clear_bindings: Any,
    bind_null: Any,
    bind_int64: Any,
    bind_double: Any,
    bind_text: Any,
    stmt: int,  # INSERT of `per_statement` rows
    per_statement: int,
    tail_stmt: int,  # INSERT of the rows left over (rows % per_statement of them; 0: none)
    rows: int,
    kinds: Any,  # int8[columns]: _W_INT / _W_FLOAT / _W_TEXT
    slot: Any,  # int64[columns]: row of the kind's array
    nulls: Any,  # uint8[columns, rows]
    ints: Any,  # int64[int columns, rows]
    doubles: Any,  # float64[float columns, rows]
    text_index: Any,  # int64[text columns, rows]: into text_offsets
    text_offsets: Any,  # int64[texts + 1]: into the text bytes
    text_base: int,  # address of the text bytes
) -> tuple[int, int, int]:
    """Insert the rows; returns (0 or the failing call's code, the statement it failed on,
    rows inserted before). A failed step leaves that statement for the caller to reset (the
    error message kept); the other statement's bindings are cleared either way."""
    width = kinds.shape[0]
    full = rows - rows % per_statement
    r = 0
    current = stmt
    rc = 0
    while r < rows:
        count = per_statement if r < full else rows - full
        current = stmt if r < full else tail_stmt
        for q in range(count):
            rc = _bind_row(
                bind_null,
                bind_int64,
                bind_double,
                bind_text,
                current,
                q * width + 1,
                r + q,
                kinds,
                slot,
                nulls,
                ints,
                doubles,
                text_index,
                text_offsets,
                text_base,
            )
            if rc != 0:
                break
        if rc != 0:
            break
        rc = step(current)
        if rc != SQLITE_DONE:
            break
        rc = reset(current)
        if rc != 0:
            break
        r += count
    # no pointer into the chunk's buffers stays bound (the failed statement: after its reset)
    if stmt:
        clear_bindings(stmt)
    if tail_stmt:
        clear_bindings(tail_stmt)
    if r >= rows:
        return 0, 0, r
    return rc, current, r


class Writer:
    """Inserts of WriteChunks into one table on one connection (`connection_handle`); `close`
    finalizes its statements. Errors raise as the sqlite3 module's would: IntegrityError for a
    constraint (a repeated key), OperationalError otherwise, with SQLite's message."""

    def __init__(self, handle: int, insert_sql: Callable[[int], str], width: int) -> None:
        lib = _library()
        assert lib is not None
        self.lib = lib
        self.db = handle
        self.insert_sql = insert_sql  # rows -> the INSERT statement of that many rows
        self.per_statement = max(1, min(WRITE_ROWS_PER_STATEMENT, MAX_VARIABLES // max(1, width)))
        self.statements: dict[int, int] = {}

    def _statement(self, rows: int) -> int:
        stmt = self.statements.get(rows)
        if stmt is None:
            out = ctypes.c_size_t(0)
            rc = self.lib.prepare(
                self.db, self.insert_sql(rows).encode(), -1, ctypes.byref(out), None
            )
            if rc != 0:
                self._raise(rc)
            stmt = self.statements[rows] = int(out.value)
        return stmt

    def insert(self, chunk: WriteChunk) -> None:
        """Insert the chunk's rows (a repeated key: sqlite3.IntegrityError)."""
        lib = self.lib
        tail = chunk.rows % self.per_statement
        stmt = self._statement(self.per_statement) if chunk.rows >= self.per_statement else 0
        tail_stmt = self._statement(tail) if tail else 0
        rc, failed, _ = _insert_rows(
            lib.step,
            lib.reset,
            lib.clear_bindings,
            lib.bind_null,
            lib.bind_int64,
            lib.bind_double,
            lib.bind_text,
            stmt,
            self.per_statement,
            tail_stmt,
            chunk.rows,
            chunk.kinds,
            chunk.slot,
            chunk.nulls,
            chunk.ints,
            chunk.doubles,
            chunk.text_index,
            chunk.text_offsets,
            chunk.text_data.ctypes.data,
        )
        if rc != 0:
            self._raise(rc, failed)

    def _raise(self, rc: int, stmt: int = 0) -> None:
        message = self.lib.errmsg(self.db)
        text = message.decode(errors="replace") if message else f"SQLite error {rc}"
        extended = self.lib.extended_errcode(self.db)
        if stmt:
            self.lib.reset(stmt)
            self.lib.clear_bindings(stmt)
        exc = _ERROR_CLASSES.get(rc & 0xFF, sqlite3.DatabaseError)(text)
        exc.sqlite_errorcode = extended
        exc.sqlite_errorname = _ERROR_NAMES.get(extended, "")
        raise exc

    def close(self) -> None:
        for stmt in self.statements.values():
            self.lib.finalize(stmt)
        self.statements.clear()


# the sqlite3 module's exception for each primary result code (CPython's _pysqlite_seterror;
# NOMEM, MemoryError there, is an OperationalError here: a database error the import rolls back)
_ERROR_CLASSES: dict[int, type[sqlite3.Error]] = {
    2: sqlite3.InternalError,  # INTERNAL
    12: sqlite3.InternalError,  # NOTFOUND
    11: sqlite3.DatabaseError,  # CORRUPT
    18: sqlite3.DataError,  # TOOBIG
    19: sqlite3.IntegrityError,  # CONSTRAINT
    20: sqlite3.IntegrityError,  # MISMATCH
    21: sqlite3.InterfaceError,  # MISUSE
    25: sqlite3.InterfaceError,  # RANGE
    **dict.fromkeys((1, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16, 17), sqlite3.OperationalError),
}

_ERROR_NAMES = {
    value: name
    for name, value in vars(sqlite3).items()
    if name.startswith("SQLITE_")
    and isinstance(value, int)
    and (
        name.startswith(
            (
                "SQLITE_CONSTRAINT",
                "SQLITE_IOERR",
                "SQLITE_BUSY",
                "SQLITE_LOCKED",
                "SQLITE_READONLY",
                "SQLITE_CORRUPT",
                "SQLITE_FULL",
                "SQLITE_CANTOPEN",
                "SQLITE_NOMEM",
                "SQLITE_TOOBIG",
                "SQLITE_MISMATCH",
                "SQLITE_ERROR",
                "SQLITE_ABORT",
                "SQLITE_INTERRUPT",
                "SQLITE_PERM",
                "SQLITE_RANGE",
            )
        )
    )
}
