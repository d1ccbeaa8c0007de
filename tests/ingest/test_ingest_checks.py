"""Warnings: kept rows, counted and reported (outliers, returns, gaps, over-delivery)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bufferwise.ingest import enforce_policy, read_canonical
from bufferwise.ingest.checks import bucket_of
from ingest.helpers import one, problems_with, write


def test_outlier_rule(tmp_path: Path) -> None:
    # item A: 2,3,4,3,2,3,4,3,60 -> median 3, absolute deviations 1,0,1,0,1,0,1,0,57 -> MAD 1;
    # threshold 3 + 10 x 1 = 13: only 60 is flagged. Item B has 8 buckets of 0 and one 9:
    # MAD 0, no rule (intermittent demand is not an outlier).
    quantities = {"A": [2, 3, 4, 3, 2, 3, 4, 3, 60], "B": [0, 0, 0, 0, 9, 0, 0, 0, 0]}
    body = "".join(
        f"{item},2023-{m + 1:02d}-01,{q}\n"
        for item, qs in quantities.items()
        for m, q in enumerate(qs)
    )
    batch = read_canonical(write(tmp_path, "d.csv", "item_id,date,quantity\n" + body), "demand")
    warning = one(batch, "outlier")
    assert (warning.row, warning.column, warning.value, warning.severity) == (
        9,
        "quantity",
        "60",
        "warning",
    )
    assert "median 3 + 10 x MAD 1 = 13" in warning.expected
    assert len(batch.tables["demand"]) == 18  # kept
    assert batch.files[0].rows_warned == 1
    assert enforce_policy(batch) is batch  # warnings never block an import


def test_returns_are_kept_apart_and_warned(tmp_path: Path) -> None:
    text = "item_id,date,quantity,returns\nA,2023-01-01,5,0\nA,2023-01-02,3,2\n"
    batch = read_canonical(write(tmp_path, "d.csv", text), "demand")
    warning = one(batch, "returns")
    assert (warning.row, warning.column, warning.value) == (2, "returns", "2")
    assert batch.tables["demand"]["quantity"].tolist() == [5.0, 3.0]  # not netted


def test_gaps_inside_and_around_series(tmp_path: Path) -> None:
    # weekly buckets (all Mondays): A misses 2023-01-09; B starts a week late
    text = (
        "item_id,date,quantity\n"
        "A,2023-01-02,1\nA,2023-01-16,1\nA,2023-01-23,1\n"
        "B,2023-01-09,1\nB,2023-01-16,1\nB,2023-01-23,1\n"
    )
    batch = read_canonical(write(tmp_path, "d.csv", text), "demand")
    gaps = {p.value: p for p in problems_with(batch, "gap")}
    assert set(gaps) == {"A", "B"}
    assert "1 missing week" in gaps["A"].expected and "1 inside its series" in gaps["A"].expected
    assert "1 before its first week" in gaps["B"].expected
    assert gaps["A"].row is None and gaps["A"].column == "date"


def test_bucket_of() -> None:
    assert bucket_of(pd.to_datetime(["2023-01-01", "2023-03-01"]).to_numpy()) == "month"
    assert bucket_of(pd.to_datetime(["2023-01-02", "2023-01-16"]).to_numpy()) == "week"
    assert bucket_of(pd.to_datetime(["2023-01-02", "2023-01-03"]).to_numpy()) == "day"
    assert bucket_of(np.array([], dtype="datetime64[ns]")) == "month"


def test_over_delivery_is_a_warning(tmp_path: Path) -> None:
    text = (
        "po_id,item_id,supplier_id,order_date,received_date,qty_ordered,qty_received\n"
        "P1,A,S,2023-01-01,2023-01-10,10,12\nP2,A,S,2023-01-01,2023-01-10,10,8\n"
    )
    batch = read_canonical(write(tmp_path, "r.csv", text), "receipts")
    warning = one(batch, "over_delivery")
    assert (warning.row, warning.column, warning.value) == (1, "qty_received", "12")
    assert "more than qty_ordered 10" in warning.expected
    assert batch.errors == [] and len(batch.tables["receipts"]) == 2


def test_every_problem_code_is_documented() -> None:
    from bufferwise.ingest import PROBLEM_CODES

    doc = (Path(__file__).resolve().parents[2] / "docs" / "mapping.md").read_text()
    missing = [code for code in PROBLEM_CODES if f"`{code}`" not in doc]
    assert missing == []


def test_performance_above_100_with_cycle_times_known_before_the_file(tmp_path: Path) -> None:
    # review finding: a canonical production_counts file has no machines table of its own; the
    # ideal cycle times already known (stored, or read earlier in the import) are used
    text = (
        "machine_id,start,end,total_count,good_count\n"
        "M1,2023-01-01 00:00,2023-01-01 00:05,12,12\n"  # 12 x 30 s = 360 s > 300 s
        "M1,2023-01-01 00:05,2023-01-01 00:10,8,8\n"  # 240 s: fine
        "M2,2023-01-01 00:00,2023-01-01 00:05,99,99\n"  # no cycle time known: not checked
    )
    path = write(tmp_path, "production_counts.csv", text)
    assert problems_with(read_canonical(path, "production_counts"), "performance_above_100") == []
    batch = read_canonical(path, "production_counts", cycle_times={"M1": 30.0})
    warning = one(batch, "performance_above_100")
    assert (warning.row, warning.column, warning.value) == (1, "total_count", "12")
    assert batch.files[0].rows_warned == 1
