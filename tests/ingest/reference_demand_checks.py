"""The demand checks as they were before the compiled kernels (pandas group-by medians,
numpy gap spans, all rows at once): the reference the tests hold the new code to, bit for
bit. The algorithm is copied unchanged (do not "improve" it); the thresholds, the bucket
rules and the wording of each warning are the module's own, imported."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bufferwise.errors import Problem
from bufferwise.ingest.checks import (
    OUTLIER_MADS,
    OUTLIER_MIN_BUCKETS,
    DemandRows,
    _bucket_index,
    _gap,
    _grouped,
    _outlier,
    bucket_of,
    returns_warnings,
)


def demand_row_warnings(data: DemandRows, file: str, sources: dict[str, str]) -> list[Problem]:
    """The demand checks (outlier, returns, gap) of the module docstring on `data`."""
    problems: list[Problem] = []
    if len(data.rows) == 0:
        return problems
    q = data.quantity
    codes = data.item_codes
    rows = data.rows
    # per-item statistics are k-sized; only the comparison runs over every row
    median_of, mad_of = _medians_and_mads(q, codes)
    threshold_of = median_of + OUTLIER_MADS * mad_of
    eligible = (np.bincount(codes) >= OUTLIER_MIN_BUCKETS) & (mad_of > 0)
    threshold_of[~eligible] = np.inf
    column = sources.get("quantity", "quantity")
    for p in np.flatnonzero(q > threshold_of[codes]).tolist():
        k = codes[p]
        problems.append(
            _outlier(
                file, int(rows[p]), column, float(q[p]), data.item_names[k], median_of[k], mad_of[k]
            )
        )
    has_returns = np.nan_to_num(data.returns) > 0
    problems += returns_warnings(rows[has_returns], data.returns[has_returns], file, sources)
    problems += gap_warnings(data, file, sources)
    return problems


BLOCK_ROWS = 1_000_000


def _median_and_mad(q: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-item median and median absolute deviation; `codes` are 0..k-1, all present."""
    median_of = pd.Series(q).groupby(codes, sort=True).median().to_numpy()
    deviation = median_of[codes]  # |q - median of the item|, computed in place
    np.subtract(q, deviation, out=deviation)
    np.abs(deviation, out=deviation)
    mad_of = pd.Series(deviation).groupby(codes, sort=True).median().to_numpy()
    return median_of, mad_of


def _medians_and_mads(q: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_median_and_mad`, a block of whole items at a time when the rows come grouped by
    item: the same numbers, with the temporary arrays of one block instead of all rows."""
    n = len(q)
    if n <= BLOCK_ROWS or not _grouped(codes):
        return _median_and_mad(q, codes)
    k = int(codes[-1]) + 1
    median_of = np.empty(k, dtype=np.float64)
    mad_of = np.empty(k, dtype=np.float64)
    start = 0
    while start < n:
        end = int(np.searchsorted(codes, codes[min(start + BLOCK_ROWS, n) - 1], side="right"))
        first, last = int(codes[start]), int(codes[end - 1]) + 1
        median_of[first:last], mad_of[first:last] = _median_and_mad(
            q[start:end], codes[start:end] - first
        )
        start = end
    return median_of, mad_of


def gap_warnings(data: DemandRows, file: str, sources: dict[str, str]) -> list[Problem]:
    """One warning per item whose series misses buckets within the span of the whole table
    (the file's first to last bucket): before its first, inside, or after its last bucket."""
    days = data.days
    codes = data.item_codes
    first_day = int(days.min())
    present = np.flatnonzero(np.bincount(days - first_day))  # the distinct dates, no sorting
    dates = pd.DatetimeIndex((present + first_day).astype("datetime64[D]"))
    bucket = bucket_of(dates.to_numpy())
    by_day = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    by_day[present] = _bucket_index(dates, bucket)
    index = by_day[days - first_day]
    lo, hi = int(index.min()), int(index.max())
    # keys are unique by now (duplicates are rejected), so the row count is the bucket count
    if _grouped(codes):  # each item's rows together: one pass, no sorting
        starts = np.flatnonzero(np.diff(codes, prepend=-1))
        low = np.minimum.reduceat(index, starts)
        high = np.maximum.reduceat(index, starts)
    else:
        grouped = pd.Series(index).groupby(codes, sort=True)  # codes are 0..k-1, all present
        low = grouped.min().to_numpy()
        high = grouped.max().to_numpy()
    size = np.bincount(codes)
    before = low - lo
    after = hi - high
    inside = (high - low + 1) - size
    missing = before + after + inside
    gappy = np.flatnonzero(missing > 0)
    if len(gappy) == 0:
        return []
    span = f"{dates.min().date()} and {dates.max().date()}"
    column = sources.get("date", "date")
    return [
        _gap(
            file,
            column,
            data.item_names[i],
            bucket,
            span,
            int(before[i]),
            int(inside[i]),
            int(after[i]),
        )
        for i in gappy.tolist()
    ]
