"""The demand checks as they were before the compiled kernels (pandas group-by medians,
numpy gap spans, all rows at once): the reference the tests hold the new code to, bit for
bit. Copied unchanged; do not "improve" it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bufferwise.errors import Problem
from bufferwise.ingest.checks import DemandRows

OUTLIER_MADS = 10.0
OUTLIER_MIN_BUCKETS = 8


def _row_warnings(
    file: str,
    rows: np.ndarray,
    mask: np.ndarray,
    column: str,
    values: pd.Series | np.ndarray,
    code: str,
    expected: list[str] | str,
) -> list[Problem]:
    positions = np.flatnonzero(mask)
    numbers = np.asarray(values, dtype=np.float64)[positions].tolist()
    row_numbers = rows[positions].tolist()
    if isinstance(expected, list):
        return [
            Problem(file, r, column, f"{v:g}", e, "warning", code)
            for r, v, e in zip(row_numbers, numbers, expected, strict=True)
        ]
    return [
        Problem(file, r, column, f"{v:g}", expected, "warning", code)
        for r, v in zip(row_numbers, numbers, strict=True)
    ]


def bucket_of(dates: np.ndarray) -> str:
    """ "month", "week" or "day": the calendar bucket a demand table is kept in."""
    d = pd.DatetimeIndex(dates)
    if len(d) == 0 or bool((d.day == 1).all()):
        return "month"
    if d.dayofweek.nunique() == 1:
        return "week"
    return "day"


def _bucket_index(dates: pd.DatetimeIndex, bucket: str) -> np.ndarray:
    if bucket == "month":
        return (dates.year * 12 + dates.month - 1).to_numpy(dtype=np.int64)
    days = dates.to_numpy(dtype="datetime64[D]").astype(np.int64)
    return days // 7 if bucket == "week" else days


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
    outlier = q > threshold_of[codes]
    if outlier.any():
        positions = np.flatnonzero(outlier)
        texts = []
        for p in positions:
            k = codes[p]
            texts.append(
                f"is an outlier for item {data.item_names[k]} (above median {median_of[k]:g} "
                f"+ {OUTLIER_MADS:g} x MAD {mad_of[k]:g} = {threshold_of[k]:g}); kept, check it"
            )
        problems += _row_warnings(
            file, rows, outlier, sources.get("quantity", "quantity"), q, "outlier", texts
        )
    has_returns = np.nan_to_num(data.returns) > 0
    problems += _row_warnings(
        file,
        rows,
        has_returns,
        sources.get("returns", "returns"),
        data.returns,
        "returns",
        "units returned in the bucket (kept apart from demand, not netted)",
    )
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


def _grouped(codes: np.ndarray) -> bool:
    """True when the rows of each item are together, in item order (as exports often are)."""
    return len(codes) < 2 or bool((codes[1:] >= codes[:-1]).all())


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
    out = []
    for i in gappy.tolist():
        parts = [
            f"{int(n)} {where}"
            for n, where in (
                (before[i], f"before its first {bucket}"),
                (inside[i], "inside its series"),
                (after[i], f"after its last {bucket}"),
            )
            if n > 0
        ]
        m = int(missing[i])
        out.append(
            Problem(
                file,
                None,
                column,
                data.item_names[i],
                f"has {m} missing {bucket}{'' if m == 1 else 's'} between {span} "
                f"({', '.join(parts)}); "
                f"missing {bucket}s count as zero demand in profiles and sizing (check the export "
                f"if they were not observed)",
                "warning",
                "gap",
            )
        )
    return out
