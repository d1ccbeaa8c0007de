"""Bulk inserts into SQLite bound and stepped in compiled code (`sqlite_native.Writer`) on the
import's own connection: the file holds exactly what the sqlite3 module's `executemany` path
writes (every value's storage class and bytes), through the straight-in and the staging-merge
paths, and a repeated key rolls the import back with the same error; the writer is used only
on a connection it can prove is the one it binds to, inside its transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from storage_samples import batch, demand, sample_table

from bufferwise.errors import StorageError
from bufferwise.model import TABLES
from bufferwise.model.schema import Column, Table
from bufferwise.storage import bulk, convert, open_repository, sqlite_native
from bufferwise.storage.engine import create_engine, write_transaction

pytestmark = pytest.mark.skipif(
    not sqlite_native.available(),
    reason="the sqlite3 module's SQLite library is not a shared library this writer can find "
    "(Linux /proc/self/maps); imports then bind through the sqlite3 module",
)

Dump = dict[str, list[tuple[object, ...]]]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several chunks per table and statements of 7 rows: full statements and a tail each."""
    monkeypatch.setattr(convert, "CHUNK_ROWS", 100)
    monkeypatch.setattr(convert.arrow_chunks, "__defaults__", (100,))
    monkeypatch.setattr(sqlite_native, "WRITE_ROWS_PER_STATEMENT", 7)


@pytest.fixture
def native_inserts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows of each chunk the native writer inserted."""
    seen: list[int] = []
    real = sqlite_native.Writer.insert

    def spy(writer: sqlite_native.Writer, chunk: sqlite_native.WriteChunk) -> None:
        seen.append(chunk.rows)
        real(writer, chunk)

    monkeypatch.setattr(sqlite_native.Writer, "insert", spy)
    return seen


def _dump(path: Path) -> Dump:
    """Every canonical table: each value with its storage class, floats by their bits (so
    -0.0 and 0.0 differ), texts as bytes; rows in key order."""
    conn = sqlite3.connect(path)
    conn.text_factory = bytes
    try:
        out: Dump = {}
        for name, spec in TABLES.items():
            columns = [f'"{c}"' for c in spec.column_names]
            kinds = ", ".join(f"typeof({c})" for c in columns)
            order = ", ".join(f'"{k}"' for k in spec.key)
            rows = conn.execute(
                f'SELECT {", ".join(columns)}, {kinds} FROM "{name}" ORDER BY {order}'
            )
            out[name] = [
                tuple(float(v).hex() if isinstance(v, float) else v for v in row) for row in rows
            ]
        return out
    finally:
        conn.close()


def _import(path: Path, *tables: dict[str, pd.DataFrame]) -> list[dict[str, tuple[int, ...]]]:
    counts = []
    with open_repository(f"sqlite:///{path}") as repo:
        for i, frames in enumerate(tables):
            result = repo.import_batch(batch(frames, content_hash=f"h{i}"))
            counts.append(
                {
                    name: (c.rows, c.inserted, c.updated, c.unchanged)
                    for name, c in result.tables.items()
                }
            )
    return counts


def _both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *tables: dict[str, pd.DataFrame]
) -> tuple[Dump, Dump, list[dict[str, tuple[int, ...]]], list[dict[str, tuple[int, ...]]]]:
    """The same imports natively and through the sqlite3 module: (dumps, counts) of each."""
    native = tmp_path / "native.db"
    module = tmp_path / "module.db"
    native_counts = _import(native, *tables)
    with monkeypatch.context() as m:
        m.setattr(bulk, "SQLITE_NATIVE", False)
        module_counts = _import(module, *tables)
    return _dump(native), _dump(module), native_counts, module_counts


def _awkward(name: str, rows: int = 250, seed: int = 0) -> pd.DataFrame:
    """Table `name` with awkward values in every column kind: NULLs in optional columns,
    empty and non-ASCII texts, floats at the edges, times with microseconds."""
    spec = TABLES[name]
    frame = sample_table(name, rows=rows, seed=seed)
    texts = ["", "Müller ✓", "日本語", "x" * 300, "tab\tnew\nline", "quote'\"", "NUL\x00in"]
    floats = [0.1, 1e300, -0.0, 0.0, 5e-324, -1.5, 2.0**53 + 1, 123456789.125, 1e-300]
    for column in spec.columns:
        series = frame[column.name]
        key = column.name in spec.key
        if column.kind == "str" and not key and not column.allowed:
            values = series.to_numpy(dtype=object).copy()
            for i, text in enumerate(texts):
                values[(3 * i + 1) % rows] = text
            if not column.required:
                values[5::17] = None
            frame[column.name] = pd.Series(values, dtype=object)
        elif column.kind == "str" and key:
            values = series.to_numpy(dtype=object).copy()
            values[1::3] = [f"Müller ✓ {v}" for v in values[1::3]]
            frame[column.name] = pd.Series(values, dtype=object)
        elif column.kind == "float":
            values = series.to_numpy(dtype=np.float64).copy()
            values[: len(floats)] = floats
            if not column.required:
                values[7::13] = np.nan
            frame[column.name] = values
        elif column.kind == "int":
            values = series.to_numpy(dtype=np.int64).copy()
            values[:4] = [0, -1, 2**62, -(2**63)]
            frame[column.name] = values
        elif column.kind == "datetime":
            stamps = pd.Series(
                pd.date_range("1999-12-31 23:59:59.999999", periods=rows, freq="1001001us")
            )
            if not column.required and not key:
                stamps.iloc[3::11] = pd.NaT
            frame[column.name] = stamps.astype("datetime64[ns]")
        elif column.kind == "date" and not key and not column.required:
            dates = series.copy()
            dates.iloc[2::9] = pd.NaT
            frame[column.name] = dates
    return frame


def test_every_table_is_stored_exactly_as_the_sqlite3_module_stores_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_chunks: None,
    native_inserts: list[int],
) -> None:
    frames = {name: _awkward(name) for name in TABLES}
    frames["demand"] = demand([f"Ä{i:02d} ✓" for i in range(7)], days=61)  # 427 rows
    frames["demand"].loc[::5, "returns"] = np.nan
    frames["demand"].loc[1, "quantity"] = -0.0
    native, module, native_counts, module_counts = _both_ways(tmp_path, monkeypatch, frames)
    expected = [100, 100, 50] * (len(TABLES) - 1) + [100, 100, 100, 100, 27]
    assert sorted(native_inserts) == sorted(expected)  # every chunk of every table, natively
    assert native_counts == module_counts
    assert native == module
    kinds = {
        kind
        for rows in native.values()
        for row in rows
        for kind in row
        if kind in (b"null", b"text", b"real", b"integer")
    }
    assert kinds == {b"null", b"text", b"real"}  # no int column in the canonical tables
    items = native["items"]
    assert any(b"M\xc3\xbcller \xe2\x9c\x93" in row for row in items)  # UTF-8 bytes
    assert any(b"NUL\x00in" in row for row in items)  # the whole text, NUL included
    assert any(b"" in row for row in items)
    stamps = [v for rows in native.values() for row in rows for v in row if isinstance(v, bytes)]
    assert b"1999-12-31 23:59:59.999999" in stamps  # SQLAlchemy's text, microseconds kept
    assert b"2024-01-01" in stamps


def test_staging_merge_counts_and_rows_equal_the_sqlite3_module(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    small_chunks: None,
    native_inserts: list[int],
) -> None:
    first = {name: _awkward(name) for name in TABLES}
    first["demand"] = demand([f"I{i:02d}" for i in range(5)], days=40)
    second = {name: _awkward(name, rows=300, seed=1) for name in TABLES}
    second["items"] = first["items"].copy()
    second["items"].loc[::4, "description"] = "changed ✓"
    second["items"].loc[1::4, "description"] = None
    second["demand"] = demand([f"I{i:02d}" for i in range(3, 8)], days=40)  # 2 known, 3 new
    second["demand"].loc[::7, "quantity"] = 0.1
    native, module, native_counts, module_counts = _both_ways(tmp_path, monkeypatch, first, second)
    assert native_counts == module_counts
    assert native == module
    demand_counts = native_counts[1]["demand"]
    assert demand_counts[1] == 120 and demand_counts[2] > 0 and demand_counts[3] > 0
    assert native_counts[1]["items"][2] > 0  # rows updated through the staging table
    assert sum(native_inserts) == sum(c[0] for counts in native_counts for c in counts.values())


@pytest.mark.parametrize("existing", [False, True], ids=["empty-table", "filled-table"])
def test_a_repeated_key_rolls_back_with_the_sqlite3_modules_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, native_inserts: list[int], existing: bool
) -> None:
    frame = demand(["A", "B"], days=300, seed=1)
    frame = pd.concat([frame, frame.iloc[[450]].assign(quantity=99.0)], ignore_index=True)
    messages = []
    for native in (True, False):
        path = tmp_path / f"{native}.db"
        with open_repository(f"sqlite:///{path}") as repo:
            if existing:
                repo.import_batch(batch({"demand": demand(["A", "Z"], days=3)}, content_hash="z"))
            before = _dump(path)
            with monkeypatch.context() as m:
                m.setattr(bulk, "SQLITE_NATIVE", native)
                with pytest.raises(StorageError, match="nothing was written") as caught:
                    repo.import_batch(batch({"demand": frame}, content_hash="dup"))
            messages.append(str(caught.value))
            assert _dump(path) == before
    assert native_inserts  # the native writer met the repeated key
    assert messages[0] == messages[1]
    assert "UNIQUE constraint failed: " in messages[0]


def test_writer_errors_are_the_sqlite3_modules_exceptions(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'e.db'}")
    spec = TABLES["demand"]
    chunk = convert.to_arrow_chunk(demand(["A"], days=3), spec)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("CREATE TABLE t (item_id TEXT PRIMARY KEY, date, quantity, returns)")
        raw.execute("BEGIN")
        handle = sqlite_native.connection_handle(raw)
        assert handle is not None
        sql = 'INSERT INTO t ("item_id","date","quantity","returns") VALUES (?,?,?,?)'
        writer = sqlite_native.Writer(
            handle, lambda rows: ",".join([sql] + ["(?,?,?,?)"] * (rows - 1)), 4
        )
        ready = sqlite_native.write_chunk(chunk)
        assert ready is not None
        try:
            with pytest.raises(
                sqlite3.IntegrityError, match=r"UNIQUE constraint failed: t\.item_id"
            ) as caught:
                writer.insert(ready)
            assert caught.value.sqlite_errorcode == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
            assert caught.value.sqlite_errorname == "SQLITE_CONSTRAINT_PRIMARYKEY"
            bad = sqlite_native.Writer(handle, lambda rows: "INSERT INTO missing VALUES (?)", 1)
            with pytest.raises(sqlite3.OperationalError, match="no such table: missing"):
                bad.insert(ready)
        finally:
            writer.close()
        assert raw.in_transaction  # the caller's transaction is the caller's to end
        raw.execute("ROLLBACK")
    engine.dispose()


@pytest.fixture
def file_connection(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(tmp_path / "guard.db", isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def test_the_handle_only_inside_a_transaction_on_a_file(
    file_connection: sqlite3.Connection,
) -> None:
    assert sqlite_native.connection_handle(file_connection) is None  # no transaction
    file_connection.execute("BEGIN")
    handle = sqlite_native.connection_handle(file_connection)
    assert handle is not None
    lib = sqlite_native._library()
    assert lib is not None
    assert lib.get_autocommit(handle) == 0
    file_connection.execute("ROLLBACK")
    assert lib.get_autocommit(handle) == 1  # the very connection the module drives
    memory = sqlite3.connect(":memory:", isolation_level=None)
    memory.execute("BEGIN")
    assert sqlite_native.connection_handle(memory) is None  # no file to prove the handle by
    memory.close()
    assert sqlite_native.connection_handle(object()) is None


def test_in_memory_and_unknown_types_go_through_the_sqlite3_module(
    monkeypatch: pytest.MonkeyPatch, native_inserts: list[int]
) -> None:
    with open_repository("sqlite://") as repo:
        repo.import_batch(batch({"demand": demand(["A"], days=5)}))
        assert len(repo.read_table("demand")) == 5
    assert native_inserts == []
    odd = pa.table({"flag": pa.array([True, None]), "n": pa.array([1, 2], pa.int32())})
    assert sqlite_native.write_chunk(odd) is None


def test_texts_of_sliced_and_empty_arrays() -> None:
    texts = pa.array(["ab", None, "", "cd€"])
    offsets, data = sqlite_native._texts(texts.slice(1))
    assert offsets.tolist() == [0, 0, 0, 5] and data.tobytes() == "cd€".encode()
    offsets, data = sqlite_native._texts(pa.array([], pa.string()))
    assert offsets.tolist() == [0] and len(data) == 0
    chunk = sqlite_native.write_chunk(pa.table({"t": pa.array(["", ""])}))
    assert chunk is not None and len(chunk.text_data) >= 1  # never a NULL pointer


def test_every_column_kind_and_affinity_binds_as_the_sqlite3_module_binds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None
) -> None:
    """Int columns (none in the canonical tables yet) and columns of every affinity, through
    `bulk._sqlite_load` both ways into two tables of one file."""
    spec = Table(
        "kinds",
        "every kind",
        (
            Column("k", "str", "key"),
            Column("i", "int", "int", required=False),
            Column("f", "float", "float", required=False),
            Column("u", "int", "int, no affinity", required=False),
            Column("v", "float", "float, no affinity", required=False),
            Column("n", "float", "float, NUMERIC", required=False),
            Column("t", "str", "text", required=False),
            Column("d", "date", "date", required=False),
            Column("s", "datetime", "datetime", required=False),
        ),
        ("k",),
    )
    rows = 333
    rng = np.random.default_rng(5)
    ints = pd.array(rng.integers(-(2**62), 2**62, rows), dtype="Int64")
    ints[::7] = pd.NA
    ints[1:4] = [0, 2**63 - 1, -(2**63)]
    floats = rng.normal(0, 1e6, rows)
    floats[:8] = [0.1, 1e300, -0.0, 5e-324, np.inf, -np.inf, 3.0, np.nan]
    stamps = pd.Series(pd.date_range("1970-01-01", periods=rows, freq="3333333333us"))
    stamps.iloc[::9] = pd.NaT
    frame = pd.DataFrame(
        {
            "k": [f"k{i:04d}-ü" for i in range(rows)],
            "i": ints,
            "f": floats,
            "u": ints,
            "v": floats,
            "n": floats,
            "t": ["", "Müller ✓", None, "plain"] * (rows // 4) + ["end"] * (rows % 4),
            "d": stamps.dt.floor("D"),
            "s": stamps,
        }
    )
    engine, _ = create_engine(f"sqlite:///{tmp_path / 'kinds.db'}")  # BEGIN emitted, WAL
    columns = "k TEXT, i BIGINT, f FLOAT, u, v, n NUMERIC, t VARCHAR, d DATE, s DATETIME"
    with engine.connect() as conn:
        for name in ("native", "module"):
            conn.exec_driver_sql(f"CREATE TABLE {name} ({columns}, PRIMARY KEY (k)) WITHOUT ROWID")
        conn.commit()
    used: list[int] = []
    real = sqlite_native.Writer.insert
    monkeypatch.setattr(
        sqlite_native.Writer, "insert", lambda w, c: (used.append(c.rows), real(w, c))[1]
    )
    with write_transaction(engine) as conn:
        bulk._sqlite_load(conn, "native", spec, frame, None)
        assert used == [100, 100, 100, 33]
        monkeypatch.setattr(bulk, "SQLITE_NATIVE", False)
        bulk._sqlite_load(conn, "module", spec, frame, None)
        assert used == [100, 100, 100, 33]
    engine.dispose()
    conn2 = sqlite3.connect(tmp_path / "kinds.db")
    conn2.text_factory = bytes
    names = [c.name for c in spec.columns]
    select = ", ".join(names + [f"typeof({c})" for c in names])
    dumps = [
        [
            tuple(float(v).hex() if isinstance(v, float) else v for v in row)
            for row in conn2.execute(f"SELECT {select} FROM {table} ORDER BY k")
        ]
        for table in ("native", "module")
    ]
    conn2.close()
    assert dumps[0] == dumps[1]
    assert len(dumps[0]) == rows
    kinds = {v for row in dumps[0] for v in row[len(names) :]}
    assert kinds == {b"null", b"text", b"real", b"integer"}
    assert (b"1970-01-01 00:55:33.333333", b"1970-01-01") in {(r[8], r[7]) for r in dumps[0]}
