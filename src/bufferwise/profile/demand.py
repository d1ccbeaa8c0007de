"""Demand profile per item: bucketing, level and spread, Syntetos-Boylan class, trend, season,
outliers and obsolescence, computed for all items at once on an items x periods matrix.

Conventions (docs/profiles.md states them in full):

- Buckets: ``day`` = calendar day; ``week`` = ISO week starting Monday; ``month`` = calendar
  month. A bucket is labelled by its first day.
- Each item's span runs from the bucket of its first demand row (or ``start``) to the last
  bucket of the data window (or ``end``). Inside the span a bucket with no row is a zero (daily
  transaction data: no row = no demand). A bucket is *not observed* when the caller declares it
  missing: a row whose quantity is NaN, or an (item_id, date) row in ``missing``. Not-observed
  buckets are left out of every statistic (the series is profiled on its observed periods only)
  and counted in ``missing_periods``.
- When daily transactions are bucketed into weeks or months, the first and last bucket of the
  data window are dropped when the data covers them only in part.
- sd uses ddof = 1 (sample sd) throughout; ADI = mean interval between consecutive non-zero
  periods; CV² = (sd / mean)² of the non-zero sizes with ddof = 1.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Literal

import numba as nb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import special

from bufferwise.errors import InvalidInput

Bucket = Literal["day", "week", "month"]
GapPolicy = Literal["observed", "exclude"]

BUCKETS: tuple[str, ...] = ("day", "week", "month")
#: Days per bucket, used to turn lead times in days into buckets (month = 365.25 / 12).
BUCKET_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12.0}
#: Season length (in buckets) tested for seasonality: the weekly cycle of daily data, the
#: annual cycle of weekly and monthly data.
SEASON_LENGTH: dict[str, int] = {"day": 7, "week": 52, "month": 12}
#: Outliers are flagged only with at least this many non-zero buckets: below 4 sizes Q1 and Q3
#: (linear interpolation between order statistics) are mixtures of the same 2-3 values, the IQR
#: is not a spread but a gap between neighbours, and the Q3 + 3 x IQR fence flags noise.
OUTLIER_MIN_NONZERO = 4

#: Syntetos-Boylan-Croston cut-offs (Syntetos, Boylan & Croston 2005).
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49

DEMAND_CLASSES: tuple[str, ...] = (
    "smooth",
    "erratic",
    "intermittent",
    "lumpy",
    "insufficient",  # one non-zero period: ADI and CV² undefined
    "no_demand",  # no non-zero period in the observed window
    "excluded_gaps",  # gaps="exclude" and the item has missing periods
)


@dataclass(frozen=True, slots=True)
class DemandMatrix:
    """Demand of many items on one calendar of buckets.

    item_ids       (n_items,) object array of item identifiers, sorted
    bucket         "day", "week" or "month"
    period_starts  (n_periods,) datetime64[ns], first day of each bucket
    quantity       (n_items, n_periods) float64 [units per bucket]; NaN = not observed
                   (before the item's first row, or declared missing)
    first_period   (n_items,) int64, index of the first bucket of each item's span
    returns        (n_items,) float64, total returned units over the window [units]
    dropped_rows   demand rows outside the calendar (partial edge buckets, outside start/end)
    """

    item_ids: np.ndarray
    bucket: str
    period_starts: np.ndarray
    quantity: np.ndarray
    first_period: np.ndarray
    returns: np.ndarray
    dropped_rows: int = 0


# ---------------------------------------------------------------------------------------------
# bucketing


def _check_bucket(bucket: str) -> None:
    if bucket not in BUCKETS:
        raise InvalidInput(f"bucket {bucket!r} is not one of {', '.join(BUCKETS)}")


def bucket_start(dates: np.ndarray | pd.Series | pd.DatetimeIndex, bucket: str) -> np.ndarray:
    """First day of the bucket holding each date, as datetime64[D].

    day: the date itself; week: the Monday of its ISO week; month: the 1st of its month.
    """
    _check_bucket(bucket)
    days = np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[D]")
    if bucket == "day":
        return days
    if bucket == "week":
        ordinal = days.astype(np.int64)
        # 1970-01-01 was a Thursday: (ordinal + 3) % 7 is 0 on Mondays.
        return (ordinal - (ordinal + 3) % 7).astype("datetime64[D]")
    return days.astype("datetime64[M]").astype("datetime64[D]")


def _ordinal_to_start(ordinal: np.ndarray, bucket: str) -> np.ndarray:
    if bucket == "day":
        return ordinal.astype("datetime64[D]")
    if bucket == "week":
        # ordinal // 7 of a Monday: Mondays are day numbers == 4 (mod 7)
        return (ordinal * 7 + 4).astype("datetime64[D]")
    return ordinal.astype("datetime64[M]").astype("datetime64[D]")


def _codes(
    values: pd.Series, item_ids: Iterable[str] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw integer codes of `values`, a map raw code -> index into the sorted identifiers
    (-1: not used), and the sorted identifiers (plus any extra `item_ids`). A categorical
    item_id is the fast path (no string hashing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        raw = values.cat.codes.to_numpy()
        cats = np.asarray(values.cat.categories).astype(str).astype(object)
        used = np.bincount(raw[raw >= 0].astype(np.int64), minlength=len(cats)) > 0
    else:
        raw, uniques = _factorize(values.to_numpy())
        cats = np.asarray(uniques).astype(str).astype(object)
        used = np.ones(len(cats), dtype=bool)
    names = cats[used]
    if item_ids is not None:
        names = np.concatenate([names, np.asarray([str(x) for x in item_ids], dtype=object)])
    ids, inverse = np.unique(names, return_inverse=True)
    remap = np.full(len(cats), -1, dtype=np.int64)
    remap[np.flatnonzero(used)] = inverse[: int(used.sum())]
    return raw, remap, ids.astype(object)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(values)` (codes, -1 for missing, and uniques), keyed on object identity
    first for an object array: the readers give one shared object per distinct text (34
    million demand rows, 100,000 ids), so the rows are factorized by their pointers (integer
    hashing) and only the distinct objects by value, which merges equal texts held by
    different objects. Same grouping as `pd.factorize`; uniques in another order."""
    if values.dtype != object or values.ndim != 1 or len(values) < 1 << 16:
        return pd.factorize(values, sort=False)
    if not values.flags.c_contiguous:
        values = np.ascontiguousarray(values)
    pointers = np.ctypeslib.as_array(
        (ctypes.c_ssize_t * len(values)).from_address(values.ctypes.data)
    )
    starts = np.flatnonzero(pointers[1:] != pointers[:-1]) + 1
    if len(starts) * 4 < len(values):  # long runs of one object (rows in item order)
        starts = np.concatenate([[0], starts])
        by_run, addresses = pd.factorize(pointers[starts], sort=False)
        by_pointer = np.repeat(by_run, np.diff(np.append(starts, len(values))))
    else:
        by_pointer, addresses = pd.factorize(pointers, sort=False)
    # the distinct objects, from their addresses (alive: `values` holds them)
    distinct = np.empty(len(addresses), dtype=object)
    distinct[:] = [ctypes.cast(int(a), ctypes.py_object).value for a in addresses]
    by_value, uniques = pd.factorize(distinct, sort=False)
    codes = np.append(by_value, -1)[by_pointer]  # by_pointer has no -1: pointers never miss
    return codes, np.asarray(uniques)


def _as_ns(values: object) -> np.ndarray:
    """Dates as a datetime64[ns] numpy array (without going through Python objects)."""
    arr = pd.to_datetime(values)  # type: ignore[call-overload]
    if isinstance(arr, pd.Series):
        arr = arr.to_numpy()
    return np.asarray(arr).astype("datetime64[ns]", copy=False)


_KIND = {"day": 0, "week": 1, "month": 2}
_NS_PER_DAY = 86_400 * 10**9


@nb.njit(cache=True, nogil=True)
def _ordinal(day: int, kind: int) -> int:  # pragma: no cover - compiled
    """Bucket ordinal of a day number (days since 1970-01-01): the day, day // 7 of its Monday,
    or months since 1970-01 (civil calendar, H. Hinnant's days_from_civil inverse)."""
    if kind == 0:
        return day
    if kind == 1:
        return (day - (day + 3) % 7) // 7
    z = day + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return (y - 1970) * 12 + (m - 1)


@nb.njit(cache=True, nogil=True)
def _any_inside_bucket(dates_ns: np.ndarray, kind: int) -> bool:  # pragma: no cover
    """True when some date is not the first day of its bucket (transaction data)."""
    if kind == 0:
        return False
    for r in range(dates_ns.size):
        day = dates_ns[r] // 86_400_000_000_000
        if _ordinal(day - 1, kind) == _ordinal(day, kind):
            return True
    return False


@nb.njit(inline="always", cache=True)
def _cell(
    raw: np.ndarray,
    remap: np.ndarray,
    dates_ns: np.ndarray,
    r: int,
    kind: int,
    lo: int,
    n_periods: int,
) -> int:  # pragma: no cover - compiled
    """Cell (item x n_periods + period) of row r of the matrix; -1 for a row of an item left
    out or outside the calendar."""
    rc = raw[r]
    code = remap[rc] if rc >= 0 else -1
    per = _ordinal(dates_ns[r] // 86_400_000_000_000, kind) - lo
    if code < 0 or per < 0 or per >= n_periods:
        return -1
    return code * n_periods + per


@nb.njit(cache=True, nogil=True)
def _fill(
    raw: np.ndarray,
    remap: np.ndarray,
    dates_ns: np.ndarray,
    qty: np.ndarray,
    kind: int,
    lo: int,
    n_periods: int,
    out: np.ndarray,
    count: np.ndarray,
    first: np.ndarray,
) -> tuple[int, int]:  # pragma: no cover - compiled
    """One pass over the rows: out[cell] += qty (NaN declares the cell not observed), rows per
    cell (saturating at 255), each item's first period. Returns (cells with > 1 row, rows
    outside the calendar)."""
    dup = 0
    dropped = 0
    for r in range(raw.size):
        c = _cell(raw, remap, dates_ns, r, kind, lo, n_periods)
        if c < 0:
            dropped += 1
            continue
        code = c // n_periods
        per = c - code * n_periods
        v = qty[r]
        if np.isnan(v):
            out[c] = np.nan
        else:
            out[c] += v
        k = count[c]
        if k < 255:
            count[c] = k + 1
            if k == 1:
                dup += 1
        if per < first[code]:
            first[code] = per
    return dup, dropped


@nb.njit(cache=True, nogil=True)
def _cells(
    raw: np.ndarray, remap: np.ndarray, dates_ns: np.ndarray, kind: int, lo: int, n_periods: int
) -> np.ndarray:  # pragma: no cover - compiled
    """Cell index of every row (-1 outside the calendar)."""
    out = np.empty(raw.size, dtype=np.int64)
    for r in range(raw.size):
        out[r] = _cell(raw, remap, dates_ns, r, kind, lo, n_periods)
    return out


@nb.njit(cache=True, nogil=True)
def _sum_shared_cells(
    raw: np.ndarray,
    remap: np.ndarray,
    dates_ns: np.ndarray,
    qty: np.ndarray,
    kind: int,
    lo: int,
    n_periods: int,
    count: np.ndarray,
    out: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """out[cell] = the sum of the cell's values added in ascending order (so the figure does
    not depend on the order of the rows), for every cell holding more than one row
    (count > 1), without sorting all rows: rows are bucketed by cell (counting sort) and each
    cell's few values sorted."""
    size = out.size
    cursor = np.zeros(size, dtype=np.int64)
    for r in range(raw.size):
        c = _cell(raw, remap, dates_ns, r, kind, lo, n_periods)
        if c >= 0 and count[c] > 1:
            cursor[c] += 1
    cells = 0
    for c in range(size):
        if cursor[c] > 0:
            cells += 1
    cell_of = np.empty(cells, dtype=np.int64)
    start = np.empty(cells + 1, dtype=np.int64)
    k = 0
    total = 0
    for c in range(size):
        m = cursor[c]
        if m > 0:
            cell_of[k] = c
            start[k] = total
            cursor[c] = total
            total += m
            k += 1
    start[cells] = total
    values = np.empty(total, dtype=np.float64)
    for r in range(raw.size):
        c = _cell(raw, remap, dates_ns, r, kind, lo, n_periods)
        if c >= 0 and count[c] > 1:
            values[cursor[c]] = qty[r]
            cursor[c] += 1
    for k in range(cells):
        a, b = start[k], start[k + 1]
        if b - a <= 32:
            # insertion sort, NaN last (as np.sort); a few values per cell
            for i in range(a + 1, b):
                x = values[i]
                j = i - 1
                while j >= a and (values[j] > x or (values[j] != values[j] and x == x)):
                    values[j + 1] = values[j]
                    j -= 1
                values[j + 1] = x
        else:
            values[a:b].sort()
        total_k = values[a]
        for i in range(a + 1, b):
            total_k += values[i]
        out[cell_of[k]] = total_k


@nb.njit(cache=True, nogil=True)
def _blank_before(q: np.ndarray, first: np.ndarray) -> None:  # pragma: no cover - compiled
    for i in range(q.shape[0]):
        for t in range(first[i]):
            q[i, t] = np.nan


def _date_ordinal(value: object, bucket: str) -> int:
    day = int(pd.Timestamp(value).normalize().value // _NS_PER_DAY)  # type: ignore[arg-type]
    return int(_ordinal(day, _KIND[bucket]))


def build_demand_matrix(
    demand: pd.DataFrame,
    bucket: str = "week",
    *,
    missing: pd.DataFrame | None = None,
    item_ids: Iterable[str] | None = None,
    start: object = None,
    end: object = None,
) -> DemandMatrix:
    """Bucket canonical demand rows onto one calendar, as an items x periods matrix.

    demand    canonical demand (item_id, date, quantity [units], returns [units] optional);
              several rows of one item in one bucket are summed; a NaN quantity declares the
              bucket not observed
    missing   optional (item_id, date) rows declaring buckets not observed (already-bucketed
              data with gaps); a declared-missing date makes its whole bucket not observed
    item_ids  items to include even without any demand row (all-zero over the window)
    start/end optional first / last date of the calendar for all items (dates inside the
              buckets are fine); by default each item starts at its first row and all end at
              the last bucket of the data
    Rows of one cell are added in (cell, value) order, so the result never depends on the
    row order of `demand`.
    """
    _check_bucket(bucket)
    kind = _KIND[bucket]
    for col in ("item_id", "date", "quantity"):
        if col not in demand.columns:
            raise InvalidInput(f"demand has no column {col!r} (expected item_id, date, quantity)")
    extra = list(item_ids) if item_ids is not None else []
    n_rows = len(demand)  # the calendar comes from these rows, not from declared gaps
    if missing is not None and len(missing):
        demand_rows = pd.DataFrame(
            {
                "item_id": np.concatenate(
                    [
                        demand["item_id"].astype(str).to_numpy(),
                        missing["item_id"].astype(str).to_numpy(),
                    ]
                ),
                "date": np.concatenate([_as_ns(demand["date"]), _as_ns(missing["date"])]),
                "quantity": np.concatenate(
                    [demand["quantity"].to_numpy(np.float64), np.full(len(missing), np.nan)]
                ),
            }
        )
        if "returns" in demand.columns:
            demand_rows["returns"] = np.concatenate(
                [demand["returns"].to_numpy(np.float64), np.zeros(len(missing))]
            )
        demand = demand_rows
    raw, remap, ids = _codes(demand["item_id"], extra)
    n_items = len(ids)
    dates = _as_ns(demand["date"])
    if np.isnat(dates).any():
        raise InvalidInput(f"demand column date: {int(np.isnat(dates).sum())} rows have no date")
    qty = demand["quantity"].to_numpy(dtype=np.float64)
    if (qty < 0).any():
        raise InvalidInput(
            "demand column quantity: negative quantities found (returns belong in the "
            "returns column, never netted)"
        )
    if n_rows == 0 and (start is None or end is None):
        raise InvalidInput("demand is empty: give start and end to profile items without rows")
    days_ns = dates.view(np.int64)
    edge_ns = days_ns[:n_rows]
    if start is not None:
        lo = _date_ordinal(start, bucket)
    else:
        first_day = int(edge_ns.min() // _NS_PER_DAY)
        lo = int(_ordinal(first_day, kind))
        if int(_ordinal(first_day - 1, kind)) == lo:
            lo += 1  # the first bucket is covered only in part
    if end is not None:
        hi = _date_ordinal(end, bucket)
    else:
        last_day = int(edge_ns.max() // _NS_PER_DAY)
        hi = int(_ordinal(last_day, kind))
        if _any_inside_bucket(edge_ns, kind) and int(_ordinal(last_day + 1, kind)) == hi:
            hi -= 1  # transaction data covering the last bucket only in part
    if hi < lo:
        raise InvalidInput(
            f"demand covers no complete {bucket}: give start/end or use a finer bucket"
        )
    n_periods = hi - lo + 1
    size = n_items * n_periods
    out = np.zeros(size, dtype=np.float64)
    count = np.zeros(size, dtype=np.uint8)
    first = np.full(n_items, n_periods, dtype=np.int64)
    raw64 = raw.astype(np.int64, copy=False)
    dup, dropped = _fill(raw64, remap, days_ns, qty, kind, lo, n_periods, out, count, first)
    if dup:
        _sum_shared_cells(raw64, remap, days_ns, qty, kind, lo, n_periods, count, out)
    del count
    if start is not None:
        first[:] = 0
    first[first == n_periods] = 0  # items without rows: whole calendar, all zero
    q = out.reshape(n_items, n_periods)
    _blank_before(q, first)

    ret: np.ndarray = np.zeros(n_items)
    if "returns" in demand.columns:
        r = demand["returns"].to_numpy(dtype=np.float64)
        rows = np.flatnonzero(~np.isnan(r) & (r != 0))
        cell = _cells(raw64[rows], remap, days_ns[rows], kind, lo, n_periods)
        inside = cell >= 0  # rows in dropped edge buckets are left out, like their demand
        code, rv = cell[inside] // n_periods, r[rows][inside]
        order = np.lexsort((rv, code))  # a fixed summation order
        ret = np.bincount(code[order], weights=rv[order], minlength=n_items).astype(np.float64)
    ordinals = np.arange(lo, hi + 1)
    period_starts = _ordinal_to_start(ordinals, bucket).astype("datetime64[ns]")
    return DemandMatrix(
        item_ids=ids,
        bucket=bucket,
        period_starts=period_starts,
        quantity=q,
        first_period=first,
        returns=ret,
        dropped_rows=int(dropped),
    )


# ---------------------------------------------------------------------------------------------
# the kernel: one pass per item, all items in parallel

_F_MEAN, _F_SD, _F_ADI, _F_ADI0, _F_CV2, _F_SLOPE, _F_TSTAT, _F_ACF, _F_FENCE, _F_TSB = range(10)
_N_F = 10
_I_N, _I_MISS, _I_NZ, _I_SINCE, _I_OUT, _I_GAP, _I_LAST = range(7)
_N_I = 7


@nb.njit(cache=True, nogil=True)
def _order_pair(a: np.ndarray, n: int, k: int) -> tuple[float, float]:  # pragma: no cover
    """The k-th and (k+1)-th smallest of a[:n] (0-based; the (k+1)-th is clipped to n-1) by
    Hoare's quickselect; reorders a[:n]."""
    lo, hi = 0, n - 1
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                tmp = a[i]
                a[i] = a[j]
                a[j] = tmp
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    kth = a[k]
    if k + 1 >= n:
        return kth, kth
    nxt = a[k + 1]
    for t in range(k + 2, n):
        if a[t] < nxt:
            nxt = a[t]
    return kth, nxt


@nb.njit(cache=True, nogil=True)
def _demand_kernel(
    q: np.ndarray,
    first: np.ndarray,
    season: int,
    outlier_iqr: float,
    tsb_alpha: float,
    out_f: np.ndarray,
    out_i: np.ndarray,
) -> None:  # pragma: no cover - compiled
    n_items, n_periods = q.shape
    buf = np.empty(n_periods)
    sizes = np.empty(n_periods)
    for i in range(n_items):
        n = 0
        miss = 0
        gap = 0
        pending = False
        nz = 0
        last_nz_c = -1
        first_nz_c = -1
        last_nz_orig = -1
        s = 0.0
        for t in range(first[i], n_periods):
            v = q[i, t]
            if np.isnan(v):
                miss += 1
                if n > 0:
                    pending = True
                continue
            if pending:
                gap = 1
                pending = False
            buf[n] = v
            s += v
            if v != 0.0:
                sizes[nz] = v
                nz += 1
                if first_nz_c < 0:
                    first_nz_c = n
                last_nz_c = n
                last_nz_orig = t
            n += 1
        out_i[i, _I_N] = n
        out_i[i, _I_MISS] = miss
        out_i[i, _I_NZ] = nz
        out_i[i, _I_GAP] = gap
        out_i[i, _I_LAST] = last_nz_orig
        out_i[i, _I_SINCE] = n if nz == 0 else n - 1 - last_nz_c
        nan = np.nan
        for k in range(_N_F):
            out_f[i, k] = nan
        out_i[i, _I_OUT] = 0
        if n == 0:
            continue
        mean = s / n
        out_f[i, _F_MEAN] = mean
        # two-pass sums: exact scale invariance up to rounding
        ss = 0.0
        tbar = (n - 1) / 2.0
        sxy = 0.0
        sxx = 0.0
        for t in range(n):
            d = buf[t] - mean
            ss += d * d
            dt = t - tbar
            sxy += dt * d
            sxx += dt * dt
        if n >= 2:
            out_f[i, _F_SD] = np.sqrt(ss / (n - 1))
        if nz >= 2:
            out_f[i, _F_ADI] = (last_nz_c - first_nz_c) / (nz - 1)
        if nz >= 1:
            out_f[i, _F_ADI0] = last_nz_c / nz
            ms = 0.0
            for k in range(nz):
                ms += sizes[k]
            ms /= nz
            if nz >= 2:
                vs = 0.0
                for k in range(nz):
                    d = sizes[k] - ms
                    vs += d * d
                vs /= nz - 1
                out_f[i, _F_CV2] = vs / (ms * ms)
        # trend: OLS slope of quantity on period number, t statistic
        if n >= 3:
            slope = sxy / sxx
            rss = ss - slope * sxy
            if rss < 0.0:
                rss = 0.0
            out_f[i, _F_SLOPE] = slope
            se = np.sqrt(rss / (n - 2) / sxx)
            if se > 0.0:
                out_f[i, _F_TSTAT] = slope / se
            elif slope == 0.0:
                out_f[i, _F_TSTAT] = 0.0
            else:
                out_f[i, _F_TSTAT] = np.inf if slope > 0 else -np.inf
            # seasonality: autocorrelation of the detrended series at the season lag
            if gap == 0 and season >= 1 and n >= 2 * season:
                num = 0.0
                den = 0.0
                for t in range(n):
                    e = buf[t] - mean - slope * (t - tbar)
                    den += e * e
                    if t + season < n:
                        e2 = buf[t + season] - mean - slope * (t + season - tbar)
                        num += e * e2
                out_f[i, _F_ACF] = num / den if den > 0.0 else 0.0
        # outliers: non-zero sizes above Q3 + k * IQR (Tukey's far-out fence)
        if nz >= OUTLIER_MIN_NONZERO:
            h1 = 0.25 * (nz - 1)
            h3 = 0.75 * (nz - 1)
            j1 = int(h1)
            j3 = int(h3)
            a1, b1 = _order_pair(sizes, nz, j1)
            q1 = a1 + (h1 - j1) * (b1 - a1)
            a3, b3 = _order_pair(sizes, nz, j3)
            q3 = a3 + (h3 - j3) * (b3 - a3)
            fence = q3 + outlier_iqr * (q3 - q1)
            out_f[i, _F_FENCE] = fence
            c = 0
            for k in range(nz):
                if sizes[k] > fence:
                    c += 1
            out_i[i, _I_OUT] = c
        # TSB demand probability: exponential smoothing of the occurrence indicator, started
        # at the window's occurrence share
        p = nz / n
        for t in range(n):
            occ = 1.0 if buf[t] != 0.0 else 0.0
            p += tsb_alpha * (occ - p)
        out_f[i, _F_TSB] = p


def classify(adi: ArrayLike, cv2: ArrayLike, nonzero: ArrayLike) -> np.ndarray:
    """Syntetos-Boylan-Croston class from ADI and CV² (cut-offs 1.32 and 0.49).

    ADI < 1.32 and CV² < 0.49: smooth; ADI < 1.32, CV² >= 0.49: erratic; ADI >= 1.32,
    CV² < 0.49: intermittent; ADI >= 1.32, CV² >= 0.49: lumpy. One non-zero period:
    insufficient; none: no_demand.
    """
    adi_a = np.asarray(adi, dtype=np.float64)
    cv2_a = np.asarray(cv2, dtype=np.float64)
    nz = np.asarray(nonzero)
    frequent = adi_a < ADI_CUTOFF
    steady = cv2_a < CV2_CUTOFF
    out = np.where(
        frequent,
        np.where(steady, "smooth", "erratic"),
        np.where(steady, "intermittent", "lumpy"),
    ).astype(object)
    out[nz == 1] = "insufficient"
    out[nz == 0] = "no_demand"
    return out


@dataclass(frozen=True, slots=True)
class DemandSettings:
    """Settings of the demand profile.

    season_length       lag tested for seasonality [buckets]; None = 7 (day), 52 (week),
                        12 (month)
    alpha               significance level of the trend and season tests
    outlier_iqr         k of the outlier fence Q3 + k * IQR on non-zero sizes (3 = Tukey's
                        "far out")
    tsb_alpha           smoothing constant of the TSB demand probability
    obsolete_factor     an item is flagged obsolete when its trailing run of zero periods is at
                        least obsolete_factor x ADI (and at least obsolete_min_periods)
    obsolete_min_periods
    gaps                "observed": profile items with missing periods on their observed
                        periods only; "exclude": also compute their statistics but give them
                        the class "excluded_gaps"
    """

    season_length: int | None = None
    alpha: float = 0.05
    outlier_iqr: float = 3.0
    tsb_alpha: float = 0.1
    obsolete_factor: float = 3.0
    obsolete_min_periods: int = 3
    gaps: GapPolicy = "observed"


DEMAND_COLUMNS: tuple[str, ...] = (
    "item_id",
    "bucket",
    "periods",
    "missing_periods",
    "mean",
    "sd",
    "cv",
    "zero_share",
    "nonzero_periods",
    "adi",
    "adi_from_start",
    "cv2",
    "demand_class",
    "forecast_model",
    "forecast_error_sd",
    "forecast_bias",
    "forecast_rmse",
    "forecast_mean",
    "forecast_horizon",
    "trend",
    "trend_slope",
    "trend_p",
    "seasonal",
    "seasonal_acf",
    "season_length",
    "outliers",
    "outlier_threshold",
    "periods_since_demand",
    "last_demand_date",
    "tsb_probability",
    "obsolete",
    "returns_total",
)


def profile_matrix(
    matrix: DemandMatrix,
    settings: DemandSettings | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Demand profile of every item of `matrix`: one row per item, columns DEMAND_COLUMNS
    (forecast columns empty; `bufferwise.profile.forecast` fills them).

    progress(done_items, total_items) is called as blocks of items finish.
    """
    st = settings or DemandSettings()
    if st.gaps not in ("observed", "exclude"):
        raise InvalidInput(f"gaps {st.gaps!r} is not one of observed, exclude")
    season = st.season_length if st.season_length is not None else SEASON_LENGTH[matrix.bucket]
    q = np.ascontiguousarray(matrix.quantity, dtype=np.float64)
    n_items = q.shape[0]
    out_f = np.empty((n_items, _N_F))
    out_i = np.empty((n_items, _N_I), dtype=np.int64)
    first = np.ascontiguousarray(matrix.first_period, dtype=np.int64)

    def run(lo: int, hi: int) -> int:
        _demand_kernel(
            q[lo:hi],
            first[lo:hi],
            int(season),
            float(st.outlier_iqr),
            float(st.tsb_alpha),
            out_f[lo:hi],
            out_i[lo:hi],
        )
        return hi - lo

    # the kernel releases the GIL: blocks of items run on a pool of threads
    threads = max(1, min(nb.get_num_threads(), os.cpu_count() or 1))
    block = max(1_000, -(-n_items // (8 * threads)))
    starts = list(range(0, n_items, block))
    done = 0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(run, lo, min(lo + block, n_items)) for lo in starts]
        for fut in as_completed(futures):
            done += fut.result()
            if progress is not None:
                progress(done, n_items)
    return _assemble(matrix, out_f, out_i, st, int(season))


def demand_matrix_from_array(
    item_ids: Sequence[str] | np.ndarray,
    period_starts: Sequence[object] | np.ndarray,
    quantity: np.ndarray,
    bucket: str,
    *,
    observed: np.ndarray | None = None,
) -> DemandMatrix:
    """A DemandMatrix from already-bucketed arrays.

    quantity  (n_items, n_periods) [units per bucket]; NaN = not observed
    observed  optional (n_items, n_periods) bool mask; False = not observed (declared gap)
    Every item's span is the whole calendar (leading not-observed periods count as missing).
    """
    _check_bucket(bucket)
    q = np.array(quantity, dtype=np.float64, copy=True, ndmin=2)
    ids = np.asarray(item_ids, dtype=object)
    starts = np.asarray(period_starts, dtype="datetime64[ns]")
    if q.shape != (len(ids), len(starts)):
        raise InvalidInput(
            f"quantity has shape {q.shape}, expected (items, periods) = ({len(ids)}, {len(starts)})"
        )
    if (q[~np.isnan(q)] < 0).any():
        raise InvalidInput("quantity: negative quantities found (returns are kept apart)")
    if observed is not None:
        mask = np.asarray(observed, dtype=bool)
        if mask.shape != q.shape:
            raise InvalidInput(f"observed has shape {mask.shape}, expected {q.shape}")
        q[~mask] = np.nan
    return DemandMatrix(
        item_ids=ids,
        bucket=bucket,
        period_starts=starts,
        quantity=q,
        first_period=np.zeros(len(ids), dtype=np.int64),
        returns=np.zeros(len(ids)),
    )


def _assemble(
    matrix: DemandMatrix, f: np.ndarray, i: np.ndarray, st: DemandSettings, season: int
) -> pd.DataFrame:
    n = i[:, _I_N]
    nz = i[:, _I_NZ]
    mean = f[:, _F_MEAN]
    sd = f[:, _F_SD]
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, sd / mean, np.nan)
        zero_share = np.where(n > 0, (n - nz) / np.maximum(n, 1), np.nan)
    adi = f[:, _F_ADI]
    cv2 = f[:, _F_CV2]
    cls = classify(adi, cv2, nz)
    if st.gaps == "exclude":
        cls[i[:, _I_MISS] > 0] = "excluded_gaps"
    tstat = f[:, _F_TSTAT]
    df_t = np.maximum(n - 2, 1).astype(np.float64)
    with np.errstate(invalid="ignore"):
        trend_p = np.where(np.isnan(tstat), np.nan, 2.0 * special.stdtr(df_t, -np.abs(tstat)))
        trend_p = np.where(np.isinf(tstat), 0.0, trend_p)
    trend = np.nan_to_num(trend_p, nan=1.0) < st.alpha
    acf = f[:, _F_ACF]
    z = special.ndtri(1.0 - st.alpha)
    bound = z / np.sqrt(np.maximum(n, 1))
    seasonal = np.nan_to_num(acf, nan=-np.inf) > bound
    since = i[:, _I_SINCE]
    adi_eff = np.where(np.isnan(adi), np.where(nz > 0, n / np.maximum(nz, 1), 0.0), adi)
    obsolete = (since >= st.obsolete_factor * adi_eff) & (since >= st.obsolete_min_periods)
    last = i[:, _I_LAST]
    starts = matrix.period_starts
    last_date = np.where(last >= 0, starts[np.maximum(last, 0)], np.datetime64("NaT"))
    n_items = len(n)
    return pd.DataFrame(
        {
            "item_id": matrix.item_ids,
            "bucket": np.full(n_items, matrix.bucket, dtype=object),
            "periods": n,
            "missing_periods": i[:, _I_MISS],
            "mean": mean,
            "sd": sd,
            "cv": cv,
            "zero_share": zero_share,
            "nonzero_periods": nz,
            "adi": adi,
            "adi_from_start": f[:, _F_ADI0],
            "cv2": cv2,
            "demand_class": cls,
            "forecast_model": np.full(n_items, "", dtype=object),
            "forecast_error_sd": np.full(n_items, np.nan),
            "forecast_bias": np.full(n_items, np.nan),
            "forecast_rmse": np.full(n_items, np.nan),
            "forecast_mean": np.full(n_items, np.nan),
            "forecast_horizon": np.zeros(n_items, dtype=np.int64),
            "trend": trend,
            "trend_slope": f[:, _F_SLOPE],
            "trend_p": trend_p,
            "seasonal": seasonal,
            "seasonal_acf": acf,
            "season_length": np.full(n_items, season, dtype=np.int64),
            "outliers": i[:, _I_OUT],
            "outlier_threshold": f[:, _F_FENCE],
            "periods_since_demand": since,
            "last_demand_date": pd.to_datetime(last_date),
            "tsb_probability": f[:, _F_TSB],
            "obsolete": obsolete,
            "returns_total": matrix.returns,
        },
        columns=list(DEMAND_COLUMNS),
    )


def profile_demand(
    demand: pd.DataFrame,
    bucket: str = "week",
    *,
    missing: pd.DataFrame | None = None,
    item_ids: Iterable[str] | None = None,
    start: object = None,
    end: object = None,
    settings: DemandSettings | None = None,
) -> pd.DataFrame:
    """Demand profile per item from canonical demand rows (see `build_demand_matrix` for the
    bucketing and gap rules and `profile_matrix` for the columns)."""
    matrix = build_demand_matrix(
        demand, bucket, missing=missing, item_ids=item_ids, start=start, end=end
    )
    return profile_matrix(matrix, settings)


def outlier_periods(matrix: DemandMatrix, profile: pd.DataFrame) -> pd.DataFrame:
    """The flagged (not removed) outlier periods: item_id, date, quantity, threshold.

    `profile` is `profile_matrix(matrix)`; a period is an outlier when its quantity exceeds
    the item's `outlier_threshold` (Q3 + k * IQR of its non-zero sizes).
    """
    fence = profile["outlier_threshold"].to_numpy(dtype=np.float64)
    q = matrix.quantity
    with np.errstate(invalid="ignore"):
        rows, cols = np.nonzero(q > np.nan_to_num(fence, nan=np.inf)[:, None])
    return pd.DataFrame(
        {
            "item_id": matrix.item_ids[rows],
            "date": pd.to_datetime(matrix.period_starts[cols]),
            "quantity": q[rows, cols],
            "threshold": fence[rows],
        }
    )


def class_counts(profile: pd.DataFrame, *, complete_only: bool = True) -> dict[str, int]:
    """Number of items per demand class; `complete_only` leaves out items with missing periods
    (their class rests on fewer periods than the rest)."""
    frame = profile[profile["missing_periods"] == 0] if complete_only else profile
    counts = frame["demand_class"].value_counts()
    return {c: int(counts.get(c, 0)) for c in DEMAND_CLASSES if c in counts.index}
