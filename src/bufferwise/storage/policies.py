"""Decided buffer levels, versioned per item. Append-only: every decision adds a version.

A version is an approval (decision 'approved': the recommended levels become the policy) or a
rejection (decision 'rejected': the plant keeps the levels it has, stored as the version's
levels, and the recommendation turned down is kept in rejected_*). Either way the latest
version's levels are the item's current policy.

safety_stock, reorder_point, order_up_to   [units]
stance                                       where the item sits, e.g. 'jit', 'lean', 'jic'
rejected_safety_stock, rejected_reorder_point [units], rejected_stance
                                             a rejection: the recommendation turned down
approved_at, approved_by                     when (UTC) and by whom the version was decided
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa

from bufferwise.errors import InvalidInput, Problem
from bufferwise.storage import tables as t
from bufferwise.storage.imports import utcnow
from bufferwise.storage.reads import bytewise

Decision = Literal["approved", "rejected"]
DECISIONS: tuple[Decision, ...] = ("approved", "rejected")

REQUIRED = ("item_id", "safety_stock", "reorder_point", "stance")
#: a rejection must say what it turned down
REQUIRED_REJECTED = ("rejected_safety_stock", "rejected_reorder_point", "rejected_stance")
OPTIONAL = ("order_up_to", "run_id", "note")
LEVELS = ("safety_stock", "reorder_point", "order_up_to")
REJECTED_LEVELS = ("rejected_safety_stock", "rejected_reorder_point")
COLUMNS = tuple(t.policies.c.keys())
_VERB = {"approved": "approve", "rejected": "reject"}


def _problem(row: int, column: str | None, value: object, expected: str, what: str) -> Problem:
    return Problem(what, row, column, None if value is None else str(value), expected)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _clean(
    rows: pd.DataFrame | Iterable[Mapping[str, Any]], decision: Decision
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = (
        [{str(k): v for k, v in r.items()} for r in rows.to_dict("records")]
        if isinstance(rows, pd.DataFrame)
        else [dict(r) for r in rows]
    )
    what = "approval" if decision == "approved" else "rejection"
    rejecting = decision == "rejected"
    problems: list[Problem] = []
    seen: set[str] = set()
    out = []
    for number, record in enumerate(records, start=1):
        for column in REQUIRED + (REQUIRED_REJECTED if rejecting else ()):
            if _missing(record.get(column)):
                problems.append(_problem(number, column, None, "is required", what))
        if not rejecting:
            for column in REQUIRED_REJECTED:
                if not _missing(record.get(column)):
                    problems.append(
                        _problem(number, column, record[column], "is only for a rejection", what)
                    )
        item = record.get("item_id")
        if item is not None and str(item) in seen:
            problems.append(_problem(number, "item_id", item, f"appears twice in one {what}", what))
        seen.add(str(item))
        for column in LEVELS + (REJECTED_LEVELS if rejecting else ()):
            value = record.get(column)
            if _missing(value):
                continue
            try:
                number_value = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                number_value = math.nan
            if not math.isfinite(number_value) or number_value < 0:
                problems.append(_problem(number, column, value, "must be a number >= 0", what))
        run_id = record.get("run_id")
        rejected_stance = record.get("rejected_stance") if rejecting else None
        out.append(
            {
                "item_id": str(item),
                "safety_stock": record.get("safety_stock"),
                "reorder_point": record.get("reorder_point"),
                "order_up_to": record.get("order_up_to"),
                "stance": str(record.get("stance")),
                "run_id": None if run_id is None or pd.isna(run_id) else int(run_id),
                "note": record.get("note"),
                "decision": decision,
                "rejected_safety_stock": record.get("rejected_safety_stock") if rejecting else None,
                "rejected_reorder_point": (
                    record.get("rejected_reorder_point") if rejecting else None
                ),
                "rejected_stance": None if _missing(rejected_stance) else str(rejected_stance),
            }
        )
    if problems:
        raise InvalidInput(
            f"cannot {_VERB[decision]}: {problems[0].message()} ({len(problems)} problem(s))",
            problems,
        )
    for record in out:
        for column in LEVELS + REJECTED_LEVELS:
            value = record[column]
            record[column] = None if value is None or pd.isna(value) else float(value)
    return out


def record(
    conn: sa.Connection,
    rows: pd.DataFrame | Iterable[Mapping[str, Any]],
    by: str,
    note: str,
    decision: Decision,
) -> pd.DataFrame:
    """Add one version per row with this decision; the stored rows, with their versions.

    A rejection needs a reason: each row's note, else `note`, must not be empty."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    verb = _VERB[decision]
    if not by or not by.strip():
        raise InvalidInput(f"cannot {verb}: say who {verb}s (a user name)")
    records = _clean(rows, decision)
    if not records:
        return _frame([])
    for r in records:
        r["note"] = str(r["note"]) if r["note"] not in (None, "") else note
    if decision == "rejected":
        silent = [r["item_id"] for r in records if not str(r["note"] or "").strip()]
        if silent:
            raise InvalidInput(
                f"cannot reject: say why (a note) for item(s) {', '.join(silent[:10])}"
                + (", ..." if len(silent) > 10 else "")
            )
    table = t.policies
    latest = dict(
        conn.execute(
            sa.select(table.c.item_id, sa.func.max(table.c.version)).group_by(table.c.item_id)
        ).all()
    )
    decided_at = utcnow()
    for r in records:
        r["version"] = int(latest.get(r["item_id"], 0)) + 1
        r["approved_at"] = decided_at
        r["approved_by"] = by.strip()
    conn.execute(table.insert(), records)
    return _frame([tuple(r[c] for c in COLUMNS) for r in records])


def approve(
    conn: sa.Connection,
    rows: pd.DataFrame | Iterable[Mapping[str, Any]],
    by: str,
    note: str,
) -> pd.DataFrame:
    """New approved versions: the rows' levels become the items' policy."""
    return record(conn, rows, by, note, "approved")


def reject(
    conn: sa.Connection,
    rows: pd.DataFrame | Iterable[Mapping[str, Any]],
    by: str,
    note: str,
) -> pd.DataFrame:
    """New rejected versions: the rows' levels are the ones kept, rejected_* the
    recommendation turned down; a note (the reason) is required."""
    return record(conn, rows, by, note, "rejected")


def _frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in LEVELS + REJECTED_LEVELS:
        frame[column] = frame[column].astype("float64")
    frame["version"] = frame["version"].astype("int64")
    frame["approved_at"] = pd.to_datetime(frame["approved_at"]).astype("datetime64[ns]")
    frame["run_id"] = frame["run_id"].astype("Int64")
    return frame


def policy_history(conn: sa.Connection, item_id: str) -> pd.DataFrame:
    table = t.policies
    stmt = sa.select(table).where(table.c.item_id == item_id).order_by(table.c.version)
    return _frame([tuple(r) for r in conn.execute(stmt)])


def current_policies(conn: sa.Connection) -> pd.DataFrame:
    table = t.policies
    latest = (
        sa.select(table.c.item_id, sa.func.max(table.c.version).label("version"))
        .group_by(table.c.item_id)
        .subquery()
    )
    stmt = (
        sa.select(table)
        .join(
            latest,
            sa.and_(table.c.item_id == latest.c.item_id, table.c.version == latest.c.version),
        )
        .order_by(bytewise(conn, table.c.item_id))
    )
    return _frame([tuple(r) for r in conn.execute(stmt)])
