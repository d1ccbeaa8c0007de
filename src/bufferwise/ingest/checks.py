"""Data oddities that are kept but reported: warnings, counted in the import report.

Each check looks at accepted canonical rows only and returns `Problem`s with severity
"warning" and a stable code:

    outlier               demand: quantity > median + 10 x MAD of the item's quantities
                          (MAD = median absolute deviation), for items with >= 8 buckets and
                          MAD > 0. A spike this far out is often a keying error; it is kept.
    returns               demand: returns > 0 in the bucket (kept apart, never netted)
    gap                   demand: an item's series misses buckets within the file's span
                          (the file's first to last date): between its own first and last
                          date, and before its first / after its last date (one warning per
                          item; the bucket is the month when every date is the 1st, the week
                          when every date falls on the same weekday 7·k days apart, else the
                          day). Missing buckets are not filled in here, but profiles and
                          sizing count them as zero demand.
    over_delivery         receipts: qty_received > qty_ordered
    performance_above_100 production_counts: total_count x ideal_cycle_time_s exceeds the
                          interval length (only where the machine's ideal cycle time is known)

One check here is a row error, not a warning, because it needs the verdict of the rows before:
    overlapping_state     machine_events: a record of positive length overlaps an earlier
                          accepted record of the same machine (see `StateOverlaps`)
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd
import pyarrow as pa

from bufferwise.errors import Problem
from bufferwise.ingest.parse import timestamp_text
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
    if len(data.rows) == 0:
        return []
    rows = data.rows
    problems = outlier_warnings(
        data.quantity, data.item_codes, lambda p: rows[p], data.item_names, file, sources
    )
    has_returns = data.returns > 0  # NaN (no returns) compares False
    problems += returns_warnings(rows[has_returns], data.returns[has_returns], file, sources)
    problems += gap_warnings(data, file, sources)
    return problems


def outlier_warnings(
    q: np.ndarray,
    codes: np.ndarray,
    rows_at: Callable[[np.ndarray], np.ndarray],
    item_names: Sequence[str],
    file: str,
    sources: dict[str, str],
) -> list[Problem]:
    """The outlier check over every row (q, codes), `rows_at(positions)` their row numbers."""
    # per-item statistics are k-sized; only the comparison runs over every row
    median_of, mad_of = _medians_and_mads(q, codes)
    threshold_of = median_of + OUTLIER_MADS * mad_of
    eligible = (np.bincount(codes) >= OUTLIER_MIN_BUCKETS) & (mad_of > 0)
    threshold_of[~eligible] = np.inf
    positions = np.flatnonzero(q > threshold_of[codes])
    if len(positions) == 0:
        return []
    column = sources.get("quantity", "quantity")
    out = []
    for r, p in zip(rows_at(positions).tolist(), positions.tolist(), strict=True):
        k = codes[p]
        out.append(_outlier(file, r, column, float(q[p]), item_names[k], median_of[k], mad_of[k]))
    return out


def _outlier(
    file: str, row: int, column: str, value: float, item: str, median: float, mad: float
) -> Problem:
    """The warning of one outlier (above median + OUTLIER_MADS x MAD of its item)."""
    threshold = median + OUTLIER_MADS * mad
    return Problem(
        file,
        row,
        column,
        f"{value:g}",
        f"is an outlier for item {item} (above median {median:g} + {OUTLIER_MADS:g} x MAD "
        f"{mad:g} = {threshold:g}); kept, check it",
        "warning",
        "outlier",
    )


def returns_warnings(
    rows: np.ndarray, returns: np.ndarray, file: str, sources: dict[str, str]
) -> list[Problem]:
    """The returns warning of each of these rows (their returns are > 0)."""
    column = sources.get("returns", "returns")
    expected = "units returned in the bucket (kept apart from demand, not netted)"
    return [
        Problem(file, r, column, f"{v:g}", expected, "warning", "returns")
        for r, v in zip(rows.tolist(), returns.astype(np.float64).tolist(), strict=True)
    ]


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
    """`_median_and_mad`, bit for bit, by a compiled pass over the items (without the GIL)
    when the rows come grouped by item; by pandas otherwise."""
    if len(q) == 0 or not _grouped(codes):
        return _median_and_mad(q, codes)
    return _grouped_median_and_mad(q, codes, int(codes[-1]) + 1)


@numba.njit(cache=True, nogil=True)
def _kth_smallest(a: np.ndarray, k: int, n: int) -> float:  # pragma: no cover
    """pandas' `kth_smallest_c` (Wirth's selection, in place on a[:n]), step for step, so
    that even the sign of a zero median is what pandas gives."""
    left = 0
    m = n - 1
    while left < m:
        x = a[k]
        i = left
        j = m
        while True:
            while a[i] < x:
                i += 1
            while x < a[j]:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
            if i > j:
                break
        if j < k:
            left = i
        if k < i:
            m = j
    return a[k]


@numba.njit(cache=True, nogil=True)
def _median_linear(a: np.ndarray, n: int) -> float:  # pragma: no cover
    """pandas' `calc_median_linear` of the n values a[:n] (no NaN among them; a is reordered):
    NaN for none, the middle value, or the two middle values' (upper + lower) / 2."""
    if n == 0:
        return np.nan
    if n % 2:
        return _kth_smallest(a, n // 2, n)
    upper = _kth_smallest(a, n // 2, n)
    # the selection leaves a[:n // 2] <= upper: their largest is the lower middle value; a
    # second selection (as pandas does) only tells which zero, 0.0 or -0.0, pandas takes
    lower = a[0]
    for i in range(1, n // 2):
        lower = max(lower, a[i])
    if lower == 0.0:
        lower = _kth_smallest(a, n // 2 - 1, n)
    return (upper + lower) / 2


@numba.njit(cache=True, nogil=True)
def _grouped_median_and_mad(
    q: np.ndarray, codes: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """Per item: median and MAD of q, skipping NaN, exactly as pandas' group-by median does
    (each item's non-NaN values copied in row order, then `_median_linear`); the rows of an
    item are together and the items are 0..k-1 in order."""
    n = len(q)
    median_of = np.full(k, np.nan)
    mad_of = np.full(k, np.nan)
    longest = 0
    start = 0
    for i in range(1, n + 1):
        if i == n or codes[i] != codes[start]:
            longest = max(longest, i - start)
            start = i
    scratch = np.empty(longest, dtype=np.float64)
    start = 0
    while start < n:
        item = codes[start]
        end = start + 1
        while end < n and codes[end] == item:
            end += 1
        m = 0
        for i in range(start, end):
            v = q[i]
            if v == v:
                scratch[m] = v
                m += 1
        median = _median_linear(scratch, m)
        m = 0
        for i in range(start, end):
            d = abs(q[i] - median)
            if d == d:
                scratch[m] = d
                m += 1
        median_of[item] = median
        mad_of[item] = _median_linear(scratch, m)
        start = end
    return median_of, mad_of


@numba.njit(cache=True, nogil=True)
def _add_day_spans(
    days: np.ndarray,
    codes: np.ndarray,
    first_of: np.ndarray,
    last_of: np.ndarray,
    size: np.ndarray,
) -> tuple[np.ndarray, int]:  # pragma: no cover
    """Per item (rows in any order; days not empty): first day, last day and row count,
    updated in place (size 0: none yet); and which days of [first_day, last_day] of these
    rows occur (with first_day)."""
    first_day = days[0]
    last_day = days[0]
    for i in range(len(days)):
        c = codes[i]
        d = days[i]
        if size[c] == 0:
            first_of[c] = d
            last_of[c] = d
        else:
            first_of[c] = min(first_of[c], d)
            last_of[c] = max(last_of[c], d)
        size[c] += 1
        first_day = min(first_day, d)
        last_day = max(last_day, d)
    present = np.zeros(last_day - first_day + 1, dtype=np.bool_)
    for i in range(len(days)):
        present[days[i] - first_day] = True
    return present, first_day


def gap_warnings(data: DemandRows, file: str, sources: dict[str, str]) -> list[Problem]:
    """One warning per item whose series misses buckets within the span of the whole table
    (the file's first to last bucket): before its first, inside, or after its last bucket."""
    k = int(data.item_codes.max()) + 1  # codes are 0..k-1, all present
    first_of = np.zeros(k, dtype=np.int64)
    last_of = np.zeros(k, dtype=np.int64)
    size = np.zeros(k, dtype=np.int64)
    present, first_day = _add_day_spans(data.days, data.item_codes, first_of, last_of, size)
    days = np.flatnonzero(present) + first_day
    return _gap_problems(first_of, last_of, size, days, data.item_names, file, sources)


def _gap_problems(
    first_of: np.ndarray,
    last_of: np.ndarray,
    size: np.ndarray,
    days: np.ndarray,
    item_names: Sequence[str],
    file: str,
    sources: dict[str, str],
) -> list[Problem]:
    """`gap_warnings` from each item's first day, last day and row count, and the distinct
    days of the table (sorted)."""
    first_day = int(days[0])
    present = days - first_day
    dates = pd.DatetimeIndex(days.astype("datetime64[D]"))
    bucket = bucket_of(dates.to_numpy())
    by_day = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    by_day[present] = _bucket_index(dates, bucket)
    # a bucket's index never falls as the day rises: an item's first (last) bucket is the
    # bucket of its first (last) day, and the table's are those of its first and last day
    low = by_day[first_of - first_day]
    high = by_day[last_of - first_day]
    lo, hi = int(by_day[0]), int(by_day[-1])
    # keys are unique by now (duplicates are rejected), so the row count is the bucket count
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
            file, column, item_names[i], bucket, span, int(before[i]), int(inside[i]), int(after[i])
        )
        for i in gappy.tolist()
    ]


def _gap(
    file: str, column: str, item: str, bucket: str, span: str, before: int, inside: int, after: int
) -> Problem:
    """The gap warning of one item: `before` / `inside` / `after` missing buckets of its series
    within the table's span."""
    parts = [
        f"{n} {where}"
        for n, where in (
            (before, f"before its first {bucket}"),
            (inside, "inside its series"),
            (after, f"after its last {bucket}"),
        )
        if n > 0
    ]
    m = before + inside + after
    return Problem(
        file,
        None,
        column,
        item,
        f"has {m} missing {bucket}{'' if m == 1 else 's'} between {span} "
        f"({', '.join(parts)}); "
        f"missing {bucket}s count as zero demand in profiles and sizing (check the export "
        f"if they were not observed)",
        "warning",
        "gap",
    )


def _add_day_spans_numpy(
    days: np.ndarray,
    codes: np.ndarray,
    first_of: np.ndarray,
    last_of: np.ndarray,
    size: np.ndarray,
) -> tuple[np.ndarray, int]:
    """`_add_day_spans` by numpy (slower, but no wait for numba's first call)."""
    lo = np.full(len(size), np.iinfo(np.int64).max)
    np.minimum.at(lo, codes, days)
    hi = np.full(len(size), np.iinfo(np.int64).min)
    np.maximum.at(hi, codes, days)
    count = np.bincount(codes, minlength=len(size))
    seen = count > 0
    both = seen & (size > 0)
    new = seen & (size == 0)
    first_of[both] = np.minimum(first_of[both], lo[both])
    last_of[both] = np.maximum(last_of[both], hi[both])
    first_of[new] = lo[new]
    last_of[new] = hi[new]
    size += count
    first_day = int(days.min())
    return np.bincount(days - first_day) > 0, first_day


def _warm_kernels() -> None:
    """Load (or compile) the collector's kernels for the types it calls them with."""
    one = np.zeros(1, dtype=np.int64)
    _add_day_spans(np.zeros(1, dtype=np.int32), np.zeros(1, dtype=np.int32), one, one, one)
    _grouped_median_and_mad(np.zeros(1), np.zeros(1, dtype=np.int32), 1)
    codes = np.zeros(1, dtype=np.int32)
    _merge_runs(codes, one, one, one, codes, one, one, one)


class DemandCollector:
    """The demand checks of a file read in slices, with the same problems, in the same order,
    as `demand_row_warnings` of all the rows at once (`warnings` gives them at the end).

    What needs only the rows at hand is done as each slice comes: returns; each item's first
    day, last day and row count and the days seen (for the gap check). While the rows come
    grouped by item (each item's rows together, as exports often are), an item's outliers
    are checked as soon as its last row has come (the next item has begun); the accepted rows
    are also kept as compact arrays (20 bytes a row), for the outlier check over the whole
    file at the end when they turn out not to be grouped.
    """

    def __init__(self) -> None:
        self.names = StringIds()
        self.codes: list[np.ndarray] = []
        self.quantity: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.returns: list[Problem] = []
        self.days: list[np.ndarray] = []  # the distinct days of each slice
        self.first_of = np.zeros(0, dtype=np.int64)
        self.last_of = np.zeros(0, dtype=np.int64)
        self.size = np.zeros(0, dtype=np.int64)
        # the outlier check of the items done so far, while the rows are grouped
        self.grouped = True
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # the last item's
        self.medians: list[np.ndarray] = []  # of items 0, 1, ... in turn
        self.mads: list[np.ndarray] = []
        self.outliers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # rows, q, codes
        # numba's first call in a process takes a while: it starts when the file is opened
        # (FileSlices.__iter__) or else with the first slice, in a thread of its own, and
        # numpy does the slices that come before it is done. Not here:
        # a FileSlices may be made in one process and read in a forked child (ingest.forked),
        # and a child forked while the thread holds numba's compile lock would wait for ever.
        self._warming: threading.Thread | None = None
        self._warm_started = False

    def start_warming(self) -> None:
        """Load the kernels in a thread of their own (once; the first `add` calls it, if the
        reader has not already)."""
        if not self._warm_started:
            self._warm_started = True
            self._warming = threading.Thread(
                target=_warm_kernels, name="bufferwise-warm", daemon=True
            )
            self._warming.start()

    def stop_warming(self) -> None:
        """Wait for the warm-up thread, if one runs: no thread of the collector outlives the
        file's report (a later file's checker may be forked)."""
        if self._warming is not None:
            self._warming.join()
            self._warming = None

    def add(
        self,
        item_ids: pa.ChunkedArray,
        quantity: np.ndarray,
        returns: np.ndarray,
        dates: np.ndarray,
        rows: np.ndarray,
        file: str,
        sources: dict[str, str],
    ) -> None:
        """Accepted demand rows of the next slice (`file` and `sources` as for the report)."""
        if len(rows) == 0:
            return
        codes = self.names.ids(item_ids).astype(np.int32)
        days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64).astype(np.int32)
        rows = np.asarray(rows, dtype=np.int64)
        self.start_warming()
        if self._warming is not None and not self._warming.is_alive():
            self._warming = None
        warm = self._warming is None  # else numpy does this slice, not to wait for numba
        quantity = np.asarray(quantity, dtype=np.float64)
        returns = np.asarray(returns, dtype=np.float64)
        k = len(self.names.uniques)
        if k > len(self.size):  # items seen for the first time: no rows yet (size 0)
            grown = max(k, 2 * len(self.size))
            self.first_of, self.last_of, self.size = (
                np.concatenate([a, np.zeros(grown - len(a), dtype=np.int64)])
                for a in (self.first_of, self.last_of, self.size)
            )
        spans = _add_day_spans if warm else _add_day_spans_numpy
        present, first_day = spans(days, codes, self.first_of, self.last_of, self.size)
        self.days.append(np.flatnonzero(present) + int(first_day))
        has_returns = returns > 0  # NaN (no returns) compares False
        if has_returns.any():
            self.returns += returns_warnings(rows[has_returns], returns[has_returns], file, sources)
        self.codes.append(codes)
        self.quantity.append(quantity)
        self.rows.append(rows)
        if self.grouped:
            previous = self.pending[-1][1][-1] if self.pending else -1
            if codes[0] < previous or not _grouped(codes):
                self.grouped = False  # the check waits for the end, over all the rows
                self.pending, self.medians, self.mads, self.outliers = [], [], [], []
            else:
                last = int(np.searchsorted(codes, codes[-1], side="left"))  # the last item
                if last > 0 and warm:  # every item before it is complete
                    self.pending.append((quantity[:last], codes[:last], rows[:last]))
                    self._check_items()
                    self.pending.append((quantity[last:], codes[last:], rows[last:]))
                else:  # checked with the next slice (or at the end)
                    self.pending.append((quantity, codes, rows))

    def _check_items(self) -> None:
        """The outlier check of the complete items in `pending`, as `outlier_warnings` does
        it (item by item, a row's item alone decides)."""
        q, codes, rows = (np.concatenate(part) for part in zip(*self.pending, strict=True))
        self.pending = []
        first = int(codes[0])
        local = codes - first
        median_of, mad_of = _grouped_median_and_mad(q, local, int(local[-1]) + 1)
        self.medians.append(median_of)
        self.mads.append(mad_of)
        threshold_of = median_of + OUTLIER_MADS * mad_of
        eligible = (np.bincount(local) >= OUTLIER_MIN_BUCKETS) & (mad_of > 0)
        threshold_of[~eligible] = np.inf
        positions = np.flatnonzero(q > threshold_of[local])
        if len(positions):
            self.outliers.append((rows[positions], q[positions], codes[positions]))

    def warnings(self, file: str, sources: dict[str, str]) -> list[Problem]:
        """`demand_row_warnings` of every row added (the kept rows are freed)."""
        self.stop_warming()
        if not self.rows:
            return []
        names = self.names.uniques.to_pylist()
        k = len(names)
        if self.grouped:
            if self.pending:
                self._check_items()
            problems = self._outlier_problems(names, file, sources)
            self.codes, self.quantity, self.rows = [], [], []
        else:
            codes = np.concatenate(self.codes)
            self.codes.clear()
            q = np.concatenate(self.quantity)
            self.quantity.clear()
            pieces = self.rows
            ends = np.cumsum([len(r) for r in pieces])
            starts = ends - [len(r) for r in pieces]

            def rows_at(positions: np.ndarray) -> np.ndarray:
                piece = np.searchsorted(ends, positions, side="right")
                within = positions - starts[piece]
                return np.array(
                    [pieces[c][w] for c, w in zip(piece.tolist(), within.tolist(), strict=True)],
                    dtype=np.int64,
                )

            problems = outlier_warnings(q, codes, rows_at, names, file, sources)
            del q, codes
            self.rows = []
        problems += self.returns
        days = np.unique(np.concatenate(self.days))
        problems += _gap_problems(
            self.first_of[:k], self.last_of[:k], self.size[:k], days, names, file, sources
        )
        return problems

    def _outlier_problems(
        self, item_names: Sequence[str], file: str, sources: dict[str, str]
    ) -> list[Problem]:
        """The outliers found item by item, as `outlier_warnings` words them."""
        if not self.outliers:
            return []
        median_of = np.concatenate(self.medians)
        mad_of = np.concatenate(self.mads)
        column = sources.get("quantity", "quantity")
        out = []
        for rows, q, codes in self.outliers:
            for r, v, k in zip(rows.tolist(), q.tolist(), codes.tolist(), strict=True):
                out.append(_outlier(file, r, column, v, item_names[k], median_of[k], mad_of[k]))
        return out


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


# --------------------------------------------------------------------- overlapping states

_NO_END = np.iinfo(np.int64).min


def _search_segments(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, q: np.ndarray, side: str
) -> np.ndarray:
    """`lo[i] + np.searchsorted(values[lo[i]:hi[i]], q[i], side)` for every i (each segment
    sorted), as one binary search over all the queries at once (log2 of the longest segment
    passes over the queries, no loop per row)."""
    lo = lo.copy()
    hi = hi.copy()
    open_ = np.flatnonzero(lo < hi)
    while len(open_):
        mid = (lo[open_] + hi[open_]) // 2
        v = values[mid]
        right = v < q[open_] if side == "left" else v <= q[open_]
        lo[open_] = np.where(right, mid + 1, lo[open_])
        hi[open_] = np.where(right, hi[open_], mid)
        open_ = open_[lo[open_] < hi[open_]]
    return lo


@dataclass(slots=True)
class Overlap:
    """A state record that overlaps an earlier accepted one: `position` in the slice's rows;
    the earlier record's source row, start and end (ns)."""

    position: int
    row: int
    start: int
    end: int


@dataclass(slots=True)
class _Block:
    """Accepted state records of positive length, sorted by machine number and start
    (machine numbers, start and end in ns, source rows). A machine's records never overlap,
    so its ends are sorted too."""

    codes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)

    def earliest_overlap(
        self, c: np.ndarray, s: np.ndarray, e: np.ndarray
    ) -> list[tuple[int, int, int, int]]:
        """For every query record (machine numbers, starts, ends) that overlaps records here:
        its index, and the source row, start and end of the earliest (in file order) of them."""
        seg_lo = np.searchsorted(self.codes, c, side="left")
        seg_hi = np.searchsorted(self.codes, c, side="right")
        last = _search_segments(self.starts, seg_lo, seg_hi, e, "left") - 1
        inside = last >= seg_lo
        overlaps = np.zeros(len(c), dtype=bool)
        overlaps[inside] = self.ends[last[inside]] > s[inside]
        if not overlaps.any():
            return []
        at = np.flatnonzero(overlaps)
        first = _search_segments(self.ends, seg_lo[at], seg_hi[at], s[at], "right")
        out: list[tuple[int, int, int, int]] = []
        for i, lo, hi in zip(at.tolist(), first.tolist(), last[at].tolist(), strict=True):
            j = lo + int(np.argmin(self.rows[lo : hi + 1]))
            out.append((i, int(self.rows[j]), int(self.starts[j]), int(self.ends[j])))
        return out

    def merged(self, newer: _Block) -> _Block:
        """This block and `newer` as one sorted block (a machine's records of the two never
        share a start: being accepted, they do not overlap)."""
        if len(self) == 0 or (
            int(newer.codes[0]) > int(self.codes[-1])
            or (
                int(newer.codes[0]) == int(self.codes[-1])
                and int(newer.starts[0]) >= int(self.starts[-1])
            )
        ):  # after every record here: appended
            return _Block(
                np.concatenate([self.codes, newer.codes]),
                np.concatenate([self.starts, newer.starts]),
                np.concatenate([self.ends, newer.ends]),
                np.concatenate([self.rows, newer.rows]),
            )
        return _Block(
            *_merge_runs(
                self.codes,
                self.starts,
                self.ends,
                self.rows,
                newer.codes,
                newer.starts,
                newer.ends,
                newer.rows,
            )
        )


@numba.njit(cache=True, nogil=True)
def _merge_runs(
    a_codes: np.ndarray,
    a_starts: np.ndarray,
    a_ends: np.ndarray,
    a_rows: np.ndarray,
    b_codes: np.ndarray,
    b_starts: np.ndarray,
    b_ends: np.ndarray,
    b_rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """Two runs sorted by (code, start) merged into one (a before b on equal keys)."""
    na = len(a_codes)
    nb = len(b_codes)
    codes = np.empty(na + nb, dtype=a_codes.dtype)
    starts = np.empty(na + nb, dtype=np.int64)
    ends = np.empty(na + nb, dtype=np.int64)
    rows = np.empty(na + nb, dtype=np.int64)
    i = 0
    j = 0
    for k in range(na + nb):
        take_a = j >= nb or (
            i < na
            and (
                a_codes[i] < b_codes[j] or (a_codes[i] == b_codes[j] and a_starts[i] <= b_starts[j])
            )
        )
        if take_a:
            codes[k] = a_codes[i]
            starts[k] = a_starts[i]
            ends[k] = a_ends[i]
            rows[k] = a_rows[i]
            i += 1
        else:
            codes[k] = b_codes[j]
            starts[k] = b_starts[j]
            ends[k] = b_ends[j]
            rows[k] = b_rows[j]
            j += 1
    return codes, starts, ends, rows


class StateOverlaps:
    """The `overlapping_state` row error of machine_events: a record of positive length whose
    [start, end) overlaps a record of positive length of the same machine that came earlier in
    the file and was accepted (a row rejected for any reason is not one: the caller passes the
    rows still accepted). Instantaneous records (start == end) overlap nothing; touching
    records (one's end is the next one's start) do not overlap. The error names the earliest
    (in file order) earlier accepted record it overlaps.

    A file read in slices gives the same errors as read whole: the accepted records of the
    slices checked so far are kept as a few blocks, each sorted by machine and start
    (machine number, start, end, row: 28 bytes a record); being accepted, a machine's records
    never overlap, so within a block their ends are sorted too, and a record overlaps one of a
    block's records exactly when the last one starting before its end ends after its start.
    `check` looks a slice up against every block; `add` keeps the slice's records that were
    finally accepted as a new block and merges the last two blocks while the older is at most
    twice the size of the newer (a binary counter: O(log n) blocks, each record copied
    O(log n) times, whatever the order of the log).

    Within a slice the records are sorted by machine and start (file order among equal
    starts): a record overlaps no other of the slice when its start is at or after the
    running maximum end of the records before it and the next record starts at or after its
    own running maximum. That is all of them in a clean log, whatever its order, and the
    check is a few whole-column passes. Records that do overlap others fall into clusters
    (records linked by overlaps); only those are decided one by one, in file order.
    """

    def __init__(self) -> None:
        self.machines = StringIds()
        # the records kept, oldest (largest) block first
        self.blocks: list[_Block] = []
        # per machine number: the latest end and the earliest start kept (a quick filter)
        self.last_end = np.empty(0, dtype=np.int64)
        self.first_start = np.empty(0, dtype=np.int64)

    def machine_codes(self, machine_ids: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """One number per machine id, the same in every slice."""
        codes = self.machines.ids(machine_ids).astype(np.int32)
        k = len(self.machines.uniques)
        if k > len(self.last_end):
            grown = max(k, 2 * len(self.last_end))
            more = grown - len(self.last_end)
            self.last_end = np.concatenate([self.last_end, np.full(more, _NO_END)])
            self.first_start = np.concatenate(
                [self.first_start, np.full(more, np.iinfo(np.int64).max)]
            )
        return codes

    def check(
        self, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, rows: np.ndarray
    ) -> list[Overlap]:
        """The overlaps among these rows (the slice's rows still accepted, in file order:
        machine numbers, start and end as int64 ns, source rows) and with the records kept."""
        positive = np.flatnonzero(ends > starts)
        if len(positive) == 0:
            return []
        c, s, e, r = codes[positive], starts[positive], ends[positive], rows[positive]
        found: list[Overlap] = []
        # 1. against the records of earlier slices (all earlier in file order than any row here)
        near = np.flatnonzero((s < self.last_end[c]) & (e > self.first_start[c]))
        hit = np.zeros(len(positive), dtype=bool)
        if len(near):
            # the earliest (in file order) overlapped record of every block, then of all
            earliest: dict[int, tuple[int, int, int]] = {}  # near index: row, start, end
            for block in self.blocks:
                for i, row, start, end in block.earliest_overlap(c[near], s[near], e[near]):
                    if i not in earliest or row < earliest[i][0]:
                        earliest[i] = (row, start, end)
            for i, (row, start, end) in earliest.items():
                found.append(Overlap(int(positive[near[i]]), row, start, end))
            hit[near[list(earliest)]] = True
        # 2. among the rows of this slice not already rejected by step 1
        rest = np.flatnonzero(~hit)
        if len(rest) > 1:
            found += self._within(c[rest], s[rest], e[rest], r[rest], positive[rest])
        found.sort(key=lambda o: o.position)
        return found

    @staticmethod
    def _within(
        c: np.ndarray, s: np.ndarray, e: np.ndarray, r: np.ndarray, positions: np.ndarray
    ) -> list[Overlap]:
        order = np.lexsort((positions, s, c))  # by machine, start, then file order
        cs, ss, es = c[order], s[order], e[order]
        running = pd.Series(es).groupby(cs, sort=False).cummax().to_numpy()
        before = np.full(len(order), _NO_END)  # the running maximum end of the rows before
        same = cs[1:] == cs[:-1]
        before[1:][same] = running[:-1][same]
        linked = ss < before  # overlaps a row sorted before it
        if not linked.any():
            return []  # a clean log: no row overlaps another
        cluster = np.cumsum(~linked) - 1
        size = np.bincount(cluster)
        members = np.flatnonzero(size[cluster] >= 2)
        # the clusters' rows in file order (source row, then position), cluster by cluster
        at = order[members]
        by_file = members[np.lexsort((positions[at], r[at], cluster[members]))]
        picked = order[by_file]
        found: list[Overlap] = []
        current = -1
        starts: list[int] = []  # the cluster's accepted rows so far, sorted (disjoint)
        ends: list[int] = []
        rows: list[int] = []
        for k, i in zip(cluster[by_file].tolist(), picked.tolist(), strict=True):
            if k != current:
                current, starts, ends, rows = k, [], [], []
            start, end = int(s[i]), int(e[i])
            lo = bisect.bisect_right(ends, start)
            if lo < len(starts) and starts[lo] < end:
                hi = bisect.bisect_left(starts, end, lo)
                j = min(range(lo, hi), key=rows.__getitem__)
                found.append(Overlap(int(positions[i]), rows[j], starts[j], ends[j]))
            else:
                starts.insert(lo, start)
                ends.insert(lo, end)
                rows.insert(lo, int(r[i]))
        return found

    def add(
        self, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, rows: np.ndarray
    ) -> None:
        """Keep the slice's accepted records (none overlapping another) for the next slices."""
        positive = ends > starts
        if not positive.all():
            codes, starts, ends, rows = (
                codes[positive],
                starts[positive],
                ends[positive],
                rows[positive],
            )
        if len(codes) == 0:
            return
        order = np.lexsort((starts, codes))
        block = _Block(
            codes[order].astype(np.int32, copy=False),
            starts[order],
            ends[order],
            np.asarray(rows, dtype=np.int64)[order],
        )
        np.maximum.at(self.last_end, block.codes, block.ends)
        np.minimum.at(self.first_start, block.codes, block.starts)
        self.blocks.append(block)
        while len(self.blocks) >= 2 and len(self.blocks[-2]) <= 2 * len(self.blocks[-1]):
            newer = self.blocks.pop()
            self.blocks[-1] = self.blocks[-1].merged(newer)


def overlap_problems(
    found: list[Overlap],
    rows: np.ndarray,
    starts: np.ndarray,
    file: str,
    sources: dict[str, str],
) -> list[Problem]:
    """The `overlapping_state` errors of `found` (rows and starts: of the slice's rows)."""
    column = sources.get("start", "start")
    return [
        Problem(
            file,
            int(rows[o.position]),
            column,
            timestamp_text(int(starts[o.position])),
            f"overlaps row {o.row} ({timestamp_text(o.start)} to {timestamp_text(o.end)}) of the "
            "same machine; "
            "state records of one machine must not overlap (overlapping time would be "
            "counted twice)",
            "error",
            "overlapping_state",
        )
        for o in found
    ]
