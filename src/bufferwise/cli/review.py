"""The review cycle: `review`, `approve`, `history`."""

from __future__ import annotations

import getpass
import os
from enum import StrEnum
from pathlib import Path

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


def register(app: typer.Typer) -> None:
    app.command("review")(review_cmd)
    app.command("approve")(approve_cmd)
    app.command("history")(history_cmd)


def review_cmd(
    settings_file: Path | None = typer.Option(
        None, "--settings", "-s", help="Settings file (TOML): [review] horizon_days and tolerance."
    ),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
    limit: int = typer.Option(
        50, "--limit", help="Rows to print in table format (csv/json print all)."
    ),
) -> None:
    """Items whose recommended level moved, whose stance changed, whose risk drifted, or whose
    approval is too old, ordered by money at stake."""

    def body() -> None:
        from bufferwise.services.review import review_database
        from bufferwise.settings import load_settings

        settings = load_settings(settings_file)
        recs, queue = review_database(existing_db_url(), settings.review)
        rows = queue.to_dict(orient="records")
        if fmt is OutputFormat.table:
            compact = [
                {
                    "item_id": r["item_id"],
                    "reasons": r["reasons"],
                    "money_at_stake": f"{r['money_at_stake']:,.0f}",
                    "stance": f"{r['stance_approved'] or '-'} -> {r['stance_recommended']}",
                    "safety_stock": f"{_num(r['safety_stock_approved'])} -> "
                    f"{_num(r['safety_stock_recommended'])}",
                    "what_changed": r["what_changed"],
                }
                for r in rows[: max(limit, 0)]
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
            print_more(len(rows) - max(limit, 0))
            console.print(
                "reasons: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
            )
        else:
            emit_rows(rows, fmt)

    run_guarded(body)


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
        30, "--limit", help="Approved rows to print in table format (csv/json print all)."
    ),
) -> None:
    """Approve the latest recommendations (all, by filter or by item) as new policy versions;
    earlier versions are kept."""

    def body() -> None:
        from bufferwise.services.review import approve_database
        from bufferwise.settings import load_settings

        user = by or os.environ.get("BUFFERWISE_USER") or getpass.getuser()
        settings = load_settings(settings_file)
        done = approve_database(
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
            console.print(f"approved {len(done)} item(s) as {user}")
        emit_frame(done, fmt, limit=limit)

    run_guarded(body)


def history_cmd(
    item_id: str = typer.Argument(..., help="The item whose approved versions to list."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f", help="Output format."),
) -> None:
    """Every approved version of one item, oldest first."""

    def body() -> None:
        from bufferwise.services.review import history_database

        hist = history_database(existing_db_url(), item_id)
        emit_frame(hist, fmt, title=f"policy history of {item_id}")

    run_guarded(body)
