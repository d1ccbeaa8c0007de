"""Drift: has an item's demand or a supplier's delivery changed between two windows?

Windows: `before` = dates < split, `after` = dates >= split (for demand, whole buckets: a bucket
belongs to the window holding its first day). `split_for_recent` gives the split that makes the
last N buckets the `after` window.

Demand (per item, vectorised over all items; observed periods only):
    level        Welch's t-test on the per-bucket quantities; effect mean_ratio = after / before
    variability  Brown-Forsythe test (Levene on absolute deviations from each window's
                 median; for two groups F = t² of the pooled t-test); effect sd_ratio
    sigma_ltd_ratio = sqrt(L sd_a² + m_a² sd_L²) / sqrt(L sd_b² + m_b² sd_L²), with the
                 protection interval L and its sd sd_L in buckets (defaults L = 1, sd_L = 0:
                 the ratio of sds)
Supply (per supplier, and per (supplier, item) with at least `min_receipts` in each window;
windows by order_date):
    lead time    Mann-Whitney U (two-sided, asymptotic with tie correction); effects
                 lead_time_ratio (means) and lead_time_sd_ratio
    on-time rate two-proportion z-test (pooled); effect on_time_diff = after - before
    sigma_ltd_ratio = sqrt(L_a cv² + sd_a²) / sqrt(L_b cv² + sd_b²) for demand of 1 unit / day
                 with coefficient of variation `demand_cv` (default 1) over lead times in days
`matters` = some test of the row has p < alpha AND sigma_ltd_ratio lies outside
[tolerance_low, tolerance_high] (default [0.8, 1.25]): the change is real and moves the safety
stock by more than the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from bufferwise.errors import InvalidInput
from bufferwise.profile.demand import DemandMatrix
from bufferwise.profile.supply import SupplySettings, receipt_facts


@dataclass(frozen=True, slots=True)
class DriftSettings:
    """alpha           significance level
    tolerance_low/high  sigma_LTD ratio band inside which a change does not matter
    min_periods     fewer observed buckets in a window: no demand test (NaN p)
    min_receipts    fewer receipts in a window: no supply test (NaN p)
    demand_cv       demand coefficient of variation assumed by the supply sigma_LTD ratio
    """

    alpha: float = 0.05
    tolerance_low: float = 0.8
    tolerance_high: float = 1.25
    min_periods: int = 4
    min_receipts: int = 5
    demand_cv: float = 1.0


def split_for_recent(period_starts: np.ndarray, recent: int) -> np.datetime64:
    """The split date that makes the last `recent` buckets the `after` window."""
    if recent < 1 or recent >= len(period_starts):
        raise InvalidInput(
            f"recent = {recent} buckets leaves no before or after window "
            f"(the calendar has {len(period_starts)} buckets)"
        )
    return np.datetime64(period_starts[-recent], "ns")


_ROW_BLOCK = 4096  # rows of a matrix reduced at a time (row statistics: the same figures)


def _row_median(x: np.ndarray, n: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Median of the non-NaN values of every row of x (NaN for a row without values), given
    the count n of those values per row.

    The same figure as `np.nanmedian(x, axis=1)`, bit for bit: NaN sorts last, so the middle
    value(s) of a row's observed values sit at (n - 1) // 2 and n // 2 of its sorted row, and an
    even count averages the two as (low + high) / 2, which is what numpy does. One sort of each
    block of rows instead of numpy's masked-array sort of the whole matrix (an argsort and a
    fancy-indexed copy); blocks of `chunk` rows bound the sorted copy's memory."""
    rows = x.shape[0]
    med = np.full(rows, np.nan)
    if x.shape[1] == 0:
        return med
    for start in range(0, rows, chunk):
        stop = min(start + chunk, rows)
        s = np.sort(x[start:stop], axis=1)
        c = n[start:stop]
        lo = np.take_along_axis(s, np.maximum((c - 1) // 2, 0)[:, None], axis=1)[:, 0]
        hi = np.take_along_axis(s, (c // 2)[:, None].clip(max=s.shape[1] - 1), axis=1)[:, 0]
        with warnings_off():
            med[start:stop] = np.where(c > 0, (lo + hi) / 2.0, np.nan)
    return med


def _window_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n, mean, var (ddof = 1) per row of x (NaN = absent)."""
    n = (~np.isnan(x)).sum(axis=1)
    with warnings_off():
        mean = np.nanmean(x, axis=1)
        var = np.nanvar(x, axis=1, ddof=1)
    var = np.where(n >= 2, var, np.nan)
    return n, mean, var


class warnings_off:
    """Silence numpy's empty-slice warnings for rows without values."""

    def __enter__(self) -> None:
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)
        self._err = np.seterr(all="ignore")

    def __exit__(self, *exc: object) -> None:
        np.seterr(**self._err)
        self._ctx.__exit__(None, None, None)


def _welch_p(
    n1: np.ndarray, m1: np.ndarray, v1: np.ndarray, n2: np.ndarray, m2: np.ndarray, v2: np.ndarray
) -> np.ndarray:
    with warnings_off():
        a, b = v1 / n1, v2 / n2
        se2 = a + b
        t = (m2 - m1) / np.sqrt(se2)
        df = se2**2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1))
        p = 2.0 * special.stdtr(df, -np.abs(t))
        p = np.where(se2 == 0, np.where(m1 == m2, 1.0, 0.0), p)
    return p


def _pooled_t_p(
    n1: np.ndarray, m1: np.ndarray, v1: np.ndarray, n2: np.ndarray, m2: np.ndarray, v2: np.ndarray
) -> np.ndarray:
    """Two-sided p of the pooled two-sample t-test (= the one-way ANOVA F test, two groups)."""
    with warnings_off():
        df = n1 + n2 - 2
        sp2 = ((n1 - 1) * v1 + (n2 - 1) * v2) / df
        t = (m2 - m1) / np.sqrt(sp2 * (1 / n1 + 1 / n2))
        p = 2.0 * special.stdtr(df, -np.abs(t))
        p = np.where(sp2 == 0, np.where(m1 == m2, 1.0, 0.0), p)
    return p


def demand_drift(
    matrix: DemandMatrix,
    split: object,
    *,
    lead_time_buckets: float | np.ndarray = 1.0,
    lead_time_sd_buckets: float | np.ndarray = 0.0,
    settings: DriftSettings | None = None,
) -> pd.DataFrame:
    """Demand drift per item between buckets before `split` and from `split` on.

    Columns: item_id, periods_before, periods_after, mean_before, mean_after, mean_ratio,
    level_p, sd_before, sd_after, sd_ratio, variability_p, sigma_ltd_ratio, matters.
    """
    st = settings or DriftSettings()
    cut = pd.Timestamp(split).to_datetime64()  # type: ignore[arg-type]
    k = int(np.searchsorted(matrix.period_starts.astype("datetime64[ns]"), cut, side="left"))
    q = matrix.quantity
    # every figure is a statistic of one row: blocks of rows give the same figures with
    # temporaries that stay small (100,000 items x 730 days: 584 MB per full-size copy)
    stats = np.full((12, q.shape[0]), np.nan)
    for start in range(0, q.shape[0], _ROW_BLOCK):
        xb = q[start : start + _ROW_BLOCK, :k]
        xa = q[start : start + _ROW_BLOCK, k:]
        nb_, mb, vb = _window_stats(xb)
        na, ma, va = _window_stats(xa)
        medb, meda = _row_median(xb, nb_), _row_median(xa, na)
        nb2, mdb, vdb = _window_stats(np.abs(xb - medb[:, None]))
        na2, mda, vda = _window_stats(np.abs(xa - meda[:, None]))
        stats[:, start : start + len(xb)] = (nb_, mb, vb, na, ma, va, nb2, mdb, vdb, na2, mda, vda)
    nb_, na, nb2, na2 = (stats[j].astype(np.int64) for j in (0, 3, 6, 9))
    mb, vb, ma, va, mdb, vdb, mda, vda = (stats[j] for j in (1, 2, 4, 5, 7, 8, 10, 11))
    ok = (nb_ >= st.min_periods) & (na >= st.min_periods)
    level_p = np.where(ok, _welch_p(nb_, mb, vb, na, ma, va), np.nan)
    var_p = np.where(ok, _pooled_t_p(nb2, mdb, vdb, na2, mda, vda), np.nan)
    L = np.asarray(lead_time_buckets, dtype=np.float64)
    sL = np.asarray(lead_time_sd_buckets, dtype=np.float64)
    with warnings_off():
        sdb, sda = np.sqrt(vb), np.sqrt(va)
        mean_ratio = ma / mb
        sd_ratio = sda / sdb
        ltd_b = np.sqrt(L * vb + mb**2 * sL**2)
        ltd_a = np.sqrt(L * va + ma**2 * sL**2)
        ltd_ratio = np.where((ltd_b == 0) & (ltd_a == 0), 1.0, ltd_a / ltd_b)
    significant = (np.nan_to_num(level_p, nan=1.0) < st.alpha) | (
        np.nan_to_num(var_p, nan=1.0) < st.alpha
    )
    outside = (ltd_ratio < st.tolerance_low) | (ltd_ratio > st.tolerance_high)
    return pd.DataFrame(
        {
            "item_id": matrix.item_ids,
            "periods_before": nb_,
            "periods_after": na,
            "mean_before": mb,
            "mean_after": ma,
            "mean_ratio": mean_ratio,
            "level_p": level_p,
            "sd_before": sdb,
            "sd_after": sda,
            "sd_ratio": sd_ratio,
            "variability_p": var_p,
            "sigma_ltd_ratio": ltd_ratio,
            "matters": significant & outside & ok,
        }
    )


def _mann_whitney_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided asymptotic Mann-Whitney U p-value with tie and continuity correction.

    The figure of `scipy.stats.mannwhitneyu(x, y, alternative="two-sided",
    method="asymptotic")`, computed the same way (average ranks, U = max(U1, U2), tie term
    sum(t^3 - t), p = 2 ndtr(-z) clipped to [0, 1]) without scipy's per-call input handling,
    which cost about a millisecond a call. Average ranks are multiples of 1/2 and the tie
    counts are whole numbers, so the rank sum and the tie term are exact in any order and the
    p-value equals scipy's bit for bit."""
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    if np.all(x == x[0]) and np.all(y == x[0]):
        return 1.0
    n1, n2 = len(x), len(y)
    _, inverse, counts = np.unique(np.concatenate([x, y]), return_inverse=True, return_counts=True)
    t = counts.astype(np.float64)
    average_rank = np.cumsum(t) - (t - 1.0) / 2.0
    r1 = float(np.sum(average_rank[inverse[:n1]]))
    u1 = r1 - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    n = n1 + n2
    tie_term = float(np.sum(t**3 - t))
    with warnings_off():
        sd = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
        z = (u - n1 * n2 / 2 - 0.5) / sd
    p = special.ndtr(-z) * 2
    return float(np.clip(p, 0.0, 1.0))


def _two_proportion_p(k1: float, n1: float, k2: float, n2: float) -> float:
    if n1 == 0 or n2 == 0:
        return float("nan")
    pooled = (k1 + k2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return 1.0
    z = (k2 / n2 - k1 / n1) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(2.0 * special.ndtr(-abs(z)))


def _group_positions(grouped: pd.api.typing.DataFrameGroupBy) -> list[np.ndarray]:
    """Row positions of each group of a groupby, in the groups' (sorted) order, each in the
    order of the frame's rows (rows whose key is missing belong to no group)."""
    number = grouped.ngroup().to_numpy()
    order = np.argsort(number, kind="stable")
    bounds = np.searchsorted(number[order], np.arange(grouped.ngroups + 1), side="left")
    return [order[bounds[g] : bounds[g + 1]] for g in range(grouped.ngroups)]


def supply_drift(
    receipts: pd.DataFrame,
    split: object,
    *,
    settings: DriftSettings | None = None,
    supply_settings: SupplySettings | None = None,
) -> pd.DataFrame:
    """Supply drift per supplier (item_id "") and per (supplier, item) between receipts
    ordered before `split` and from `split` on.

    Columns: supplier_id, item_id, receipts_before, receipts_after, lead_time_mean_before,
    lead_time_mean_after, lead_time_ratio, lead_time_sd_ratio, lead_time_p, on_time_before,
    on_time_after, on_time_diff, on_time_p, sigma_ltd_ratio, matters.
    """
    st = settings or DriftSettings()
    facts = receipt_facts(receipts, supply_settings)
    cut = pd.Timestamp(split)  # type: ignore[arg-type]
    facts["after"] = facts["order_date"] >= cut
    rows: list[dict[str, object]] = []
    # Every group (each supplier, sorted, then each (supplier, item) pair with enough receipts
    # in both windows, sorted) as the positions of its receipts in `facts`, in their order
    # there; the statistics read plain arrays sliced by those positions.
    by_supplier = facts.groupby("supplier_id", sort=True)
    groups: list[tuple[str, object, np.ndarray]] = [
        ("", key, pos)
        for key, pos in zip(by_supplier.size().index, _group_positions(by_supplier), strict=True)
    ]
    has_lt = facts["lead_time_days"].notna()
    counts = facts[has_lt].groupby(["supplier_id", "item_id", "after"]).size().unstack(fill_value=0)
    enough_pairs = counts[
        (counts.get(False, 0) >= st.min_receipts) & (counts.get(True, 0) >= st.min_receipts)
    ].index
    if len(enough_pairs):
        keys = pd.MultiIndex.from_arrays([facts["supplier_id"], facts["item_id"]])
        inside = np.flatnonzero(keys.isin(enough_pairs))
        by_pair = facts.iloc[inside].groupby(["supplier_id", "item_id"], sort=True)
        groups += [
            ("item", key, inside[pos])
            for key, pos in zip(by_pair.size().index, _group_positions(by_pair), strict=True)
        ]
    after_all = facts["after"].to_numpy()
    lt_all = facts["lead_time_days"].to_numpy()
    ot_all = facts["on_time"].to_numpy()
    for level, key, at in groups:
        pair = key if isinstance(key, tuple) else (key, "")
        sup, item = str(pair[0]), str(pair[1]) if level else ""
        after = after_all[at]
        lt = lt_all[at]
        lt_b = lt[~after]
        lt_a = lt[after]
        lt_b, lt_a = lt_b[~np.isnan(lt_b)], lt_a[~np.isnan(lt_a)]
        if level == "item" and (len(lt_b) < st.min_receipts or len(lt_a) < st.min_receipts):
            continue
        ot = ot_all[at]
        ot_b, ot_a = ot[~after], ot[after]
        ot_b, ot_a = ot_b[~np.isnan(ot_b)], ot_a[~np.isnan(ot_a)]
        enough = len(lt_b) >= st.min_receipts and len(lt_a) >= st.min_receipts
        with warnings_off():
            mb, ma = np.mean(lt_b), np.mean(lt_a)
            sb = np.std(lt_b, ddof=1) if len(lt_b) > 1 else np.nan
            sa = np.std(lt_a, ddof=1) if len(lt_a) > 1 else np.nan
            cv2 = st.demand_cv**2
            ltd_b = np.sqrt(mb * cv2 + sb**2)
            ltd_a = np.sqrt(ma * cv2 + sa**2)
            ratio = 1.0 if ltd_a == ltd_b else ltd_a / ltd_b
        lt_p = _mann_whitney_p(lt_b, lt_a) if enough else float("nan")
        enough_ot = len(ot_b) >= st.min_receipts and len(ot_a) >= st.min_receipts
        ot_p = (
            _two_proportion_p(ot_b.sum(), len(ot_b), ot_a.sum(), len(ot_a))
            if enough_ot
            else float("nan")
        )
        rate_b = float(np.mean(ot_b)) if len(ot_b) else float("nan")
        rate_a = float(np.mean(ot_a)) if len(ot_a) else float("nan")
        significant = bool(np.nan_to_num(lt_p, nan=1.0) < st.alpha) or bool(
            np.nan_to_num(ot_p, nan=1.0) < st.alpha
        )
        outside = bool(ratio < st.tolerance_low or ratio > st.tolerance_high)
        rows.append(
            {
                "supplier_id": sup,
                "item_id": item,
                "receipts_before": int((~after).sum()),
                "receipts_after": int(after.sum()),
                "lead_time_mean_before": mb,
                "lead_time_mean_after": ma,
                "lead_time_ratio": ma / mb if mb else np.nan,
                "lead_time_sd_ratio": sa / sb if sb else np.nan,
                "lead_time_p": lt_p,
                "on_time_before": rate_b,
                "on_time_after": rate_a,
                "on_time_diff": rate_a - rate_b,
                "on_time_p": ot_p,
                "sigma_ltd_ratio": ratio,
                "matters": significant and outside,
            }
        )
    cols = [
        "supplier_id", "item_id", "receipts_before", "receipts_after", "lead_time_mean_before",
        "lead_time_mean_after", "lead_time_ratio", "lead_time_sd_ratio", "lead_time_p",
        "on_time_before", "on_time_after", "on_time_diff", "on_time_p", "sigma_ltd_ratio",
        "matters",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)
