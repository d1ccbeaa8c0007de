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

import numpy as np
import pandas as pd

from bufferwise.errors import Problem

OUTLIER_MADS = 10.0
OUTLIER_MIN_BUCKETS = 8


def _codes(series: pd.Series) -> np.ndarray:
    """Group codes 0..k-1 of an id column, numbered in order of first appearance."""
    return pd.factorize(series)[0].astype(np.int64)


def _row_warnings(
    file: str,
    rows: np.ndarray,
    mask: np.ndarray,
    column: str,
    values: pd.Series,
    code: str,
    expected: list[str] | str,
) -> list[Problem]:
    positions = np.flatnonzero(mask)
    out = []
    for i, p in enumerate(positions):
        exp = expected[i] if isinstance(expected, list) else expected
        out.append(Problem(file, int(rows[p]), column, f"{values.iloc[p]:g}", exp, "warning", code))
    return out


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


def demand_warnings(
    frame: pd.DataFrame, rows: np.ndarray, file: str, sources: dict[str, str]
) -> list[Problem]:
    problems: list[Problem] = []
    if frame.empty:
        return problems
    q = frame["quantity"].to_numpy(dtype=np.float64)
    codes = _codes(frame["item_id"])
    # per-item statistics are k-sized; only the comparison runs over every row
    median_of = pd.Series(q).groupby(codes, sort=True).median().to_numpy()  # codes are 0..k-1
    mad_of = pd.Series(np.abs(q - median_of[codes])).groupby(codes, sort=True).median().to_numpy()
    threshold_of = median_of + OUTLIER_MADS * mad_of
    eligible = (np.bincount(codes) >= OUTLIER_MIN_BUCKETS) & (mad_of > 0)
    threshold_of[~eligible] = np.inf
    outlier = q > threshold_of[codes]
    if outlier.any():
        positions = np.flatnonzero(outlier)
        items = frame["item_id"].iloc[positions].tolist()  # only the flagged rows leave Arrow
        texts = []
        for p, item in zip(positions, items, strict=True):
            k = codes[p]
            texts.append(
                f"is an outlier for item {item} (above median {median_of[k]:g} "
                f"+ {OUTLIER_MADS:g} x MAD {mad_of[k]:g} = {threshold_of[k]:g}); kept, check it"
            )
        problems += _row_warnings(
            file,
            rows,
            outlier,
            sources.get("quantity", "quantity"),
            frame["quantity"],
            "outlier",
            texts,
        )
    returns = frame["returns"].to_numpy(dtype=np.float64)
    has_returns = np.nan_to_num(returns) > 0
    problems += _row_warnings(
        file,
        rows,
        has_returns,
        sources.get("returns", "returns"),
        frame["returns"],
        "returns",
        "units returned in the bucket (kept apart from demand, not netted)",
    )
    problems += gap_warnings(frame, codes, file, sources)
    return problems


def gap_warnings(
    frame: pd.DataFrame, codes: np.ndarray, file: str, sources: dict[str, str]
) -> list[Problem]:
    """One warning per item whose series misses buckets within the span of the whole table
    (the file's first to last bucket): before its first, inside, or after its last bucket."""
    days = frame["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    first_day = int(days.min())
    present = np.flatnonzero(np.bincount(days - first_day))  # the distinct dates, no sorting
    dates = pd.DatetimeIndex((present + first_day).astype("datetime64[D]"))
    bucket = bucket_of(dates.to_numpy())
    by_day = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    by_day[present] = _bucket_index(dates, bucket)
    index = by_day[days - first_day]
    lo, hi = int(index.min()), int(index.max())
    # keys are unique by now (duplicates are rejected), so the row count is the bucket count
    stats = (
        pd.Series(index)
        .groupby(codes, sort=True)
        .agg(["min", "max", "size"])
        .rename(columns={"size": "nunique"})
    )
    before = stats["min"] - lo
    after = hi - stats["max"]
    inside = (stats["max"] - stats["min"] + 1) - stats["nunique"]
    missing = before + after + inside
    gappy = np.flatnonzero(missing.to_numpy() > 0)
    if len(gappy) == 0:
        return []
    # codes number items in order of first appearance, so the running maximum of the codes
    # rises exactly at each item's first row
    first_pos = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
    items = frame["item_id"].iloc[first_pos[stats.index.to_numpy()[gappy]]].tolist()
    span = f"{dates.min().date()} and {dates.max().date()}"
    column = sources.get("date", "date")
    out = []
    for i, item in zip(gappy, items, strict=True):
        parts = [
            f"{int(n)} {where}"
            for n, where in (
                (before.iloc[i], f"before its first {bucket}"),
                (inside.iloc[i], "inside its series"),
                (after.iloc[i], f"after its last {bucket}"),
            )
            if n > 0
        ]
        k = int(missing.iloc[i])
        out.append(
            Problem(
                file,
                None,
                column,
                item,
                f"has {k} missing {bucket}{'' if k == 1 else 's'} between {span} "
                f"({', '.join(parts)}); "
                f"missing {bucket}s are left missing, not counted as zero demand",
                "warning",
                "gap",
            )
        )
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
