"""SQLAlchemy Core tables. The canonical ones are generated from `bufferwise.model.schema`.

Canonical tables (items, demand, ...): the table key is the primary key; key columns and
required columns without a default are NOT NULL. References between canonical tables
(demand.item_id -> items.item_id, ...) are checked by ingest validation, not by foreign keys,
so that a plant may store demand without an item master.

Bookkeeping tables
    imports      one row per imported file (grouped by batch_id)
    runs         one row per profile / size / analyze run; 'running' until finished
    run_outputs  result tables of a run, one Parquet blob per (run_id, name)
    policies     decided buffer levels, one row per (item_id, version); append-only: an
                 approval or a rejection (which keeps the levels, and names what it turned down)
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from bufferwise.model.schema import TABLES, Column, Table

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQL_TYPES: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "str": sa.Text,
    "float": sa.Float,
    "int": sa.BigInteger,
    "date": sa.Date,
    "datetime": sa.DateTime,
}

BYTEWISE_COLLATION = "C"  # PostgreSQL collation of the canonical tables' text columns

# Columns worth an index of their own (when they do not already lead the primary key).
INDEXED_COLUMNS = frozenset(
    {
        "item_id",
        "machine_id",
        "supplier_id",
        "upstream_machine_id",
        "downstream_machine_id",
        "order_date",
        "received_date",
        "start",
    }
)

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _not_null(spec: Table, column: Column) -> bool:
    return column.name in spec.key or (column.required and column.default is None)


def _sql_type(kind: str) -> sa.types.TypeEngine[Any]:
    """The column type of a canonical column. Text takes the "C" collation on PostgreSQL: ids
    compare byte by byte there as they do in SQLite and in Python, and the primary key of a
    large table builds faster (memcmp and abbreviated keys instead of the locale's strcoll)."""
    if kind == "str":
        return sa.Text().with_variant(sa.Text(collation=BYTEWISE_COLLATION), "postgresql")
    return SQL_TYPES[kind]()


def _canonical_table(spec: Table) -> sa.Table:
    columns = [
        sa.Column(c.name, _sql_type(c.kind), nullable=not _not_null(spec, c)) for c in spec.columns
    ]
    indexes = [
        sa.Index(None, c.name)
        for c in spec.columns
        if c.name in INDEXED_COLUMNS and c.name != spec.key[0]
    ]
    return sa.Table(
        spec.name,
        metadata,
        *columns,
        sa.PrimaryKeyConstraint(*spec.key),
        *indexes,
        sqlite_with_rowid=False,  # one B-tree per table: faster bulk loads and key lookups
    )


CANONICAL: dict[str, sa.Table] = {name: _canonical_table(spec) for name, spec in TABLES.items()}

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("import_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.Text, nullable=False),
    sa.Column("file", sa.Text, nullable=False),
    sa.Column("content_hash", sa.Text, nullable=False),
    sa.Column("mapping", sa.Text, nullable=False),
    sa.Column("tables", sa.JSON, nullable=False),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("rows_accepted", sa.Integer, nullable=False),
    sa.Column("rows_rejected", sa.Integer, nullable=False),
    sa.Column("rows_warned", sa.Integer, nullable=False),
    sa.Column("rows_inserted", sa.BigInteger, nullable=False),
    sa.Column("rows_updated", sa.BigInteger, nullable=False),
    sa.Column("rows_unchanged", sa.BigInteger, nullable=False),
    sa.Column("table_counts", sa.JSON, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("problems", sa.JSON, nullable=False),
    sa.Index(None, "content_hash", "mapping"),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=True),
    sa.Column("code_version", sa.Text, nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("timings", sa.JSON, nullable=True),
    sa.Column("message", sa.Text, nullable=True),
    sa.Index(None, "kind", "status"),
)

run_outputs = sa.Table(
    "run_outputs",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.PrimaryKeyConstraint("run_id", "name"),
    sa.Index(None, "name"),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("item_id", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("safety_stock", sa.Float, nullable=False),
    sa.Column("reorder_point", sa.Float, nullable=False),
    sa.Column("order_up_to", sa.Float, nullable=True),
    sa.Column("stance", sa.Text, nullable=False),
    sa.Column("approved_at", sa.DateTime, nullable=False),
    sa.Column("approved_by", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.run_id"), nullable=True),
    # 'approved' or 'rejected' (migration 0003_policy_decisions; older rows read 'approved')
    sa.Column("decision", sa.Text, nullable=False, server_default="approved"),
    # a rejection: the recommendation turned down (the levels above are the ones kept)
    sa.Column("rejected_safety_stock", sa.Float, nullable=True),
    sa.Column("rejected_reorder_point", sa.Float, nullable=True),
    sa.Column("rejected_stance", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("item_id", "version"),
)

BOOKKEEPING: dict[str, sa.Table] = {t.name: t for t in (imports, runs, run_outputs, policies)}


def canonical(name: str) -> sa.Table:
    """The SQL table of canonical table `name` (KeyError names the known ones)."""
    try:
        return CANONICAL[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; expected one of {', '.join(CANONICAL)}") from None
