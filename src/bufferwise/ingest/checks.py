"""Data oddities that are kept but reported: warnings, counted in the import report.

Each check looks at accepted canonical rows only and returns `Problem`s with severity
"warning" and a stable code:

    outlier               demand: quantity > median + 10 x MAD of the item's quantities
                          (MAD = median absolute deviation), for items with >= 8 buckets and
                          MAD > 0. A spike this far out is often a keying error; it is kept.
    returns               demand: returns > 0 in the bucket (kept apart, never netted)
    gap                   demand: an item's series misses buckets between its first and last
                          date (one warning per item; the bucket is the month when every date
                          is the 1st, the week when every date falls on the same weekday 7·k
                          days apart, else the day). Missing buckets stay missing: they are
                          not invented as zeros.
    over_delivery         receipts: qty_received > qty_ordered
    performance_above_100 production_counts: total_count x ideal_cycle_time_s exceeds the
                          interval length (only where the machine's ideal cycle time is known)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from bufferwise.errors import Problem
from bufferwise.ingest.validate import StringIds

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


@dataclass(slots=True)
class DemandRows:
    """Accepted demand rows as plain arrays, which is all the demand checks need.

    item_codes  integer item number per row, 0..k-1 in order of first appearance
    item_names  the item id of each number
    quantity, returns  float64 per row (returns NaN when empty)
    days        integer days since 1970-01-01 per row
    rows        source row number per row
    """

    item_codes: np.ndarray
    item_names: Sequence[str]
    quantity: np.ndarray
    returns: np.ndarray
    days: np.ndarray
    rows: np.ndarray


def demand_warnings(
    frame: pd.DataFrame, rows: np.ndarray, file: str, sources: dict[str, str]
) -> list[Problem]:
    if frame.empty:
        return []
    codes, names = pd.factorize(frame["item_id"])
    data = DemandRows(
        item_codes=codes.astype(np.int64),
        item_names=[str(n) for n in names],
        quantity=frame["quantity"].to_numpy(dtype=np.float64),
        returns=frame["returns"].to_numpy(dtype=np.float64),
        days=frame["date"].to_numpy(dtype="datetime64[D]").astype(np.int64),
        rows=np.asarray(rows, dtype=np.int64),
    )
    return demand_row_warnings(data, file, sources)


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
                f"missing {bucket}s are left missing, not counted as zero demand",
                "warning",
                "gap",
            )
        )
    return out


class DemandCollector:
    """Accepted demand rows of a file read in slices, kept as compact arrays (32 bytes a
    row) so that the per-item checks run once over the whole file at the end."""

    def __init__(self) -> None:
        self.names = StringIds()
        self.columns: tuple[list[np.ndarray], ...] = ([], [], [], [], [])

    def add(
        self,
        item_ids: pa.ChunkedArray,
        quantity: np.ndarray,
        returns: np.ndarray,
        dates: np.ndarray,
        rows: np.ndarray,
    ) -> None:
        if len(rows) == 0:
            return
        codes = self.names.ids(item_ids).astype(np.int32)
        days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64).astype(np.int32)
        parts = (codes, quantity, returns, days, rows)
        for column, part in zip(self.columns, parts, strict=True):
            column.append(np.asarray(part))

    def rows(self) -> DemandRows:
        """Everything collected, as one `DemandRows` (the collector is emptied: each column
        is joined and its pieces freed in turn, so memory peaks near the data itself)."""
        joined = []
        for column, dtype in zip(
            self.columns, (np.int32, np.float64, np.float64, np.int32, np.int64), strict=True
        ):
            whole = np.concatenate(column).astype(dtype, copy=False) if column else None
            column.clear()
            joined.append(np.empty(0, dtype) if whole is None else whole)
        codes, quantity, returns, days, rows = joined
        return DemandRows(
            item_codes=codes,
            item_names=self.names.uniques.to_pylist(),
            quantity=quantity,
            returns=returns,
            days=days,
            rows=rows,
        )


def receipt_warnings(
    frame: pd.DataFrame, rows: np.ndarray, file: str, sources: dict[str, str]
) -> list[Problem]:
    ordered = frame["qty_ordered"].to_numpy(dtype=np.float64)
    received = frame["qty_received"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        over = received > ordered
    texts = [
        f"is more than qty_ordered {ordered[p]:g} (over-delivery; kept)"
        for p in np.flatnonzero(over)
    ]
    return _row_warnings(
        file,
        rows,
        over,
        sources.get("qty_received", "qty_received"),
        frame["qty_received"],
        "over_delivery",
        texts,
    )


def production_warnings(
    frame: pd.DataFrame,
    rows: np.ndarray,
    file: str,
    sources: dict[str, str],
    cycle_times: dict[str, float],
) -> list[Problem]:
    if not cycle_times or frame.empty:
        return []
    ict = frame["machine_id"].map(cycle_times).to_numpy(dtype=np.float64, na_value=np.nan)
    seconds = (frame["end"] - frame["start"]).dt.total_seconds().to_numpy()
    total = frame["total_count"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        above = (seconds > 0) & ~np.isnan(ict) & (total * ict > seconds)
    texts = [
        f"units at ideal cycle time {ict[p]:g} s need {total[p] * ict[p]:g} s, "
        f"more than the {seconds[p]:g} s interval "
        "(performance above 100%: check the count or the ideal cycle time)"
        for p in np.flatnonzero(above)
    ]
    return _row_warnings(
        file,
        rows,
        above,
        sources.get("total_count", "total_count"),
        frame["total_count"],
        "performance_above_100",
        texts,
    )
