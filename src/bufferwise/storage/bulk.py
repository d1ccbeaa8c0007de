"""Bulk upsert of one canonical table inside the caller's transaction, per back-end.

SQLite      multi-row INSERTs, chunk by chunk: bound and stepped in compiled code without the
            GIL on the import's own connection (`sqlite_native.Writer`) where that connection
            allows it, else through sqlite3 `executemany` (1,000 rows per statement: the
            module hands the GIL over once per statement, so fewer statements let a thread
            that checks the next slice get in the way less). Into an empty table:
            straight in, secondary indexes rebuilt afterwards.
            Otherwise: into a temporary staging table keyed like the target, then one
            `INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE ... WHERE <values differ>`.
PostgreSQL  binary `COPY` (psycopg 3) of chunks encoded by NumPy (see `pgcopy`). Into an
            empty table: straight into the table with its primary key and indexes dropped and
            rebuilt afterwards (a sort instead of 10^7 index insertions). Otherwise: into a
            temporary staging table keyed like the target, then `UPDATE ... FROM staging`
            where values differ and `INSERT ... SELECT ... WHERE NOT EXISTS` for new keys.

Both count rows inserted (new key), updated (same key, other values) and unchanged, and both
refuse a key that appears twice in one batch (IntegrityError; the transaction rolls back).
`TableLoader` takes a table in slices (`add`, then `finish`) with the same result as one
`upsert` of them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from bufferwise.errors import StorageError
from bufferwise.model.schema import Table
from bufferwise.storage import sqlite_native
from bufferwise.storage.convert import arrow_chunks, check_columns, prefetch, sqlite_rows
from bufferwise.storage.pgcopy import HEADER, TRAILER, binary_rows

SQLITE_ROWS_PER_STATEMENT = 1000
SQLITE_MAX_VARIABLES = 32_766
COPY_BLOCK_BYTES = 1 << 20
SQLITE_NATIVE = True  # bind and step in compiled code where the connection allows it

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class TableCounts:
    """What one bulk upsert did to one table."""

    rows: int
    inserted: int
    updated: int
    unchanged: int

    def as_dict(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def _quoted(conn: sa.Connection, names: tuple[str, ...] | list[str]) -> list[str]:
    prepare = conn.dialect.identifier_preparer
    return [prepare.quote(n) for n in names]


def _count(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def upsert(
    conn: sa.Connection,
    table: sa.Table,
    spec: Table,
    df: pd.DataFrame,
    progress: Progress | None = None,
) -> TableCounts:
    """Upsert `df` (canonical columns of `spec`) into `table`, inside `conn`'s transaction."""
    loader = TableLoader(conn, table, spec, progress)
    loader.add(df)
    return loader.finish()


class TableLoader:
    """Bulk upsert of one table fed in slices (`add` as often as needed, then `finish` once),
    inside the caller's transaction: the same result as one `upsert` of all the slices.

    Into an empty table the slices go straight in (indexes dropped at the start and built
    again by `finish`); otherwise into a staging table that `finish` merges into the target.
    """

    def __init__(
        self, conn: sa.Connection, table: sa.Table, spec: Table, progress: Progress | None = None
    ) -> None:
        if conn.dialect.name not in ("sqlite", "postgresql"):
            raise StorageError(
                f"bulk loading supports SQLite and PostgreSQL, not {conn.dialect.name}"
            )
        self.conn = conn
        self.table = table
        self.spec = spec
        self.progress = progress
        self.rows = 0
        self.sqlite = conn.dialect.name == "sqlite"
        prepare = conn.dialect.identifier_preparer
        self.name = prepare.format_table(table)
        self.columns = _quoted(conn, spec.column_names)
        self.empty = _is_empty(conn, table)
        self.stage = prepare.quote(f"bw_stage_{table.name}")
        if self.empty:
            if not self.sqlite:
                conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
            _drop_indexes(conn, table, primary_key=not self.sqlite)
            self.target = self.name
        elif self.sqlite:
            key = _quoted(conn, spec.key)
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{self.stage}")
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE {self.stage} ({','.join(self.columns)}, "
                f"PRIMARY KEY ({','.join(key)})) WITHOUT ROWID"
            )
            self.target = f"temp.{self.stage}"
        else:
            key = _quoted(conn, spec.key)
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE {self.stage} (LIKE {self.name}) ON COMMIT DROP"
            )
            conn.exec_driver_sql(f"ALTER TABLE {self.stage} ADD PRIMARY KEY ({', '.join(key)})")
            self.target = self.stage

    def add(self, df: pd.DataFrame) -> None:
        """Load one slice (canonical columns of the table)."""
        check_columns(df, self.spec)
        if len(df) == 0:
            return
        if self.sqlite:
            _sqlite_load(self.conn, self.target, self.spec, df, self.progress)
        else:
            _copy(self.conn, self.target, self.columns, _copy_blocks(df, self.spec, self.progress))
        self.rows += len(df)

    def finish(self) -> TableCounts:
        """Build the indexes again, or merge the staged rows; count what happened."""
        if self.empty:
            _restore_indexes(self.conn, self.table, primary_key=not self.sqlite)
            return TableCounts(self.rows, self.rows, 0, 0)
        if self.sqlite:
            return _sqlite_merge(self.conn, self.table, self.spec, self.name, self.stage, self.rows)
        return _postgres_merge(self.conn, self.spec, self.name, self.stage, self.rows)


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_insert(conn: sa.Connection, target: str, columns: list[str], rows: int) -> str:
    placeholders = "(" + ",".join("?" * len(columns)) + ")"
    return f"INSERT INTO {target} ({','.join(columns)}) VALUES " + ",".join([placeholders] * rows)


def _flat_rows(df: pd.DataFrame, spec: Table) -> Iterator[tuple[int, list[object]]]:
    """(rows, one flat list of every value row after row) per chunk."""
    for chunk in arrow_chunks(df, spec):
        yield chunk.num_rows, sqlite_rows(chunk)


def _native_rows(
    df: pd.DataFrame, spec: Table
) -> Iterator[tuple[int, sqlite_native.WriteChunk | list[object]]]:
    """(rows, the chunk made ready for the native writer, or else its flat list) per chunk."""
    for chunk in arrow_chunks(df, spec):
        ready = sqlite_native.write_chunk(chunk)
        yield chunk.num_rows, ready if ready is not None else sqlite_rows(chunk)


def _sqlite_load(
    conn: sa.Connection, target: str, spec: Table, df: pd.DataFrame, progress: Progress | None
) -> None:
    """Multi-row INSERTs into `target`; a repeated key raises sqlite3.IntegrityError.

    Natively (`sqlite_native.Writer`: values bound and stepped in compiled code that lets go
    of the GIL) where `sqlite_native.connection_handle` allows it, else through the sqlite3
    module's `executemany`; the stored rows are the same either way."""
    raw = conn.connection.driver_connection
    assert raw is not None
    columns = _quoted(conn, spec.column_names)
    width = len(columns)
    per_statement = max(1, min(SQLITE_ROWS_PER_STATEMENT, SQLITE_MAX_VARIABLES // width))
    many = _sqlite_insert(conn, target, columns, per_statement)
    step = per_statement * width
    handle = sqlite_native.connection_handle(raw) if SQLITE_NATIVE else None
    writer = (
        sqlite_native.Writer(
            handle, lambda rows: _sqlite_insert(conn, target, columns, rows), width
        )
        if handle is not None
        else None
    )
    chunks = _native_rows(df, spec) if writer is not None else _flat_rows(df, spec)
    cursor = raw.cursor()
    try:
        for rows, values in prefetch(chunks):
            if isinstance(values, sqlite_native.WriteChunk):
                assert writer is not None
                writer.insert(values)
            else:
                flat = values
                full = len(flat) - len(flat) % step
                cursor.executemany(many, (flat[i : i + step] for i in range(0, full, step)))
                if full < len(flat):
                    rest = (len(flat) - full) // width
                    cursor.execute(_sqlite_insert(conn, target, columns, rest), flat[full:])
            if progress is not None:
                progress(rows)
    finally:
        cursor.close()
        if writer is not None:
            writer.close()


def _sqlite_merge(
    conn: sa.Connection, table: sa.Table, spec: Table, name: str, stage: str, rows: int
) -> TableCounts:
    raw = conn.connection.driver_connection
    assert raw is not None
    columns = _quoted(conn, spec.column_names)
    key = _quoted(conn, spec.key)
    values = _quoted(conn, [c for c in spec.column_names if c not in spec.key])
    sql = (
        f"INSERT INTO {name} ({','.join(columns)}) SELECT {','.join(columns)} "
        f"FROM temp.{stage} WHERE true ON CONFLICT ({','.join(key)}) DO "
    )
    if values:
        old = ",".join(f"{name}.{v}" for v in values)
        new = ",".join(f"excluded.{v}" for v in values)
        assign = ",".join(f"{v}=excluded.{v}" for v in values)
        sql += f"UPDATE SET {assign} WHERE ({old}) IS NOT ({new})"
    else:
        sql += "NOTHING"
    before = _count(conn, table)
    changes_before = raw.total_changes
    conn.exec_driver_sql(sql)
    changed = raw.total_changes - changes_before
    conn.exec_driver_sql(f"DROP TABLE temp.{stage}")
    inserted = _count(conn, table) - before
    updated = changed - inserted
    return TableCounts(rows, inserted, updated, rows - inserted - updated)


def _drop_indexes(conn: sa.Connection, table: sa.Table, primary_key: bool) -> None:
    """Drop the table's indexes (and primary key) for a bulk load into an empty table; they
    are built again by `_restore_indexes`, by one sort each instead of one insertion per row."""
    for index in table.indexes:
        conn.execute(DropIndex(index))
    if primary_key:
        conn.execute(DropConstraint(table.primary_key))


def _restore_indexes(conn: sa.Connection, table: sa.Table, primary_key: bool) -> None:
    if primary_key:
        conn.execute(AddConstraint(table.primary_key))
    for index in table.indexes:
        conn.execute(CreateIndex(index))


def _is_empty(conn: sa.Connection, table: sa.Table) -> bool:
    return conn.execute(sa.select(sa.exists().select_from(table))).scalar_one() is False


# --- PostgreSQL ---------------------------------------------------------------------------


def _binary_chunks(df: pd.DataFrame, spec: Table) -> Iterator[tuple[int, bytes]]:
    for chunk in arrow_chunks(df, spec):
        yield chunk.num_rows, binary_rows(chunk)


def _copy_blocks(df: pd.DataFrame, spec: Table, progress: Progress | None) -> Iterator[bytes]:
    yield HEADER
    for rows, data in prefetch(_binary_chunks(df, spec)):
        for start in range(0, len(data), COPY_BLOCK_BYTES):
            yield data[start : start + COPY_BLOCK_BYTES]
        if progress is not None:
            progress(rows)
    yield TRAILER


def _copy(conn: sa.Connection, target: str, columns: list[str], blocks: Iterator[bytes]) -> None:
    raw = conn.connection.driver_connection
    assert raw is not None
    sql = f"COPY {target} ({','.join(columns)}) FROM STDIN (FORMAT binary)"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for block in blocks:
            copy.write(block)


def _postgres_merge(
    conn: sa.Connection, spec: Table, name: str, stage: str, rows: int
) -> TableCounts:
    columns = _quoted(conn, spec.column_names)
    key = _quoted(conn, spec.key)
    conn.exec_driver_sql(f"ANALYZE {stage}")
    values = _quoted(conn, [c for c in spec.column_names if c not in spec.key])
    match = " AND ".join(f"t.{k} = s.{k}" for k in key)
    updated = 0
    if values:
        assign = ", ".join(f"{v} = s.{v}" for v in values)
        old = ", ".join(f"t.{v}" for v in values)
        new = ", ".join(f"s.{v}" for v in values)
        distinct = f"ROW({old}) IS DISTINCT FROM ROW({new})"
        result = conn.exec_driver_sql(
            f"UPDATE {name} AS t SET {assign} FROM {stage} AS s WHERE {match} AND {distinct}"
        )
        updated = result.rowcount
    result = conn.exec_driver_sql(
        f"INSERT INTO {name} ({','.join(columns)}) SELECT {','.join('s.' + c for c in columns)} "
        f"FROM {stage} AS s WHERE NOT EXISTS (SELECT 1 FROM {name} AS t WHERE {match})"
    )
    inserted = result.rowcount
    conn.exec_driver_sql(f"DROP TABLE {stage}")
    return TableCounts(rows, inserted, updated, rows - inserted - updated)
