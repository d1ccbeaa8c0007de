"""The review cycle: `review`, `approve`, `reject`, `history`."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from bufferwise.cli.common import (
    OutputFormat,
    console,
    emit_frame,
    emit_rows,
    existing_db_url,
    print_more,
    run_guarded,
)


class Stance(StrEnum):
    """The stances `decide` recommends (bufferwise.decide.stance.STANCES, least stock first)."""

    jit = "jit"
    lean = "lean"
    buffer = "buffer"
    strategic = "strategic"


DONE = {"approve": "approved", "reject": "rejected"}

# the columns `approve` / `reject` print in table format (csv and json carry every column)
_STORED = ("approved_at", "approved_by", "note", "run_id")
TABLE_COLUMNS = {
    "approve": (
        "item_id",
        "version",
        "safety_stock",
        "reorder_point",
        "order_up_to",
        "stance",
        *_STORED,
    ),
    "reject": (
        "item_id",
        "version",
        "safety_stock",
        "reorder_point",
        "stance",
        "rejected_safety_stock",
        "rejected_reorder_point",
        "rejected_stance",
        *_STORED,
    ),
}


def register(app: typer.Typer) -> None:
    app.command("review")(review_cmd)
    app.command("approve")(approve_cmd)
    app.command("reject")(reject_cmd)
    app.command("history")(history_cmd)


def review_cmd(
    settings_file: Path | None = typer.Option(
        None, "--settings", "-s", help="Settings file (TOML): [review] horizon_days and tolerance."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    limit: int = typer.Option(
        50, "--limit", min=1, help="Rows to print in table format (csv/json print all)."
    ),
) -> None:
    """Items never decided, or whose recommended level moved or stance changed since the last
    approval (or from the recommendation last rejected), whose risk drifted, or whose last
    decision is too old, ordered by money at stake."""

    def body() -> None:
        from bufferwise.services.review import review_database
        from bufferwise.settings import load_settings

        settings = load_settings(settings_file)
        recs, queue = review_database(existing_db_url(), settings.review)
        rows = queue.to_dict(orient="records")
        if fmt is OutputFormat.table:
            # after a rejection the recommendation is compared with the rejected one
            compact = [
                {
                    "item_id": r["item_id"],
                    "reasons": r["reasons"],
                    "money_at_stake": f"{r['money_at_stake']:,.0f}",
                    "stance": f"{_was(r, 'stance')} -> {r['stance_recommended']}",
                    "safety_stock": f"{_was(r, 'safety_stock')} -> "
                    f"{_num(r['safety_stock_recommended'])}",
                    "what_changed": r["what_changed"],
                }
                for r in rows[:limit]
            ]
            emit_rows(
                compact,
                fmt,
                title=f"review queue: {len(rows)} of {len(recs.table)} items "
                f"(analysis run {recs.run_id})",
            )
            counts = (
                queue["reasons"].str.split(";").explode().value_counts().to_dict()
                if len(queue)
                else {}
            )
            print_more(len(rows) - limit)
            console.print(
                "reasons: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
            )
        else:
            emit_rows(rows, fmt)

    run_guarded(body)


def _was(row: Mapping[Any, Any], name: str) -> str:
    """The approved `name` of a review row, or the rejected one (marked) after a rejection."""
    if row.get("decision") == "rejected":
        value = row[f"{name}_rejected"]
        return f"{value if name == 'stance' else _num(value)} (rejected)"
    value = row[f"{name}_approved"]
    return (value or "-") if name == "stance" else _num(value)


def _num(v: object) -> str:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "-"
    return "-" if f != f else f"{f:,.1f}"


def approve_cmd(
    item: list[str] | None = typer.Option(
        None, "--item", "-i", help="Approve this item (repeatable)."
    ),
    stance: list[Stance] | None = typer.Option(
        None,
        "--stance",
        help="Approve items with this recommended stance (repeatable).",
    ),
    category: list[str] | None = typer.Option(
        None, "--category", help="Approve items of this category (repeatable)."
    ),
    supplier: list[str] | None = typer.Option(
        None, "--supplier", help="Approve items of this supplier (repeatable)."
    ),
    all_items: bool = typer.Option(False, "--all", help="Approve every item's recommendation."),
    in_review: bool = typer.Option(False, "--in-review", help="Only items in the review queue."),
    by: str | None = typer.Option(
        None, "--by", help="Who approves (default: $BUFFERWISE_USER, else the login name)."
    ),
    note: str = typer.Option("", "--note", help="A note stored with each approved version."),
    settings_file: Path | None = typer.Option(
        None, "--settings", "-s", help="Settings file (TOML), for --in-review."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    limit: int = typer.Option(
        30, "--limit", min=1, help="Approved rows to print in table format (csv/json print all)."
    ),
) -> None:
    """Approve the latest recommendations (all, by filter or by item) as new policy versions;
    earlier versions are kept."""
    _decide(
        "approve",
        by=by,
        note=note,
        item=item,
        stance=stance,
        category=category,
        supplier=supplier,
        all_items=all_items,
        in_review=in_review,
        settings_file=settings_file,
        fmt=fmt,
        limit=limit,
    )


def reject_cmd(
    note: str = typer.Option(
        ...,
        "--note",
        help="Why the recommendation is rejected (required), stored with each version.",
    ),
    item: list[str] | None = typer.Option(
        None, "--item", "-i", help="Reject this item's recommendation (repeatable)."
    ),
    stance: list[Stance] | None = typer.Option(
        None,
        "--stance",
        help="Reject items with this recommended stance (repeatable).",
    ),
    category: list[str] | None = typer.Option(
        None, "--category", help="Reject items of this category (repeatable)."
    ),
    supplier: list[str] | None = typer.Option(
        None, "--supplier", help="Reject items of this supplier (repeatable)."
    ),
    all_items: bool = typer.Option(False, "--all", help="Reject every item's recommendation."),
    in_review: bool = typer.Option(False, "--in-review", help="Only items in the review queue."),
    by: str | None = typer.Option(
        None, "--by", help="Who rejects (default: $BUFFERWISE_USER, else the login name)."
    ),
    settings_file: Path | None = typer.Option(
        None, "--settings", "-s", help="Settings file (TOML), for --in-review."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    limit: int = typer.Option(
        30, "--limit", min=1, help="Rejected rows to print in table format (csv/json print all)."
    ),
) -> None:
    """Reject the latest recommendations (all, by filter or by item), with the reason: each
    item keeps its current levels, recorded as a new version that names the recommendation
    turned down; the item returns to the review queue when the recommendation moves beyond
    [review] tolerance from it."""
    _decide(
        "reject",
        by=by,
        note=note,
        item=item,
        stance=stance,
        category=category,
        supplier=supplier,
        all_items=all_items,
        in_review=in_review,
        settings_file=settings_file,
        fmt=fmt,
        limit=limit,
    )


def _decide(
    verb: str,
    *,
    by: str | None,
    note: str,
    item: list[str] | None,
    stance: list[Stance] | None,
    category: list[str] | None,
    supplier: list[str] | None,
    all_items: bool,
    in_review: bool,
    settings_file: Path | None,
    fmt: OutputFormat,
    limit: int,
) -> None:
    """`approve` or `reject` the selected items' latest recommendations."""

    def body() -> None:
        from bufferwise.services.review import approve_database, reject_database
        from bufferwise.settings import load_settings

        user = by or os.environ.get("BUFFERWISE_USER") or getpass.getuser()
        settings = load_settings(settings_file)
        record = approve_database if verb == "approve" else reject_database
        done = record(
            existing_db_url(),
            by=user,
            note=note,
            item_ids=item or (),
            stances=[s.value for s in stance or ()],
            categories=category or (),
            suppliers=supplier or (),
            all_items=all_items,
            in_review_only=in_review,
            review_settings=settings.review,
        )
        if fmt is OutputFormat.table:
            console.print(f"{DONE[verb]} {len(done)} item(s) as {user}")
        emit_frame(done, fmt, columns=TABLE_COLUMNS[verb], limit=limit)

    run_guarded(body)


def history_cmd(
    item_id: str = typer.Argument(
        ..., metavar="ITEM_ID", help="The item whose versions (approvals and rejections) to list."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
) -> None:
    """Every version of one item, oldest first: approvals, and rejections with the levels kept
    and the ones turned down."""

    def body() -> None:
        from bufferwise.services.review import history_database

        hist = history_database(existing_db_url(), item_id)
        shown = [c for c in hist.columns if c != "item_id"]  # table format: in the title
        emit_frame(hist, fmt, title=f"policy history of {item_id}", columns=shown)

    run_guarded(body)
