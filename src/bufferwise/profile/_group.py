"""Group-by helpers on sorted integer codes: deterministic (row order never matters) and
vectorised (no Python loop over groups)."""

from __future__ import annotations

import numpy as np


def sort_within_groups(codes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a value, ordered by (group code, value): codes, values."""
    ok = ~np.isnan(values)
    c, v = codes[ok], values[ok]
    order = np.lexsort((v, c))
    return c[order], v[order]


def group_stats(
    codes: np.ndarray, values: np.ndarray, n_groups: int, probs: tuple[float, ...] = ()
) -> dict[str, np.ndarray]:
    """Per group: count, mean, sd (ddof = 1; NaN below 2 values), and the requested quantiles
    (linear interpolation between order statistics, numpy's default). NaN values are left out."""
    c, v = sort_within_groups(codes, values)
    n = np.bincount(c, minlength=n_groups).astype(np.int64)
    total = np.bincount(c, weights=v, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        dev = v - mean[c]
        ss = np.bincount(c, weights=dev * dev, minlength=n_groups)
        sd = np.where(n >= 2, np.sqrt(ss / np.maximum(n - 1, 1)), np.nan)
    out: dict[str, np.ndarray] = {"n": n, "mean": mean, "sd": sd}
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    has = n > 0
    for p in probs:
        q = np.full(n_groups, np.nan)
        h = p * (n[has] - 1)
        lo = np.floor(h).astype(np.int64)
        hi = np.minimum(lo + 1, n[has] - 1)
        base = starts[has]
        vlo = v[base + lo]
        vhi = v[base + hi]
        q[has] = vlo + (h - lo) * (vhi - vlo)
        out[f"p{round(p * 100):d}"] = q
    return out


def group_sum(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of non-NaN values per group, added in (code, value) order."""
    c, v = sort_within_groups(codes, values)
    return np.bincount(c, weights=v, minlength=n_groups)


def group_count(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Number of non-NaN values per group."""
    ok = ~np.isnan(values)
    return np.bincount(codes[ok], minlength=n_groups).astype(np.int64)


def run_codes(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group codes of rows sorted by `keys` (each run of equal keys is one group), and the
    index of the first row of each group. Falls back to a full sort when the rows are not
    sorted."""
    n = len(keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    heads = np.flatnonzero(change)
    if len(keys) == 1:
        firsts = keys[0][heads]
        if len(firsts) > 1 and not bool(np.all(firsts[1:] > firsts[:-1])):
            ids, codes = np.unique(keys[0], return_inverse=True)
            first_row = np.zeros(len(ids), dtype=np.int64)
            first_row[codes[::-1]] = np.arange(n)[::-1]
            return codes.astype(np.int64), first_row
    return (np.cumsum(change) - 1).astype(np.int64), heads
