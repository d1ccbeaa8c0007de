"""Initial schema: the seven canonical tables, imports, runs, run_outputs and policies.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "demand",
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("returns", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("item_id", "date", name=op.f("pk_demand")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "imports",
        sa.Column("import_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.Text(), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("tables", sa.JSON(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("rows_warned", sa.Integer(), nullable=False),
        sa.Column("rows_inserted", sa.BigInteger(), nullable=False),
        sa.Column("rows_updated", sa.BigInteger(), nullable=False),
        sa.Column("rows_unchanged", sa.BigInteger(), nullable=False),
        sa.Column("table_counts", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_imports")),
    )
    op.create_index(
        op.f("ix_imports_content_hash_mapping"),
        "imports",
        ["content_hash", "mapping"],
        unique=False,
    )
    op.create_table(
        "items",
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("unit_cost", sa.Float(), nullable=False),
        sa.Column("holding_rate", sa.Float(), nullable=True),
        sa.Column("stockout_cost", sa.Float(), nullable=True),
        sa.Column("criticality", sa.Text(), nullable=True),
        sa.Column("supplier_id", sa.Text(), nullable=True),
        sa.Column("nominal_lead_time_days", sa.Float(), nullable=False),
        sa.Column("review_period_days", sa.Float(), nullable=True),
        sa.Column("moq", sa.Float(), nullable=True),
        sa.Column("order_multiple", sa.Float(), nullable=True),
        sa.Column("order_cost", sa.Float(), nullable=True),
        sa.Column("current_safety_stock", sa.Float(), nullable=True),
        sa.Column("current_reorder_point", sa.Float(), nullable=True),
        sa.Column("buffer_set_on", sa.Date(), nullable=True),
        sa.Column("machine_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_items")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_items_machine_id"), "items", ["machine_id"], unique=False)
    op.create_index(op.f("ix_items_supplier_id"), "items", ["supplier_id"], unique=False)
    op.create_table(
        "machine_events",
        sa.Column("machine_id", sa.Text(), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("component", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "machine_id", "start", "state", "component", name=op.f("pk_machine_events")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_machine_events_start"), "machine_events", ["start"], unique=False)
    op.create_table(
        "machines",
        sa.Column("machine_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("ideal_cycle_time_s", sa.Float(), nullable=True),
        sa.Column("planned_hours_per_day", sa.Float(), nullable=True),
        sa.Column("age_years", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("machine_id", name=op.f("pk_machines")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "production_counts",
        sa.Column("machine_id", sa.Text(), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("end", sa.DateTime(), nullable=False),
        sa.Column("total_count", sa.Float(), nullable=False),
        sa.Column("good_count", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("machine_id", "start", name=op.f("pk_production_counts")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_production_counts_start"), "production_counts", ["start"], unique=False
    )
    op.create_table(
        "receipts",
        sa.Column("po_id", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("supplier_id", sa.Text(), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("received_date", sa.Date(), nullable=False),
        sa.Column("qty_ordered", sa.Float(), nullable=False),
        sa.Column("qty_received", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("po_id", "item_id", name=op.f("pk_receipts")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_receipts_item_id"), "receipts", ["item_id"], unique=False)
    op.create_index(op.f("ix_receipts_order_date"), "receipts", ["order_date"], unique=False)
    op.create_index(op.f("ix_receipts_received_date"), "receipts", ["received_date"], unique=False)
    op.create_index(op.f("ix_receipts_supplier_id"), "receipts", ["supplier_id"], unique=False)
    op.create_table(
        "runs",
        sa.Column("run_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("code_version", sa.Text(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("timings", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_kind_status"), "runs", ["kind", "status"], unique=False)
    op.create_table(
        "wip_buffers",
        sa.Column("buffer_id", sa.Text(), nullable=False),
        sa.Column("upstream_machine_id", sa.Text(), nullable=False),
        sa.Column("downstream_machine_id", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=True),
        sa.Column("current_level", sa.Float(), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("buffer_id", name=op.f("pk_wip_buffers")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_wip_buffers_downstream_machine_id"),
        "wip_buffers",
        ["downstream_machine_id"],
        unique=False,
    )
    op.create_index(op.f("ix_wip_buffers_item_id"), "wip_buffers", ["item_id"], unique=False)
    op.create_index(
        op.f("ix_wip_buffers_upstream_machine_id"),
        "wip_buffers",
        ["upstream_machine_id"],
        unique=False,
    )
    op.create_table(
        "policies",
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("safety_stock", sa.Float(), nullable=False),
        sa.Column("reorder_point", sa.Float(), nullable=False),
        sa.Column("order_up_to", sa.Float(), nullable=True),
        sa.Column("stance", sa.Text(), nullable=False),
        sa.Column("approved_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_policies_run_id_runs")),
        sa.PrimaryKeyConstraint("item_id", "version", name=op.f("pk_policies")),
    )
    op.create_table(
        "run_outputs",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_run_outputs_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "name", name=op.f("pk_run_outputs")),
    )
    op.create_index(op.f("ix_run_outputs_name"), "run_outputs", ["name"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_run_outputs_name"), table_name="run_outputs")
    op.drop_table("run_outputs")
    op.drop_table("policies")
    op.drop_index(op.f("ix_wip_buffers_upstream_machine_id"), table_name="wip_buffers")
    op.drop_index(op.f("ix_wip_buffers_item_id"), table_name="wip_buffers")
    op.drop_index(op.f("ix_wip_buffers_downstream_machine_id"), table_name="wip_buffers")
    op.drop_table("wip_buffers")
    op.drop_index(op.f("ix_runs_kind_status"), table_name="runs")
    op.drop_table("runs")
    op.drop_index(op.f("ix_receipts_supplier_id"), table_name="receipts")
    op.drop_index(op.f("ix_receipts_received_date"), table_name="receipts")
    op.drop_index(op.f("ix_receipts_order_date"), table_name="receipts")
    op.drop_index(op.f("ix_receipts_item_id"), table_name="receipts")
    op.drop_table("receipts")
    op.drop_index(op.f("ix_production_counts_start"), table_name="production_counts")
    op.drop_table("production_counts")
    op.drop_table("machines")
    op.drop_index(op.f("ix_machine_events_start"), table_name="machine_events")
    op.drop_table("machine_events")
    op.drop_index(op.f("ix_items_supplier_id"), table_name="items")
    op.drop_index(op.f("ix_items_machine_id"), table_name="items")
    op.drop_table("items")
    op.drop_index(op.f("ix_imports_content_hash_mapping"), table_name="imports")
    op.drop_table("imports")
    op.drop_table("demand")
