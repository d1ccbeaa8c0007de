"""Approved buffer levels, versioned per item. Append-only: approving adds a version.

safety_stock, reorder_point, order_up_to   [units]
stance                                       where the item sits, e.g. 'jit', 'lean', 'jic'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from bufferwise.errors import InvalidInput, Problem
from bufferwise.storage import tables as t
from bufferwise.storage.imports import utcnow
from bufferwise.storage.reads import bytewise

REQUIRED = ("item_id", "safety_stock", "reorder_point", "stance")
OPTIONAL = ("order_up_to", "run_id", "note")
LEVELS = ("safety_stock", "reorder_point", "order_up_to")
COLUMNS = tuple(t.policies.c.keys())


def _problem(row: int, column: str | None, value: object, expected: str) -> Problem:
    return Problem("approval", row, column, None if value is None else str(value), expected)


def _clean(rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = (
        [{str(k): v for k, v in r.items()} for r in rows.to_dict("records")]
        if isinstance(rows, pd.DataFrame)
        else [dict(r) for r in rows]
    )
    problems: list[Problem] = []
    seen: set[str] = set()
    out = []
    for number, record in enumerate(records, start=1):
        for column in REQUIRED:
            if record.get(column) is None or (
                isinstance(record[column], float) and math.isnan(record[column])
            ):
                problems.append(_problem(number, column, None, "is required"))
        item = record.get("item_id")
        if item is not None and str(item) in seen:
            problems.append(_problem(number, "item_id", item, "appears twice in one approval"))
        seen.add(str(item))
        for column in LEVELS:
            value = record.get(column)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            try:
                number_value = float(value)
            except (TypeError, ValueError):
                number_value = math.nan
            if not math.isfinite(number_value) or number_value < 0:
                problems.append(_problem(number, column, value, "must be a number >= 0"))
        run_id = record.get("run_id")
        out.append(
            {
                "item_id": str(item),
                "safety_stock": record.get("safety_stock"),
                "reorder_point": record.get("reorder_point"),
                "order_up_to": record.get("order_up_to"),
                "stance": str(record.get("stance")),
                "run_id": None if run_id is None or pd.isna(run_id) else int(run_id),
                "note": record.get("note"),
            }
        )
    if problems:
        raise InvalidInput(
            f"cannot approve: {problems[0].message()} ({len(problems)} problem(s))", problems
        )
    for record in out:
        for column in LEVELS:
            value = record[column]
            record[column] = None if value is None or pd.isna(value) else float(value)
    return out


def approve(
    conn: sa.Connection,
    rows: pd.DataFrame | Iterable[Mapping[str, Any]],
    by: str,
    note: str,
) -> pd.DataFrame:
    if not by or not by.strip():
        raise InvalidInput("cannot approve: say who approves (a user name)")
    records = _clean(rows)
    if not records:
        return pd.DataFrame(columns=list(COLUMNS))
    table = t.policies
    latest = dict(
        conn.execute(
            sa.select(table.c.item_id, sa.func.max(table.c.version)).group_by(table.c.item_id)
        ).all()
    )
    approved_at = utcnow()
    for record in records:
        record["version"] = int(latest.get(record["item_id"], 0)) + 1
        record["approved_at"] = approved_at
        record["approved_by"] = by.strip()
        record["note"] = str(record["note"]) if record["note"] not in (None, "") else note
    conn.execute(table.insert(), records)
    return _frame([tuple(r[c] for c in COLUMNS) for r in records])


def _frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for column in LEVELS:
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
