"""Portfolio: totals, the efficient frontier of buffer investment, and a budget allocation.

Totals compare the current buffers with the recommended ones: buffer value (safety stock x
unit cost), cash freed (items above their recommendation) and needed (below), expected annual
holding and stockout cost, and the expected fill rate weighted by demand value
(1 - sum unit_cost x units short / sum unit_cost x units demanded).

Efficient frontier by marginal allocation (docs/decide.md, "Portfolio"): each item's cost curve
under its whole risk gives points (buffer value v_k = s_k x unit cost, expected annual stockout
cost S_k). Its lower convex hull is a chain of segments with falling slopes dS/dv; merging the
segments of all items by slope (steepest first) spends every next unit of money where it removes
the most expected shortage cost. The cumulative sums are the frontier: buffer value against
expected stockout cost and fill rate. `one_policy_curve` gives the same figures when every item
holds the same days of cover, and `positions` the current and recommended points, so the three
can be drawn on one chart. `allocate_budget` stops the merge at a cap on total buffer value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bufferwise.decide.analysis import Analysis

FRONTIER_COLUMNS: tuple[str, ...] = (
    "series",
    "days_of_cover",
    "buffer_value",
    "expected_annual_stockout_cost",
    "expected_annual_holding_cost",
    "expected_fill_rate",
)
UNIFORM_DAYS: tuple[float, ...] = (0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 90)


@dataclass
class _Curves:
    """Full-risk curves of all items on their grids: arrays [n, G]."""

    ss: np.ndarray
    value: np.ndarray
    stockout: np.ndarray
    holding: np.ndarray
    short_value: np.ndarray
    demand_value: np.ndarray  # [n] per year


def _curves(a: Analysis) -> _Curves:
    n = a.n_items
    g = a.settings.grid_points
    ss = np.zeros((n, g))
    so = np.zeros((n, g))
    hold = np.zeros((n, g))
    short = np.zeros((n, g))
    for i in range(n):
        grid, perf = a.full_curve(i)
        ss[i], so[i], hold[i], short[i] = (
            grid,
            perf.stockout_cost,
            perf.holding_cost,
            perf.short_per_year,
        )
    unit = a.risk.unit_cost
    demand_value = a.risk.demand_mean * a.risk.periods_per_year * unit
    return _Curves(ss, ss * unit[:, None], so, hold, short * unit[:, None], demand_value)


def _hull_segments(c: _Curves) -> pd.DataFrame:
    """Per item, the lower-convex-hull segments of (value, stockout cost) from level 0: from
    level k the next vertex is the later level of steepest stockout-cost fall per value (the
    first of equals); stops when no later level lowers the cost. All items step together."""
    v, s = c.value, c.stockout
    n, g = v.shape
    rows = np.arange(n)
    cols = np.arange(g)
    k = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool) if g > 1 else np.zeros(n, dtype=bool)
    parts: list[tuple[np.ndarray, ...]] = []
    while active.any():
        idx = rows[active]
        kk = k[idx]
        dv = v[idx] - v[idx, kk][:, None]
        ds = s[idx, kk][:, None] - s[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.where(dv > 0, ds / dv, -np.inf)
        slope[cols[None, :] <= kk[:, None]] = -np.inf
        to = np.argmax(slope, axis=1)
        best = slope[np.arange(idx.size), to]
        go = np.isfinite(best) & (best > 0)
        parts.append((idx[go], kk[go], to[go], (v[idx, to] - v[idx, kk])[go], best[go]))
        k[idx[go]] = to[go]
        active[idx[~go]] = False
        active &= k < g - 1
    if not parts:
        return pd.DataFrame(
            {
                "item": np.zeros(0, np.int64),
                "from": np.zeros(0, np.int64),
                "to": np.zeros(0, np.int64),
                "dv": np.zeros(0),
                "slope": np.zeros(0),
            }
        )
    frame = pd.DataFrame(
        {
            "item": np.concatenate([p[0] for p in parts]).astype(np.int64),
            "from": np.concatenate([p[1] for p in parts]).astype(np.int64),
            "to": np.concatenate([p[2] for p in parts]).astype(np.int64),
            "dv": np.concatenate([p[3] for p in parts]).astype(float),
            "slope": np.concatenate([p[4] for p in parts]).astype(float),
        }
    )
    # item by item, each item's segments in hull order
    return frame.sort_values(["item", "from"], kind="mergesort").reset_index(drop=True)


def _totals_at(c: _Curves, level_index: np.ndarray) -> tuple[float, float, float, float]:
    idx = np.arange(len(level_index))
    value = float(c.value[idx, level_index].sum())
    so = float(c.stockout[idx, level_index].sum())
    hold = float(c.holding[idx, level_index].sum())
    dv = float(c.demand_value.sum())
    fill = 1.0 - float(c.short_value[idx, level_index].sum()) / dv if dv > 0 else 1.0
    return value, so, hold, fill


def frontier(a: Analysis, max_points: int = 200) -> pd.DataFrame:
    """The efficient frontier (series "frontier"), the uniform-cover curve ("one_policy") and
    the "current" and "recommended" positions, columns FRONTIER_COLUMNS."""
    c = _curves(a)
    seg = _hull_segments(c).sort_values("slope", ascending=False, kind="mergesort")
    level = np.zeros(c.ss.shape[0], dtype=np.int64)
    points = [_totals_at(c, level)]
    steps = seg[["item", "to"]].to_numpy()
    keep = np.unique(np.linspace(0, len(steps), min(max_points, len(steps) + 1)).astype(int))
    done = 0
    for k in keep[keep >= 1]:
        # an item's segments come in hull order (falling slope), so its level only grows
        np.maximum.at(level, steps[done:k, 0], steps[done:k, 1])
        done = k
        points.append(_totals_at(c, level))
    rows = [("frontier", np.nan, *p) for p in points]
    rows += [("one_policy", d, *_uniform(a, c, d)) for d in UNIFORM_DAYS]
    rows += positions(a)
    return pd.DataFrame(
        [
            {
                "series": r[0],
                "days_of_cover": r[1],
                "buffer_value": r[2],
                "expected_annual_stockout_cost": r[3],
                "expected_annual_holding_cost": r[4],
                "expected_fill_rate": r[5],
            }
            for r in rows
        ],
        columns=list(FRONTIER_COLUMNS),
    )


def _interp_rows(x: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """np.interp(x[i], xs[i], ys[i]) for every row i at once (xs rows ascending; clamped at
    the ends as np.interp is)."""
    n, g = xs.shape
    rows = np.arange(n)
    j = np.clip((xs <= x[:, None]).sum(axis=1) - 1, 0, g - 1)
    nxt = np.minimum(j + 1, g - 1)
    x0, x1 = xs[rows, j], xs[rows, nxt]
    y0, y1 = ys[rows, j], ys[rows, nxt]
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = (y1 - y0) / (x1 - x0) * (x - x0) + y0
    out = np.where(x >= xs[:, -1], ys[:, -1], np.where(x < xs[:, 0], ys[:, 0], inner))
    return np.asarray(out, dtype=float)


def _running_total(values: np.ndarray) -> float:
    """Sum added up item by item in order (as a Python loop adds; np.sum adds pairwise)."""
    return float(np.cumsum(values)[-1]) if values.size else 0.0


def _uniform(a: Analysis, c: _Curves, days: float) -> tuple[float, float, float, float]:
    """Totals when every item holds `days` of cover (curves interpolated, clamped at the grid
    ends)."""
    s = days * a.risk.daily_demand()
    value = _running_total(s * a.risk.unit_cost)
    so = _running_total(_interp_rows(s, c.ss, c.stockout))
    hold = _running_total(_interp_rows(s, c.ss, c.holding))
    short = _running_total(_interp_rows(s, c.ss, c.short_value))
    dv = float(c.demand_value.sum())
    return value, so, hold, (1.0 - short / dv if dv > 0 else 1.0)


def positions(a: Analysis) -> list[tuple[str, float, float, float, float, float]]:
    """The current and recommended points (simulated, not interpolated). The current point's
    fill rate is NaN when no item has a current level (nothing to price)."""
    unit = a.risk.unit_cost
    dv = float((a.risk.demand_mean * a.risk.periods_per_year * unit).sum())
    out = []
    for name, k in (("current", None), ("recommended", -1)):
        if k is None:
            ss = np.nan_to_num(a.current_ss, nan=0.0)
            so = np.nan_to_num(a.options.stockout_cost[:, 4])
            hold = np.nan_to_num(a.options.holding_cost[:, 4])
            short = np.nan_to_num(a.options.short_per_year[:, 4])
        else:
            ss = a.recommended_ss
            so, hold, short = (
                a.chosen("stockout_cost"),
                a.chosen("holding_cost"),
                a.chosen("short_per_year"),
            )
        fill = 1.0 - float((short * unit).sum()) / dv if dv > 0 else 1.0
        if k is None and not np.isfinite(a.current_ss).any():
            fill = np.nan  # no current level imported: the fill now is unknown, not 100 %
        out.append(
            (name, np.nan, float((ss * unit).sum()), float(so.sum()), float(hold.sum()), fill)
        )
    return out


def allocate_budget(a: Analysis, budget: float) -> pd.DataFrame:
    """Best safety stock per item under a cap on total buffer value [money]: the frontier's
    merge of hull segments, skipping any that would break the cap (and the later segments of
    that item). Columns: item_id, safety_stock, buffer_value, expected_annual_stockout_cost."""
    if not (budget >= 0):
        raise ValueError(f"budget must be a number >= 0, got {budget!r}")
    c = _curves(a)
    seg = _hull_segments(c).sort_values("slope", ascending=False, kind="mergesort")
    level = np.zeros(c.ss.shape[0], dtype=np.int64)
    blocked = np.zeros(c.ss.shape[0], dtype=bool)
    spent = 0.0
    for item, frm, to, dv in seg[["item", "from", "to", "dv"]].itertuples(index=False):
        if blocked[item] or level[item] != frm:
            continue
        if spent + dv > budget:
            blocked[item] = True
            continue
        spent += dv
        level[item] = to
    idx = np.arange(len(level))
    return pd.DataFrame(
        {
            "item_id": a.risk.item_ids,
            "safety_stock": c.ss[idx, level],
            "buffer_value": c.value[idx, level],
            "expected_annual_stockout_cost": c.stockout[idx, level],
        }
    )


def totals(a: Analysis) -> dict[str, float]:
    """Portfolio totals now vs recommended [money, money / year, share]."""
    unit = a.risk.unit_cost
    cur = np.nan_to_num(a.current_ss, nan=0.0)
    rec = a.recommended_ss
    pos = {p[0]: p for p in positions(a)}
    return {
        "buffer_value_now": float((cur * unit).sum()),
        "buffer_value_recommended": float((rec * unit).sum()),
        "cash_freed": float((np.maximum(cur - rec, 0.0) * unit).sum()),
        "cash_needed": float((np.maximum(rec - cur, 0.0) * unit).sum()),
        "expected_annual_stockout_cost_now": pos["current"][3],
        "expected_annual_stockout_cost_recommended": pos["recommended"][3],
        "expected_annual_holding_cost_now": pos["current"][4],
        "expected_annual_holding_cost_recommended": pos["recommended"][4],
        "expected_fill_rate_now": pos["current"][5],
        "expected_fill_rate_recommended": pos["recommended"][5],
    }


__all__ = ["FRONTIER_COLUMNS", "UNIFORM_DAYS", "allocate_budget", "frontier", "positions", "totals"]
