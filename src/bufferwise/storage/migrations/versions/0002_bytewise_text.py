"""Text columns of the canonical tables compare byte by byte on PostgreSQL (collation "C").

Ids then sort and compare as they do in SQLite and in Python (`sorted()`), and the primary
key of a large table is built with memcmp and abbreviated keys instead of the database
locale's strcoll: on 10 million demand rows the key builds in 2.05-2.38 s instead of
2.32-2.45 s (benchmarks/postgres_key_benchmark.py, 3 rounds; docs/storage.md, "Benchmark").
Equality is unchanged (both collations are deterministic), so no stored key can clash. SQLite
compares text byte by byte already (its BINARY collation): nothing to do there.

Revision ID: 0002_bytewise_text
Revises: 0001_initial
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_bytewise_text"
down_revision: str | None = "0001_initial"
branch_labels: str | None = None
depends_on: str | None = None

# the text columns of the canonical tables as 0001_initial created them (column: nullable)
TEXT_COLUMNS: dict[str, dict[str, bool]] = {
    "items": {
        "item_id": False,
        "description": True,
        "category": True,
        "criticality": True,
        "supplier_id": True,
        "machine_id": True,
    },
    "demand": {"item_id": False},
    "receipts": {"po_id": False, "item_id": False, "supplier_id": False},
    "machines": {"machine_id": False, "name": True, "model": True},
    "machine_events": {"machine_id": False, "state": False, "reason": True, "component": False},
    "production_counts": {"machine_id": False},
    "wip_buffers": {
        "buffer_id": False,
        "upstream_machine_id": False,
        "downstream_machine_id": False,
        "item_id": True,
    },
}


def _retype(collation: str | None) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in TEXT_COLUMNS.items():
        for column, nullable in columns.items():
            # a new collation is not a new type: the rows stay, the indexes are rebuilt
            op.alter_column(
                table,
                column,
                type_=sa.Text(collation=collation),
                existing_type=sa.Text(),
                existing_nullable=nullable,
            )


def upgrade() -> None:
    _retype("C")


def downgrade() -> None:
    _retype(None)
