"""Reads: canonical tables as typed DataFrames, counts, known ids and machine cycle times,
whole-database snapshots."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pandas as pd
import sqlalchemy as sa

from bufferwise.model.schema import TABLES
from bufferwise.storage import tables as t
from bufferwise.storage.fetch import (
    SPLIT_MIN_BYTES,
    STATE_SQL,
    TableRead,
    cores,
    fetch_frame,
    read_sqlite_file,
    sqlite_file,
)
from bufferwise.storage.sqlite_native import read_native

# known_ids() key -> (table, column) pairs whose stored values are that kind of id
ID_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "item_id": (("items", "item_id"),),
    "machine_id": (("machines", "machine_id"),),
    "supplier_id": (("items", "supplier_id"), ("receipts", "supplier_id")),
}


def _where(table: sa.Table, filters: dict[str, Any]) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    for name, value in filters.items():
        if name not in table.c:
            raise KeyError(
                f"table {table.name} has no column {name!r}; filter on one of "
                f"{', '.join(table.c.keys())}"
            )
        column = table.c[name]
        if isinstance(value, Collection) and not isinstance(value, str | bytes):
            clauses.append(column.in_(list(value)))
        elif value is None:
            clauses.append(column.is_(None))
        else:
            clauses.append(column == value)
    return clauses


def read_table(conn: sa.Connection, name: str, filters: dict[str, Any]) -> pd.DataFrame:
    """Rows of canonical table `name`, ordered by key (text by bytes on both back-ends);
    filters `column=value` or `column=[values]`.

    Dtypes: str -> object, float -> float64, int -> int64 (Int64 with gaps), date and
    datetime -> datetime64[ns]. See `fetch` for how rows travel.
    """
    table = t.canonical(name)
    spec = TABLES[name]
    stmt = (
        sa.select(*[table.c[c] for c in spec.column_names])
        .where(*_where(table, filters))
        .order_by(*[bytewise(conn, table.c[k]) for k in spec.key])
    )
    return fetch_frame(conn, stmt, spec)


def read_tables(conn: sa.Connection, names: Collection[str]) -> dict[str, pd.DataFrame]:
    """Canonical tables `names` in full, as `read_table` gives them. From a SQLite file of
    some size they all come from one committed state, read in compiled code by threads of this
    process (`sqlite_native`) or, where that cannot run, by child processes (`fetch`)."""
    for name in names:
        t.canonical(name)  # KeyError names the known tables
    found = sqlite_file(conn)
    if found is not None and names:
        path, size = found
        parts = _children(conn, list(names), size)
        frames = read_native(path, parts, STATE_SQL)
        if frames is None:
            frames = read_sqlite_file(path, parts)
        if frames is not None:
            return frames
    return {name: read_table(conn, name, {}) for name in names}


def _table_read(name: str, where: str = "", part: int = 0) -> TableRead:
    table = t.canonical(name)
    spec = TABLES[name]
    return TableRead(
        name=name,
        spec=spec,
        nullable=tuple(bool(table.c[c].nullable) for c in spec.column_names),
        order=spec.key,
        where=where,
        part=part,
    )


def _children(conn: sa.Connection, names: list[str], size: int) -> list[list[TableRead]]:
    """The reads of each child: demand, the one table that grows with items x days, is cut in
    two at the middle item id when the file is large and two cores are free."""
    if "demand" not in names or size < SPLIT_MIN_BYTES or cores() < 2:
        return [[_table_read(name) for name in names]]
    items = t.canonical("items")
    middle = conn.execute(
        sa.select(items.c.item_id)
        .order_by(items.c.item_id)
        .offset(sa.select(sa.func.count() // 2).select_from(items).scalar_subquery())
        .limit(1)
    ).scalar_one_or_none()
    if middle is None:
        return [[_table_read(name) for name in names]]
    cut = "'" + str(middle).replace("'", "''") + "'"
    first = [_table_read("demand", f'"item_id" < {cut}', 0)]
    first += [_table_read(name) for name in names if name != "demand"]
    return [first, [_table_read("demand", f'"item_id" >= {cut}', 1)]]


def bytewise(conn: sa.Connection, column: sa.Column[Any]) -> sa.ColumnElement[Any]:
    """Order text by its bytes on every back-end (SQLite's BINARY collation; PostgreSQL "C"),
    so that both give the same row order (that of Python's sorted())."""
    if conn.dialect.name == "postgresql" and isinstance(column.type, sa.Text):
        return column.collate(t.BYTEWISE_COLLATION)
    return column


def table_counts(conn: sa.Connection) -> dict[str, int]:
    """Rows stored per canonical table."""
    return {
        name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        for name, table in t.CANONICAL.items()
    }


def known_ids(conn: sa.Connection) -> dict[str, set[str]]:
    """Stored ids by kind: {'item_id': {...}, 'machine_id': {...}, 'supplier_id': {...}}."""
    out: dict[str, set[str]] = {}
    for kind, sources in ID_SOURCES.items():
        ids: set[str] = set()
        for table_name, column_name in sources:
            column = t.canonical(table_name).c[column_name]
            stmt = sa.select(column).where(column.is_not(None), column != "").distinct()
            ids.update(conn.execute(stmt).scalars())
        out[kind] = ids
    return out


def cycle_times(conn: sa.Connection) -> dict[str, float]:
    """Stored machines' ideal cycle times: {machine_id: ideal_cycle_time_s}, for the machines
    that have one."""
    machines = t.canonical("machines")
    ict = machines.c["ideal_cycle_time_s"]
    stmt = sa.select(machines.c["machine_id"], ict).where(ict.is_not(None))
    return {str(m): float(v) for m, v in conn.execute(stmt)}


def snapshot(conn: sa.Connection) -> dict[str, pd.DataFrame]:
    """Every table's full contents, ordered by primary key (for before/after comparisons)."""
    out: dict[str, pd.DataFrame] = {}
    for table in (*t.CANONICAL.values(), *t.BOOKKEEPING.values()):
        order = list(table.primary_key.columns)
        rows = conn.execute(sa.select(table).order_by(*order)).all()
        out[table.name] = pd.DataFrame([tuple(r) for r in rows], columns=list(table.c.keys()))
    return out
