"""Policies record decisions: a version is an approval or a rejection of a recommendation.

`decision` says which ('approved' or 'rejected'; the rows already stored were approvals, so the
column's server default 'approved' fills them). A rejection keeps the plant's levels in
safety_stock / reorder_point / order_up_to / stance and records the recommendation it turned
down in rejected_safety_stock, rejected_reorder_point and rejected_stance (NULL for an
approval): the review queue compares later recommendations with what was turned down.

Revision ID: 0003_policy_decisions
Revises: 0002_bytewise_text
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_policy_decisions"
down_revision: str | None = "0002_bytewise_text"
branch_labels: str | None = None
depends_on: str | None = None

REJECTED = ("rejected_safety_stock", "rejected_reorder_point", "rejected_stance")


def upgrade() -> None:
    op.add_column(
        "policies",
        sa.Column("decision", sa.Text(), server_default="approved", nullable=False),
    )
    op.add_column("policies", sa.Column("rejected_safety_stock", sa.Float(), nullable=True))
    op.add_column("policies", sa.Column("rejected_reorder_point", sa.Float(), nullable=True))
    op.add_column("policies", sa.Column("rejected_stance", sa.Text(), nullable=True))


def downgrade() -> None:
    # batch mode: SQLite rebuilds the table, PostgreSQL drops the columns in place
    with op.batch_alter_table("policies") as batch:
        for column in (*reversed(REJECTED), "decision"):
            batch.drop_column(column)
